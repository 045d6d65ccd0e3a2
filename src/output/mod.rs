//! Writing an output: everything goes to a staging directory next to the target, then is
//! committed by one rename (a directory), or packed into a temporary tar and renamed (a tar
//! target), or streamed to stdout (`-o -`). Until the commit nothing exists at the target;
//! if anything fails, or the process is interrupted, the staging area is all that is left,
//! under a hidden name that says what it is (`.NAME.airlock-tmp-PID-START-N`), which a later
//! convert to the same output removes once its owner is provably gone (see `staging`).

pub mod paths;
mod staging;
mod tar_writer;

pub use staging::{Destination, Staging, StagingError};
pub use tar_writer::write_tar;
