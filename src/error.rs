//! The one error that ends a run without a verdict: exit status 2. A check that fails is a
//! finding (exit 1), never an `Error`; an `Error` means airlock could not do what it was
//! asked at all: the options do not fit, an input cannot be opened, the output cannot be
//! written, a file given with an option (`--lock`, `--checksums`) cannot be used.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// Options that do not fit together or that the input cannot satisfy, as one line.
    Usage(String),
    /// `--image` / `--platform` picks nothing in `input` (the message names what it holds).
    Selection { input: String, message: String },
    /// An input path that cannot be opened at all.
    Open { path: PathBuf, source: io::Error },
    /// An input directory that is neither an image layout nor a bundle directory, decided
    /// from its top level alone: nothing in it was read.
    NotALayout(PathBuf),
    /// The output cannot be written: `what` says which part and where.
    Output { what: String, source: io::Error },
    /// Another process is writing the same output, or keeps replacing it.
    OutputBusy(String),
    /// The `--lock` file cannot be used (the message names it and says why).
    Lock { path: PathBuf, message: String },
    /// A `--checksums` list cannot be used (the message names it and says why).
    Checksums { path: PathBuf, message: String },
    /// A `--key` / `--rekor-key` file cannot be read as a PEM public key (the message names
    /// it and says why).
    Key { path: PathBuf, message: String },
}

impl Error {
    /// The output cannot be written: "{what}: {source}".
    pub fn output(what: impl Into<String>, source: io::Error) -> Error {
        Error::Output { what: what.into(), source }
    }

    /// Whether this error is about one input alone (it cannot be opened, or it is a
    /// directory that is not a layout): a run of several inputs reports it as that input's
    /// `input-unreadable` finding and goes on with the others.
    pub fn is_input_unreadable(&self) -> bool {
        matches!(self, Error::Open { .. } | Error::NotALayout(_))
    }

    /// An input that cannot be opened: "cannot open {path}: {source}".
    pub fn open(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Open { path: path.into(), source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::OutputBusy(m) => f.write_str(m),
            Error::Selection { input, message } => write!(f, "{input}: {message}"),
            Error::Open { path, source } => write!(f, "cannot open {}: {source}", path.display()),
            Error::NotALayout(dir) => write!(
                f,
                "not an image layout: {} has no oci-layout, index.json or manifest.json (nor zarf.yaml); nothing in it was read",
                dir.display()
            ),
            Error::Output { what, source } => write!(f, "{what}: {source}"),
            Error::Lock { message, .. } | Error::Checksums { message, .. } | Error::Key { message, .. } => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Open { source, .. } | Error::Output { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_failed() {
        let e = Error::open("/x/app.tar", io::Error::from(io::ErrorKind::NotFound));
        assert!(e.to_string().starts_with("cannot open /x/app.tar: "), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        let e = Error::Selection { input: "app.tar".into(), message: "--image x matches no image".into() };
        assert_eq!(e.to_string(), "app.tar: --image x matches no image");
        let e = Error::output("cannot write the output", io::Error::other("disk full"));
        assert_eq!(e.to_string(), "cannot write the output: disk full");
    }
}
