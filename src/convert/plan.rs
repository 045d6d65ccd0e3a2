//! What convert writes beside the layer blobs, decided before a byte of it is written: each
//! file's path in the output (the `OutputFormat` names it) and its bytes. `write` is the one
//! loop that puts them in the staging area. (The layer blobs have their own plan, `Job`s,
//! written in parallel by `blobs::Writer` as they are verified; artifacts go along verified
//! copy by copy, `artifacts::copy`.)

use crate::digest::Digest;
use crate::formats::output::{BlobKind, OutputFormat};
use crate::output::Staging;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io;

pub(super) struct Documents<'a> {
    format: OutputFormat,
    /// By path in the output: a blob listed twice (a config two images share) is one file.
    files: BTreeMap<String, Cow<'a, [u8]>>,
}

impl<'a> Documents<'a> {
    pub fn new(format: OutputFormat) -> Self {
        Documents { format, files: BTreeMap::new() }
    }

    /// A config, manifest or index blob: its digest, and its file where the format keeps it.
    pub fn blob(&mut self, kind: BlobKind, bytes: Cow<'a, [u8]>) -> Digest {
        let d = Digest::of(&bytes);
        self.files.entry(self.format.blob_path(kind, &d)).or_insert(bytes);
        d
    }

    /// One of the format's own files (`index.json`, `oci-layout`, `manifest.json`, ...).
    pub fn file(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.insert(name.to_string(), Cow::Owned(bytes));
    }

    /// Writes every planned file.
    pub fn write(self, staging: &Staging) -> io::Result<()> {
        for (path, bytes) in self.files {
            fs::write(staging.file(&path)?, bytes)?;
        }
        Ok(())
    }
}
