//! End-to-end tests of the `campustwin` binary, one test binary with a module per area.

mod simulate;
mod optimize;
mod support;
