//! Execution: host strings and lists, the runner, serial and parallel execution, output and `local()`.

mod command_result;
mod execute;
mod host_list;
mod host_string;
mod local;
pub mod output;
pub mod prompt;
mod runner;

pub use command_result::CommandResult;
pub(crate) use execute::is_unreachable;
pub use execute::{execute, registry, run, Invocation, Results, LOCAL_ONLY};
pub use host_list::{resolve_hosts, HostList, HostSource, UnknownRoles};
pub use host_string::{HostString, HostStringError};
pub use local::{compose_local, exports, local, local_capture};
pub use runner::Runner;
