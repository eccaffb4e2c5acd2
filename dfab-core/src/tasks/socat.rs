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
    // `ps -C` matches the command name exactly, so this task's own shell is never listed; zombies (state Z) are
    // already dead and only wait for their parent.
    let listing = which("ps -o pid=,stat= -C socat", &quiet)?;
    let pids = live_pids(&listing.stdout);
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

/// The pids of `ps -o pid=,stat=` lines whose process is not a zombie.
fn live_pids(listing: &str) -> Vec<&str> {
    listing
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some(pid), Some(stat)) if !stat.starts_with('Z') => Some(pid),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn zombies_are_left_alone() {
        assert_eq!(
            super::live_pids("  101 S\n  102 Z\n  103 Ss\n"),
            ["101", "103"]
        );
        assert!(super::live_pids("").is_empty());
    }
}
