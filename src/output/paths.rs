//! Where convert may write: never onto something that is not a plain file or directory, and
//! never inside its own input (or the input inside the output), which would leave the input
//! with blobs nothing references or make the output swallow its own source.

use crate::error::Error;
use std::path::{Path, PathBuf};

/// Refuses an output that is a symlink, device, FIFO or socket (`--force` or not: replacing
/// `/dev/stdout` or a link's target by a file is never what was meant; `-o -` writes to
/// stdout), and an output and input that contain one another. The same path for both stays
/// allowed with `--force`: the commit is atomic.
pub fn check_output(input: &Path, output: &Path) -> Result<(), Error> {
    if let Ok(meta) = std::fs::symlink_metadata(output) {
        let t = meta.file_type();
        if !(t.is_file() || t.is_dir()) {
            let what = if t.is_symlink() { "a symbolic link" } else { "not a regular file or directory" };
            return Err(Error::Usage(format!(
                "{} is {what}; airlock writes only regular files and directories (use -o - for stdout)",
                output.display()
            )));
        }
    }
    let (Some(input), Some(out)) = (resolved(input), resolved(output)) else {
        return Ok(()); // a path that cannot be resolved fails with its own error later
    };
    if out != input && out.starts_with(&input) {
        return Err(Error::Usage(format!(
            "the output {} is inside the input {}; write it elsewhere",
            out.display(),
            input.display()
        )));
    }
    if out != input && input.starts_with(&out) {
        return Err(Error::Usage(format!(
            "the input {} is inside the output {}; write it elsewhere",
            input.display(),
            out.display()
        )));
    }
    Ok(())
}

/// A path with every symlink resolved; for one that does not exist yet, its parent resolved
/// and its name appended.
pub(crate) fn resolved(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let name = p.file_name()?;
    let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Some(parent.canonicalize().ok()?.join(name))
}
