//! convert's output safety: a killed run's staging area is swept only when its owner is
//! provably gone, one writer per output, nothing airlock did not create is touched, no
//! writing through links or onto devices, and no output inside its input (or the reverse).

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_airlock")
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn convert(args: &[&str]) -> (i32, String) {
    let o = Command::new(bin()).arg("convert").args(args).env("NO_COLOR", "1").output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (o.status.code().unwrap(), stderr)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_killed_runs_staging_area_is_swept_by_the_next_run() {
    let d = tempdir();
    let input = slow_docker_archive(d.path());
    let outs = d.path().join("outs");
    std::fs::create_dir(&outs).unwrap();
    let out = outs.join("app.tar");
    let mut child = Command::new(bin())
        .args(["convert", "-q", s(&input), "--to", "oci-archive", "--compression", "zstd", "--level", "19"])
        .args(["-o", s(&out)])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for its staging area, then kill it the way the OOM killer would.
    let start = Instant::now();
    while !entries(&outs).iter().any(|e| e.starts_with(".app.tar.airlock-tmp-")) {
        assert!(start.elapsed() < Duration::from_secs(30), "no staging area appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap().success());
    assert_eq!(child.wait().unwrap().code(), None, "killed by a signal, not finished");
    let left = entries(&outs);
    assert!(left.iter().any(|e| e.starts_with(".app.tar.airlock-tmp-")), "SIGKILL leaves the area: {left:?}");

    // A small convert to the same output removes it, says so, and writes the output.
    let (code, stderr) = convert(&[s(&fixture("docker-save-legacy.tar")), "--to", "oci-archive", "-o", s(&out)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("which is gone"), "one line says what was removed: {stderr}");
    assert_eq!(entries(&outs), ["app.tar"], "only the output is left");
    assert_eq!(verify(&out, &[]).code, 0);
}

#[test]
fn a_staging_area_of_another_host_or_a_live_process_is_left_alone() {
    let d = tempdir();
    let out = d.path().join("app");
    let foreign = d.path().join(".app.airlock-tmp-1-2-0");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join(".airlock-owner"), "host=build-host-7\nboot_id=x\npid=1\nstart=2\n").unwrap();
    // This test process is alive: an area it "owns" must not be removed either.
    let me = std::process::id();
    let stat = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
    let start: u64 = stat[stat.rfind(')').unwrap() + 1..].split_whitespace().nth(19).unwrap().parse().unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap().trim().to_string();
    let live = d.path().join(format!(".app.airlock-tmp-{me}-{start}-0"));
    std::fs::create_dir(&live).unwrap();
    std::fs::write(live.join(".airlock-owner"), format!("host={host}\nboot_id={boot}\npid={me}\nstart={start}\n"))
        .unwrap();
    let no_owner = d.path().join(".app.airlock-tmp-5-6-0");
    std::fs::create_dir(&no_owner).unwrap();

    let (code, stderr) = convert(&["-q", s(&fixture("skopeo-oci-gzip")), "--to", "oci", "-o", s(&out)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(foreign.exists() && live.exists() && no_owner.exists(), "nothing of theirs removed");
    assert!(stderr.contains("build-host-7"), "{stderr}");
    assert!(stderr.contains("still running"), "{stderr}");
    assert!(stderr.contains("no readable owner file"), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.contains("left")).count(), 3, "one line each: {stderr}");
}

#[test]
fn files_airlock_did_not_create_are_never_removed() {
    // `.out.tar` and `.out.old` were once what airlock's temporary names collapsed to.
    let d = tempdir();
    let out = d.path().join("out");
    for name in [".out.tar", ".out.old", ".out.airlock-tmp-1.tar"] {
        std::fs::write(d.path().join(name), b"mine").unwrap();
    }
    let legacy = fixture("docker-save-legacy.tar");
    // The last one would put a tar where a directory is: refused (exit 2), the directory kept.
    for (to, force, want) in [("oci", false, 0), ("oci", true, 0), ("oci-archive", true, 2)] {
        let mut args = vec![s(&legacy), "--to", to, "-o", s(&out), "-q"];
        if force {
            args.push("--force");
        }
        let (code, stderr) = convert(&args);
        assert_eq!(code, want, "{stderr}");
    }
    assert!(out.join("index.json").exists(), "the directory at -o is still there");
    for name in [".out.tar", ".out.old", ".out.airlock-tmp-1.tar"] {
        assert_eq!(std::fs::read(d.path().join(name)).unwrap(), b"mine", "{name} untouched");
    }
    assert_eq!(entries(d.path()), [".out.airlock-tmp-1.tar", ".out.old", ".out.tar", "out"]);
}

#[test]
fn one_writer_per_output() {
    let d = tempdir();
    let out = d.path().join("app.tar");
    // Another convert holds the output's lock.
    let lock = std::fs::File::create(d.path().join(".app.tar.airlock-lock")).unwrap();
    lock.lock().unwrap();
    let (code, stderr) = convert(&[s(&fixture("docker-save-legacy.tar")), "--to", "docker", "-o", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("another airlock convert is writing"), "{stderr}");
    assert!(!out.exists());
    drop(lock);

    // Two real runs at once to one output: one writes, the other is refused; the result is
    // one whole archive, never a mix.
    let input = slow_docker_archive(d.path());
    let spawn = || {
        Command::new(bin())
            .args(["convert", "-q", "--force", s(&input), "--to", "oci-archive", "--compression", "zstd"])
            .args(["-o", s(&out)])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [a.status.code().unwrap(), b.status.code().unwrap()];
    codes.sort();
    assert_eq!(codes, [0, 2], "{} / {}", String::from_utf8_lossy(&a.stderr), String::from_utf8_lossy(&b.stderr));
    assert_eq!(verify(&out, &[]).code, 0);
    let left = entries(d.path());
    assert!(!left.iter().any(|e| e.contains("airlock")), "{left:?}");
}

#[test]
fn links_devices_and_fifos_are_not_outputs() {
    let d = tempdir();
    let target = d.path().join("real.tar");
    std::fs::write(&target, b"keep me").unwrap();
    let link = d.path().join("link.tar");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let fifo = d.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let legacy = fixture("docker-save-legacy.tar");
    for out in [link.as_path(), Path::new("/dev/null"), fifo.as_path()] {
        for force in [false, true] {
            let mut args = vec![s(&legacy), "--to", "docker", "-o", s(out)];
            if force {
                args.push("--force");
            }
            let (code, stderr) = convert(&args);
            assert_eq!(code, 2, "{}: {stderr}", out.display());
            assert!(stderr.contains("airlock writes only regular files and directories"), "{stderr}");
        }
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(Path::new("/dev/null").exists());
}

#[test]
fn output_inside_input_and_input_inside_output_are_refused() {
    let d = tempdir();
    let oci = d.path().join("app-oci");
    copy_dir(&fixture("skopeo-oci-gzip"), &oci);
    let before = entries(&oci.join("blobs/sha256"));
    let inside = oci.join("blobs/x");
    let (code, stderr) = convert(&[s(&oci), "--to", "oci", "-o", s(&inside)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is inside the input"), "{stderr}");
    assert_eq!(entries(&oci.join("blobs/sha256")), before, "the input is untouched");

    // Through a symlink to the input directory.
    let alias = d.path().join("alias");
    std::os::unix::fs::symlink(&oci, &alias).unwrap();
    let (code, stderr) = convert(&[s(&oci), "--to", "oci-archive", "-o", s(&alias.join("x.tar"))]);
    assert_eq!(code, 2, "{stderr}");

    // The mirror case: the input is inside the output.
    let outer = d.path().join("outer");
    std::fs::create_dir(&outer).unwrap();
    let input = outer.join("app.tar");
    std::fs::copy(fixture("docker-save-legacy.tar"), &input).unwrap();
    let (code, stderr) = convert(&[s(&input), "--to", "oci", "--force", "-o", s(&outer)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is inside the output"), "{stderr}");
    assert!(input.exists());
}

#[test]
fn converting_an_input_onto_itself_with_force_is_atomic() {
    let d = tempdir();
    let oci = d.path().join("app-oci");
    copy_dir(&fixture("skopeo-oci-zstd"), &oci);
    let want = verify(&oci, &[]).json["inputs"][0]["images"][0]["config_digest"].clone();
    let (code, stderr) = convert(&[s(&oci), "--to", "oci", "--compression", "gzip", "--force", "-o", s(&oci)]);
    assert_eq!(code, 0, "{stderr}");
    let run = verify(&oci, &[]);
    assert_codes(&run, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.json);
    assert_eq!(run.json["inputs"][0]["images"][0]["config_digest"], want);
    assert_eq!(run.json["inputs"][0]["images"][0]["layers"][0]["compression"], "gzip");
    assert_eq!(entries(d.path()), ["app-oci"], "nothing else left");

    let tar = d.path().join("app.tar");
    std::fs::copy(fixture("docker-save-legacy.tar"), &tar).unwrap();
    let (code, stderr) = convert(&[s(&tar), "--to", "docker", "--force", "-o", s(&tar)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify(&tar, &[]).code, 0);
}

/// Issue 14 (LOW): `convert --force` to a tar target never deletes a directory standing at
/// `-o` (it used to remove it, contents and all, to put the tar there): exit 2, a hint,
/// the directory and its files untouched. Without --force too.
#[test]
fn a_directory_at_a_tar_output_is_never_deleted() {
    let d = tempdir();
    let out = d.path().join("precious");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), b"mine").unwrap();
    for to in ["docker", "oci-archive", "crane"] {
        for extra in [&["--force"][..], &[]] {
            let mut args = vec!["convert", "-q", "--to", to, "-o", out.to_str().unwrap()];
            args.extend_from_slice(extra);
            let input = fixture("docker-save-legacy.tar");
            args.push(input.to_str().unwrap());
            let o = airlock(&args);
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{to} {extra:?}: {stderr}");
            assert!(stderr.contains("is a directory") && stderr.contains("never deletes"), "{to} {extra:?}: {stderr}");
            assert_eq!(std::fs::read(out.join("keep.txt")).unwrap(), b"mine", "{to} {extra:?}");
            assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "{to} {extra:?}");
            assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "{to} {extra:?}: nothing left beside it");
        }
    }
}
