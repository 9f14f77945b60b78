//! End-to-end tests of the `campustwin` binary, one test binary with a module per area.

mod dashboard;
mod grafana;
mod ingest;
mod optimize;
mod serve;
mod simulate;
mod site;
mod storage;
mod support;
