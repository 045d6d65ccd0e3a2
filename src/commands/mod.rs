//! The subcommands, each a thin composition of the flow: open (`crate::input`) → check →
//! report (`crate::report`).

pub mod inspect;
pub mod lock;
pub mod verify;
