//! What dfab's test suites share: the test environment that `scripts/test-env` starts ([`TestEnv`]), the builder
//! for end-to-end runs of a fabfile binary ([`Test`]), and a proxy that cuts SSH connections on cue ([`cut_at`]), and output kept in snapshot files ([`assert_snapshot`]).

mod cut;
mod snapshot;
mod test;
mod test_env;
mod turns;

pub use cut::{cut_at, Cut, Cutter};
pub use snapshot::assert_snapshot;
pub use test::{abort, Test};
pub use test_env::{test_env, TestEnv};
