//! One read of one layer blob: the scan `verify` runs (blob sha256, decompression, diffID,
//! entry checks), with the decompressed stream handed, in chunks over a bounded channel, to
//! a second walk on its own thread. Pass 1 walks to build the tree; pass 2 walks to copy the
//! winning entries' bytes into the output. Memory per layer: the channel's few chunks.

use super::rules::Refusal;
use super::tree::{Item, ItemKind, Pos, Tree};
use crate::open::Catalog;
use crate::scan::chunks::ChunkReader;
use crate::scan::{self, BlobScan, Depth, DocumentBudget};
use crate::tarstream::{Entry, EntryKind, Stream, TarReader, name_bytes};
use std::io::{self, Read, Write};
use std::sync::mpsc::{SyncSender, sync_channel};

const CHUNK: usize = 256 * 1024;
const CHUNKS: usize = 4;

/// Reads a layer member once: its scan, and what `walk` made of the decompressed stream.
/// `walk` must read its input to the end (the scan waits on it otherwise).
pub fn read<T: Send>(
    catalog: &Catalog,
    member: &str,
    size: u64,
    progress: &crate::progress::Progress,
    walk: impl FnOnce(&mut dyn Read) -> T + Send,
) -> io::Result<(BlobScan, T)> {
    let input = progress.reader(catalog.open_member(member)?);
    let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(CHUNKS);
    std::thread::scope(|s| {
        let walker = s.spawn(move || {
            let mut r = ChunkReader::new(rx);
            let out = walk(&mut r);
            // Whatever the walk left (it stopped early): the scan must not block.
            let _ = io::copy(&mut r, &mut io::sink());
            out
        });
        let mut sink = Sink { tx: Some(tx), buf: Vec::with_capacity(CHUNK) };
        let scanned = scan::blob::scan_into(input, size, Depth::Full, &DocumentBudget::new(), Some(&mut sink));
        sink.close();
        let walked = walker.join().map_err(|_| io::Error::other("the layer walk failed"))?;
        Ok((scanned?, walked))
    })
}

/// Sends what the scan decompresses to the walk, in chunks.
struct Sink {
    tx: Option<SyncSender<io::Result<Vec<u8>>>>,
    buf: Vec<u8>,
}

impl Sink {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        match &self.tx {
            Some(tx) => tx.send(Ok(full)).map_err(|_| io::Error::other("the layer walk stopped")),
            None => Ok(()),
        }
    }

    fn close(&mut self) {
        let _ = self.send();
        self.tx = None;
    }
}

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = b.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&b[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a walk stopped.
#[derive(Debug)]
pub enum Stop {
    /// An entry the rules refuse: its position, its name as written, and why.
    Refused { entry: u32, name: String, why: Refusal },
    /// Not a tar the reader takes; the scan's findings say what is wrong.
    Tar(String),
}

/// What a layer entry is, for the tree.
pub fn kind_of(e: &Entry) -> ItemKind {
    match (e.kind, e.typeflag) {
        (EntryKind::File, b'7') => ItemKind::Unsupported(b'7'),
        (EntryKind::File, _) => ItemKind::File,
        (EntryKind::Dir, _) => ItemKind::Dir,
        (EntryKind::Symlink, _) => ItemKind::Symlink,
        (EntryKind::Hardlink, _) => ItemKind::Hardlink,
        (EntryKind::Device, b'3') => ItemKind::Char,
        (EntryKind::Device, b'4') => ItemKind::Block,
        (EntryKind::Device, _) => ItemKind::Fifo,
        (_, t) => ItemKind::Unsupported(t),
    }
}

/// Pass 1: applies every entry of layer `layer` to the tree.
pub fn apply(r: &mut dyn Read, tree: &mut Tree, layer: u16) -> Result<u32, Stop> {
    tree.begin_layer(layer);
    let mut tar = TarReader::new(Stream(r));
    let mut entry: u32 = 0;
    while let Some(e) = tar.next_entry().map_err(|e| Stop::Tar(e.to_string()))? {
        let meta = tar.meta();
        let name = name_bytes(&e.path);
        let link = e.link.as_deref().map(name_bytes).unwrap_or_default();
        let item = Item { name: &name, kind: kind_of(&e), link: &link, size: e.size, meta: &meta };
        tree.apply(Pos { layer, entry }, &item).map_err(|why| Stop::Refused { entry, name: e.path.clone(), why })?;
        entry = entry.checked_add(1).ok_or_else(|| Stop::Tar("more than 2^32 entries".into()))?;
    }
    Ok(entry)
}
