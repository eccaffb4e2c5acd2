//! Execution, the top layer: the runner, host lists, and running tasks on hosts serially or in parallel.

mod execute;
mod host_list;
mod runner;

pub use execute::{execute, registry, run, Invocation, Results, LOCAL_ONLY};
pub use host_list::{resolve_hosts, HostList, HostSource, UnknownRoles};
pub use runner::Runner;
