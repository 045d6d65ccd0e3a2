//! The archive and layout formats, one module per family, each both read and written.

pub mod output;
