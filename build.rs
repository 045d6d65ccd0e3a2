//! Records the git commit airlock is built from, for `airlock --version`. No network: it
//! asks the local git, and falls back to "unknown" (a source tarball has no .git).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let id = if dirty && commit != "unknown" { format!("{commit}-dirty") } else { commit };
    println!("cargo:rustc-env=AIRLOCK_GIT_COMMIT={id}");
    // Rebuild when HEAD moves: .git/HEAD, and the ref it points to (in a worktree .git is a
    // file naming the real git directory).
    if let Some(dir) = git_dir() {
        let head = dir.join("HEAD");
        println!("cargo:rerun-if-changed={}", head.display());
        if let Ok(text) = std::fs::read_to_string(&head)
            && let Some(r) = text.trim().strip_prefix("ref: ")
        {
            let common = git(&["rev-parse", "--git-common-dir"]).map(PathBuf::from).unwrap_or(dir.clone());
            println!("cargo:rerun-if-changed={}", common.join(r).display());
            println!("cargo:rerun-if-changed={}", common.join("packed-refs").display());
        }
        println!("cargo:rerun-if-changed={}", dir.join("index").display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn git_dir() -> Option<PathBuf> {
    let d = git(&["rev-parse", "--git-dir"])?;
    let p = Path::new(&d);
    Some(if p.is_absolute() { p.to_path_buf() } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(p) })
}
