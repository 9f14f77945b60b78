//! One module per subcommand: its arguments and its `run`.

pub mod broker;
pub mod check;
pub mod history;
pub mod ingest;
pub mod optimize;
pub mod sensors;
pub mod simulate;
pub mod site;
pub mod store;

use std::path::{Path, PathBuf};

use models::campus::Campus;
use models::load::{LoadSpec, LoadTable};

use crate::exit::BadInputExt;

/// The campus in `path`, or the shipped example campus.
pub fn load_campus(path: Option<&Path>) -> anyhow::Result<Campus> {
    match path {
        Some(path) => Campus::load(path).bad_input(),
        None => Campus::example().bad_input(),
    }
}

/// The table a `csv:FILE` load names, read (a relative FILE from `base_dir` when given,
/// else from the working directory); `None` for the other load forms.
/// `named_by` says where the table was named (`--load`, `scenario.toml: load.file`), so
/// that a missing or bad table is traced to what referred to it.
pub fn read_load_table(
    load: &LoadSpec,
    base_dir: Option<&Path>,
    named_by: &str,
) -> anyhow::Result<Option<LoadTable>> {
    let LoadSpec::Csv { file } = load else {
        return Ok(None);
    };
    let path = match base_dir {
        Some(dir) if Path::new(file).is_relative() => dir.join(file),
        _ => PathBuf::from(file),
    };
    let table = LoadTable::read(&path).map_err(|e| anyhow::anyhow!("{named_by}: {e}"));
    Ok(Some(table.bad_input()?))
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
