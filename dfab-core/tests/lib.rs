//! dfab-core's integration tests: one test binary, one module per area. Tests that need the environment of
//! `scripts/test-env` take turns by file (see `dfab-test-support`), as separate binaries did.

// Test helpers may unwrap: a failure there is the test's failure (clippy allows it only in #[test] functions).
#![allow(clippy::unwrap_used)]

mod actions_plan;
mod build;
mod docker_client;
mod docs;
mod layers;
mod macro_errors;
mod map_properties;
mod maps;
mod ssh_reboot;
mod ssh_run;
mod ssh_transfer;
mod task_macro;
