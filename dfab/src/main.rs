//! `dfab`: the launcher that works like `fab`. It finds `fabfile.rs` (or a fabfile crate) in the current directory
//! or its parents, or takes `-f PATH`; builds it with cargo into a cache when its files or dfab changed; and runs it
//! with the same arguments. `dfab new DIR` starts a project from the template. Without a fabfile, the built-in
//! `docker.*` and `actions.*` tasks run (maps from `--set docker_maps=…`).

// The launcher prints its few own lines (errors, a new project's next steps, a rejected map) before any runner exists.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cache;
mod errors;
mod locate;
mod new_project;

use std::ffi::OsString;
use std::process::ExitCode;

use errors::LaunchError;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match launch(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("dfab: {error}");
            ExitCode::from(1)
        }
    }
}

/// Runs `dfab new`, the fabfile found for `args`, or the built-in tasks.
fn launch(args: &[OsString]) -> Result<ExitCode, LaunchError> {
    if args.first().is_some_and(|a| a == "new") {
        let [_, dir] = args else {
            return Err(LaunchError::NewUsage);
        };
        new_project::create(std::path::Path::new(dir))?;
        return Ok(ExitCode::SUCCESS);
    }
    // A command line the runner rejects is reported by the runner itself, whichever binary that is.
    let explicit = dfab_core::cli::Options::parse(args.iter().cloned())
        .ok()
        .and_then(|o| o.fabfile);
    let cwd = std::env::current_dir().map_err(|source| LaunchError::Cwd { source })?;
    match locate::find(explicit.as_deref().map(std::path::Path::new), &cwd)? {
        Some(fabfile) => {
            let binary = cache::build(&fabfile)?;
            cache::exec(&binary, args)
        }
        None => Ok(dfab_core::exec::Runner::new()
            .doc("dfab's built-in tasks (no fabfile.rs here or above; -f PATH names one).")
            .run_with(args.iter().cloned())),
    }
}
