//! Remote operations over ssh2: cached connections served by one I/O thread each, `run`, `sudo`, `put`, `get`.

mod agent_forward;
mod auth;
mod cache;
mod connection;
mod errors;
mod host_string;
mod io_thread;
mod known_hosts;
mod link;
mod output_stream;
mod run;
mod shell;
mod target;
mod transfer;

pub use cache::{connection, disconnect, disconnect_all, release};
pub use connection::Connection;
pub use errors::SshError;
pub use host_string::{HostString, HostStringError};
pub use io_thread::{Exit, Opened};
pub use run::{compose_remote, run, run_with, sudo, sudo_with, RunOptions};
pub use shell::{open_shell, reboot, reboot_with};
pub use target::Target;
pub(crate) use transfer::collect_stderr;
pub use transfer::{get, get_with, put, put_with, quote, GetOptions, PutOptions, Transferred};
