//! One module per subcommand: its arguments and its `run`.

pub mod broker;
pub mod check;
pub mod history;
pub mod ingest;
pub mod optimize;
pub mod sensors;
pub mod simulate;
pub mod store;

use std::path::Path;

use models::campus::Campus;

use crate::exit::BadInputExt;

/// The campus in `path`, or the shipped example campus.
pub fn load_campus(path: Option<&Path>) -> anyhow::Result<Campus> {
    match path {
        Some(path) => Campus::load(path).bad_input(),
        None => Campus::example().bad_input(),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
