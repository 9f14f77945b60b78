//! End-to-end tests of the `campustwin` binary, one test binary with a module per area.

mod ingest;
mod optimize;
mod serve;
mod simulate;
mod support;
