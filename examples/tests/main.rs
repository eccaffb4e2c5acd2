//! End-to-end tests of the example fabfile binary: one test binary, one module per area. Tests that need the
//! environment of `scripts/test-env` take turns by file (see `dfab-test-support`), as separate binaries did.

// Test helpers may unwrap: a failure there is the test's failure (clippy allows it only in #[test] functions).
#![allow(clippy::unwrap_used)]

mod actions_cli;
mod bounds_cli;
mod cli;
mod docker_cli;
mod push_cli;
mod ssh_cli;

/// A run of the example fabfile binary.
fn dfab() -> dfab_test_support::Test {
    dfab_test_support::Test::of(env!("CARGO_BIN_EXE_dfab-example"))
}
