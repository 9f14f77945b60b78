//! The committed fuzz inputs, replayed on stable: every file of `fuzz/corpus/<target>/`
//! and `fuzz/artifacts/<target>/` through its target's body.

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

use super::{Body, TARGETS};

/// The `fuzz/` folder.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files in `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// What a panic said.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Replays every file of `corpus/<target>/` and `artifacts/<target>/` under `dir`
/// through its target's body, each in `catch_unwind`; returns how many inputs ran and
/// every failure, by file (a target without a corpus is one).
fn replay(dir: &Path, targets: &[(&str, Body)]) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut inputs = 0;
    for &(name, body) in targets {
        let corpus = files(&dir.join("corpus").join(name));
        if corpus.is_empty() {
            failures.push(format!("corpus/{name}/: missing or empty"));
        }
        let artifacts = files(&dir.join("artifacts").join(name));
        for path in corpus.iter().chain(&artifacts) {
            let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            inputs += 1;
            if let Err(payload) = panic::catch_unwind(|| body(&data)) {
                let relative = path.strip_prefix(dir).unwrap_or(path);
                failures.push(format!("{}: {}", relative.display(), panic_message(&*payload)));
            }
        }
    }
    (inputs, failures)
}

/// Every corpus and artifact file goes through its target without a panic; a failure
/// names the file, and one run lists every failure. A target without a corpus fails too,
/// so that the replay cannot pass by testing nothing.
#[test]
fn every_committed_input_replays_without_a_failure() {
    let (inputs, failures) = replay(&fuzz_dir(), TARGETS);
    assert!(
        failures.is_empty(),
        "{} failures ({inputs} inputs replayed) in fuzz/:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The replay itself: a panicking input is reported by its file, beside the others, and
/// a missing corpus is reported rather than passed.
#[test]
fn the_replay_names_each_failing_file_and_each_missing_corpus() {
    let dir = std::env::temp_dir().join(format!("fuzz-replay-{}", std::process::id()));
    let corpus = dir.join("corpus/picky");
    fs::create_dir_all(&corpus).unwrap_or_else(|e| panic!("{}: {e}", corpus.display()));
    for (name, data) in [("good", &b"ok"[..]), ("bad-1", b"boom"), ("bad-2", b"boom!")] {
        fs::write(corpus.join(name), data).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    fn picky(data: &[u8]) {
        assert!(!data.starts_with(b"boom"), "it went boom");
    }
    let (inputs, failures) = replay(&dir, &[("picky", picky), ("absent", picky)]);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(inputs, 3);
    assert_eq!(
        failures,
        [
            "corpus/picky/bad-1: it went boom",
            "corpus/picky/bad-2: it went boom",
            "corpus/absent/: missing or empty",
        ]
    );
}

/// Every target has its `fuzz_targets/<name>.rs` binary, and every binary is a target
/// here (so that `run.sh` and the replay cover the same set).
#[test]
fn every_target_has_a_fuzz_binary_and_back() {
    let mut binaries: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .collect();
    binaries.sort();
    let mut targets: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    targets.sort();
    assert_eq!(binaries, targets);
}
