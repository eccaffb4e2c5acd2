//! What dfab's test suites share: the test environment that `scripts/test-env` starts ([`TestEnv`]), the builder
//! for end-to-end runs of a fabfile binary ([`Test`]), a proxy that cuts SSH connections on cue ([`cut_at`]), output
//! kept in snapshot files ([`assert_snapshot`]), the docker command line ([`docker`], [`image_id`]) and a proxy
//! that records the requests reaching an engine ([`RecordingProxy`]), a stand-in engine that misbehaves on cue
//! ([`StandInEngine`]) and a run that watches a program's memory and time ([`run_measured`]).

mod cut;
mod docker;
mod http;
mod measure;
mod recording_proxy;
mod snapshot;
mod stand_in;
mod test;
mod test_env;
mod turns;

pub use cut::{cut_at, Cut, Cutter};
pub use docker::{docker, image_content, image_id, untagged_images};
pub use measure::{run_measured, Measured};
pub use recording_proxy::RecordingProxy;
pub use snapshot::assert_snapshot;
pub use stand_in::{Misbehaviour, StandInEngine};
pub use test::{abort, Test};
pub use test_env::{test_env, Engine, TestEnv};

/// Borrows each of `owned` as a `&str`, for `Test::args`.
pub fn strs(owned: &[String]) -> Vec<&str> {
    owned.iter().map(String::as_str).collect()
}
