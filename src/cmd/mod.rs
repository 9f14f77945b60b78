//! One module per subcommand: its arguments and its `run`.

pub mod check;
pub mod simulate;
pub mod optimize;
