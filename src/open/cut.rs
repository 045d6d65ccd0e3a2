//! A tar that ends early (a copy cut short: `head -c`, a transfer that stopped, a full
//! disk): the finding names the member being read when the bytes ran out, the bytes its data
//! needed and the bytes present, or the header the cut fell in. Every member before it was
//! read whole and is verified as usual.
//!
//! What the runtimes do with the same bytes (measured, README "Inputs"): Go's archive/tar
//! returns `io.ErrUnexpectedEOF` from the overrunning entry's `Read` (or from `Next` inside a
//! header), and `docker load`, `ctr images import` and `podman load` fail on it and load no
//! image of the archive, not even those read whole before the cut.

use crate::finding::{Code, Finding};
use crate::tarstream::Entry;

/// The last entry whose header was read: where its data starts, and how long it is.
#[derive(Clone, Debug)]
pub struct Last {
    pub path: String,
    pub data_offset: u64,
    pub size: u64,
}

impl Last {
    /// `e`, named `path` (the member's normalised name where it has one).
    pub fn new(path: &str, e: &Entry) -> Last {
        Last { path: path.to_string(), data_offset: e.data_offset, size: e.size }
    }
}

/// `what` ("the tar archive", "the zstd-compressed tar") ends at byte `cut` of the tar,
/// after the header of `last` (if any). `how` says more about the stream, or is empty.
pub fn truncated(what: &str, last: Option<&Last>, cut: u64, how: &str) -> Finding {
    match last {
        Some(l) if cut < l.data_offset.saturating_add(l.size) => {
            let present = cut.saturating_sub(l.data_offset);
            Finding::new(
                Code::ArchiveCorrupt,
                format!(
                    "{what} is cut short{how}: member {} needs {} bytes of data and {} are present (the tar ends at byte {cut}, {} bytes short); every member before it was read whole",
                    l.path,
                    l.size,
                    present,
                    l.size - present
                ),
            )
            .member(l.path.clone())
        }
        Some(l) => Finding::new(
            Code::ArchiveCorrupt,
            format!(
                "{what} is cut short{how}: it ends at byte {cut} of the tar, inside the tar header after member {} (read whole, as was every member before it)",
                l.path
            ),
        ),
        None => Finding::new(
            Code::ArchiveCorrupt,
            format!(
                "{what} is cut short{how}: it ends at byte {cut} of the tar, inside its first header; no member could be read"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_member_the_bytes_it_needed_and_those_present() {
        let l = Last { path: "abc/layer.tar".into(), data_offset: 1536, size: 10240 };
        let f = truncated("the tar archive", Some(&l), 2048, "");
        assert_eq!(
            (f.message.as_str(), f.member.as_deref()),
            (
                "the tar archive is cut short: member abc/layer.tar needs 10240 bytes of data and 512 are present (the tar ends at byte 2048, 9728 bytes short); every member before it was read whole",
                Some("abc/layer.tar")
            )
        );
        let f = truncated("the tar archive", Some(&l), 11800, "");
        assert_eq!(
            f.message,
            "the tar archive is cut short: it ends at byte 11800 of the tar, inside the tar header after member abc/layer.tar (read whole, as was every member before it)"
        );
        let f = truncated("the zstd-compressed tar", None, 0, " (the zstd stream ends after 1872 bytes)");
        assert_eq!(
            f.message,
            "the zstd-compressed tar is cut short (the zstd stream ends after 1872 bytes): it ends at byte 0 of the tar, inside its first header; no member could be read"
        );
    }
}
