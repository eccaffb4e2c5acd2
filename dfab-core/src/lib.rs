//! dfab: Fabric-style deployment tasks in Rust.
//!
//! A fabfile is a binary crate of `#[task]` functions whose `main` hands over to the runner:
//!
//! ```no_run
//! use dfab_core::prelude::*;
//!
//! /// Show the kernel of the local machine.
//! #[task]
//! fn uname() -> anyhow::Result<CommandResult> {
//!     local_capture("uname -s")
//! }
//!
//! dfab_core::main!();
//! ```
//!
//! The runner reads Fabric 1.x's command line (`uname`, `deploy:prod,branch=main`, `-H`, `-P`, `--list`, …).

#![warn(missing_docs)]

extern crate self as dfab_core;

pub mod actions;
pub mod cli;
pub mod command;
pub mod docker;
pub mod env;
pub mod exec;
pub mod input;
pub mod map;
mod pool;
pub mod ssh;
pub mod task;
pub mod tasks;
pub mod term;

#[doc(hidden)]
pub use anyhow;
pub use dfab_macros::task;
#[doc(hidden)]
pub use inventory;

/// Everything a fabfile needs: `use dfab_core::prelude::*;`.
pub mod prelude {
    pub use crate::command::{local, local_capture, CommandResult};
    pub use crate::env::{
        cd, env, env_mut, hide, lcd, path, prefix, quiet, settings, shell_env, show, warn_only,
        Env, Level,
    };
    pub use crate::exec::{execute, Results, Runner};
    /// Quotes a string as one word for the shell, for task arguments that reach `run`, `sudo` or `local`.
    pub use crate::ssh::quote as shell_quote;
    pub use crate::ssh::{
        get, get_with, open_shell, put, put_with, reboot, run, run_with, sudo, sudo_with,
        GetOptions, PutOptions, RunOptions, Transferred,
    };
    pub use crate::task;
    pub use crate::task::{Args, FromArg, Kwargs};
    pub use crate::term::output::{puts, warn};
    pub use crate::term::prompt::{confirm, prompt, prompt_with};
    pub use anyhow::{self, bail, Context as _};
}

/// Runs the fabfile's tasks with the process's command line; a fabfile's `main` is just this.
pub fn main() -> std::process::ExitCode {
    exec::Runner::new().run()
}

/// Defines `fn main` for a fabfile: `dfab_core::main!();` or with the fabfile's docstring for `--list`,
/// `dfab_core::main!("Tasks for the shop backend.");`.
#[macro_export]
macro_rules! main {
    () => {
        fn main() -> ::std::process::ExitCode {
            $crate::main()
        }
    };
    ($doc:expr) => {
        fn main() -> ::std::process::ExitCode {
            $crate::exec::Runner::new().doc($doc).run()
        }
    };
}
