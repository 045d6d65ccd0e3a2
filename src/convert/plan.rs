//! What convert writes beside the layer blobs, decided before a byte of it is placed: each
//! file's path in the output (the `OutputFormat` names it) and where its bytes come from:
//! a document's bytes, or an artifact's blob already copied and hashed into the staging area
//! (`artifacts::stage_all`). `write` is the one loop that puts them in place. (The layer
//! blobs have their own plan, `Job`s, written in parallel by `blobs::Writer` as they are
//! verified.)

use crate::digest::Digest;
use crate::formats::output::{BlobKind, OutputFormat};
use crate::output::Staging;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::PathBuf;

/// Where a planned file's bytes come from.
enum Source<'a> {
    Bytes(Cow<'a, [u8]>),
    /// A copy in the staging area, moved into place.
    Staged(PathBuf),
}

pub(super) struct Documents<'a> {
    format: OutputFormat,
    /// By path in the output: a blob listed twice (a config two images share) is one file.
    files: BTreeMap<String, Source<'a>>,
}

impl<'a> Documents<'a> {
    pub fn new(format: OutputFormat) -> Self {
        Documents { format, files: BTreeMap::new() }
    }

    /// A config, manifest or index blob: its digest, and its file where the format keeps it.
    pub fn blob(&mut self, kind: BlobKind, bytes: Cow<'a, [u8]>) -> Digest {
        let d = Digest::of(&bytes);
        self.files.entry(self.format.blob_path(kind, &d)).or_insert(Source::Bytes(bytes));
        d
    }

    /// One of the format's own files (`index.json`, `oci-layout`, `manifest.json`, ...).
    pub fn file(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.insert(name.to_string(), Source::Bytes(Cow::Owned(bytes)));
    }

    /// A blob copied and hashed already (an artifact's), at `path` in the output.
    pub fn staged(&mut self, path: &str, copy: PathBuf) {
        self.files.entry(path.to_string()).or_insert(Source::Staged(copy));
    }

    /// Writes every planned file.
    pub fn write(self, staging: &Staging) -> io::Result<()> {
        for (path, source) in self.files {
            match source {
                Source::Bytes(bytes) => fs::write(staging.file(&path)?, bytes)?,
                Source::Staged(copy) => fs::rename(copy, staging.file(&path)?)?,
            }
        }
        Ok(())
    }
}
