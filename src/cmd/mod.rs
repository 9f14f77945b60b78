//! One module per subcommand: its arguments and its `run`.

pub mod check;
pub mod history;
pub mod ingest;
pub mod optimize;
pub mod simulate;
pub mod store;
