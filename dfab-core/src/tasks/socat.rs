//! `docker.reset_socat`: kill socat processes left on a host, such as docker-fabric's forking tunnels.

use crate::exec::output::puts;
use crate::ssh::{run_with, sudo_with, RunOptions};
use crate::task;

/// Kill the host's socat processes (docker-fabric's tunnels leave them running); `use_sudo` for other users'.
#[task(namespace = "docker")]
fn reset_socat(#[arg(default = false)] use_sudo: bool) -> anyhow::Result<()> {
    let quiet = RunOptions {
        quiet: true,
        pty: Some(false),
        ..RunOptions::default()
    };
    let which = if use_sudo { sudo_with } else { run_with };
    // `ps -C` matches the command name exactly, so this task's own shell is never listed.
    let listing = which("ps -o pid= -C socat", &quiet)?;
    let pids: Vec<&str> = listing.stdout.split_whitespace().collect();
    if pids.is_empty() {
        puts("No socat processes found.");
        return Ok(());
    }
    puts(&format!(
        "Removing process(es) with id(s) {}.",
        pids.join(", ")
    ));
    let killed = which(&format!("kill {}", pids.join(" ")), &quiet)?;
    if killed.failed {
        anyhow::bail!(
            "could not kill socat process(es) {}: {}",
            pids.join(", "),
            killed.stderr.trim().lines().last().unwrap_or("kill failed")
        );
    }
    Ok(())
}
