//! Step 4 of the flow: scan every blob once, in parallel.

pub mod blob;
pub mod chunks;
pub mod compression;
pub mod layer_entries;
pub mod stored;

pub use blob::{BlobScan, Content, Depth, DocumentBudget, LayerError, TarSummary};
pub use compression::Compression;
