//! Flag combinations that would silently do nothing, refused before any work with a hint of
//! what does what the user meant (exit 2).

use crate::formats::output::{CompressionChoice, OutputFormat};
use crate::scan::Compression;
use std::path::{Path, PathBuf};

/// `--to`, `--compression` and `--level` together: crane archives hold gzip layers only, and a
/// level needs a compression that re-compresses (`keep` mostly copies layers as they are).
pub fn convert_compression(to: OutputFormat, compression: CompressionChoice, level: Option<i32>) -> Result<(), String> {
    let asked = match compression {
        CompressionChoice::Zstd => Some((Compression::Zstd, "zstd")),
        CompressionChoice::None => Some((Compression::None, "none")),
        CompressionChoice::Gzip | CompressionChoice::Keep => None,
    };
    if let Some((_, c)) = asked.filter(|(want, _)| !to.holds_layers(*want)) {
        return Err(format!(
            "--compression {c}: {} archives hold gzip layers only; use --compression gzip (or keep), or --to oci-archive for {c} layers",
            to.as_str()
        ));
    }
    match (compression, level) {
        (CompressionChoice::Keep | CompressionChoice::None, Some(n)) => {
            let c = if compression == CompressionChoice::Keep { "keep (the default)" } else { "none" };
            Err(format!(
                "--level {n} does nothing with --compression {c}; give --compression gzip (levels 0-12) or zstd (1-19)"
            ))
        }
        (CompressionChoice::Gzip, Some(n)) if n > 12 => {
            Err(format!("--level {n}: gzip levels are 0-12 (zstd's are 1-19)"))
        }
        (CompressionChoice::Zstd, Some(n)) if n < 1 => {
            Err(format!("--level {n}: zstd levels are 1-19 (gzip's are 0-12)"))
        }
        _ => Ok(()),
    }
}

/// skopeo's `TRANSPORT:PATH` (`oci:dir`, `oci-archive:x.tar`, `docker-archive:x.tar`): airlock
/// takes the format from `--to` and `-o` is a path, so `-o oci:foo` would make a directory
/// named `oci:foo`. `./oci:foo` writes that name on purpose.
pub fn output_path(output: &Path) -> Result<(), String> {
    let Some(s) = output.to_str() else { return Ok(()) };
    const TRANSPORTS: [(&str, Option<&str>); 8] = [
        ("oci:", Some("oci")),
        ("oci-archive:", Some("oci-archive")),
        ("docker-archive:", Some("docker")),
        ("docker://", None),
        ("docker-daemon:", None),
        ("containers-storage:", None),
        ("dir:", None),
        ("sif:", None),
    ];
    let Some((prefix, to)) = TRANSPORTS.iter().find(|(p, _)| s.starts_with(p)) else { return Ok(()) };
    let path = &s[prefix.len()..];
    let hint = match to {
        Some(t) => format!("airlock takes the format from --to: use --to {t} -o {path}"),
        None => "airlock writes files only, never to a registry, daemon or store".to_string(),
    };
    Err(format!(
        "-o {s}: `{prefix}` is skopeo's transport syntax; {hint} (-o ./{s} names a path with a colon on purpose)"
    ))
}

/// `-` among the inputs is standard input (`cat app.tar | airlock verify -`), read as
/// `/dev/stdin`: streamed once, front to back. It can be given once, and not with
/// `--checksums`, which would hash the inputs a second time beside the verify.
pub fn stdin_input(inputs: &mut [PathBuf], checksums: bool) -> Result<(), String> {
    let dashes = inputs.iter().filter(|p| p.as_os_str() == "-").count();
    if dashes == 0 {
        return Ok(());
    }
    if dashes > 1 {
        return Err("- (standard input) is given more than once; it can be read once".into());
    }
    if checksums {
        return Err(
            "--checksums hashes each input file beside the verify, and standard input can be read once: give the file"
                .into(),
        );
    }
    for p in inputs.iter_mut().filter(|p| p.as_os_str() == "-") {
        *p = PathBuf::from("/dev/stdin");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_does_nothing() {
        use CompressionChoice::{Gzip, Keep, None as Plain, Zstd};
        assert!(convert_compression(OutputFormat::Crane, Zstd, None).unwrap_err().contains("gzip layers only"));
        assert!(convert_compression(OutputFormat::Crane, Plain, None).is_err());
        assert_eq!(convert_compression(OutputFormat::Crane, Gzip, Some(9)), Ok(()));
        assert_eq!(convert_compression(OutputFormat::Crane, Keep, None), Ok(()));
        assert!(
            convert_compression(OutputFormat::Oci, Keep, Some(9)).unwrap_err().starts_with("--level 9 does nothing")
        );
        assert!(convert_compression(OutputFormat::Oci, Plain, Some(1)).is_err());
        assert!(convert_compression(OutputFormat::Oci, Gzip, Some(13)).unwrap_err().contains("gzip levels are 0-12"));
        assert_eq!(convert_compression(OutputFormat::Oci, Gzip, Some(12)), Ok(()));
        assert!(convert_compression(OutputFormat::Oci, Zstd, Some(0)).unwrap_err().contains("zstd levels are 1-19"));
        assert_eq!(convert_compression(OutputFormat::Oci, Zstd, Some(19)), Ok(()));
        assert_eq!(convert_compression(OutputFormat::Docker, Gzip, Some(1)), Ok(()));
    }

    #[test]
    fn stdin() {
        let mut v = vec![PathBuf::from("a.tar"), PathBuf::from("-")];
        assert_eq!(stdin_input(&mut v, false), Ok(()));
        assert_eq!(v, [PathBuf::from("a.tar"), PathBuf::from("/dev/stdin")]);
        assert!(stdin_input(&mut [PathBuf::from("-"), PathBuf::from("-")], false).is_err());
        assert!(stdin_input(&mut [PathBuf::from("-")], true).unwrap_err().starts_with("--checksums"));
        assert_eq!(stdin_input(&mut [PathBuf::from("a")], true), Ok(()));
    }

    #[test]
    fn transport_prefixes() {
        let e = output_path(Path::new("oci:foo")).unwrap_err();
        assert_eq!(
            e,
            "-o oci:foo: `oci:` is skopeo's transport syntax; airlock takes the format from --to: use --to oci -o foo (-o ./oci:foo names a path with a colon on purpose)"
        );
        assert!(output_path(Path::new("docker-archive:a.tar")).unwrap_err().contains("--to docker -o a.tar"));
        assert!(output_path(Path::new("docker://x/y")).unwrap_err().contains("never to a registry"));
        for ok in ["./oci:foo", "foo", "/tmp/oci:x", "-", "ocifoo"] {
            assert_eq!(output_path(Path::new(ok)), Ok(()), "{ok}");
        }
    }
}
