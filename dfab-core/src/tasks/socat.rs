//! `docker.reset_socat`: kill the socat processes dfab left on a host (docker-fabric killed every socat).

use crate::ssh::{run_with, sudo_with, RunOptions};
use crate::task;
use crate::term::output::puts;

/// Kill the socat processes dfab started on the host (marked `-lp dfab-tunnel`), never another tool's or user's
/// tunnel; `use_sudo` for those of dfab runs as other users.
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
    let listing = which("ps -o pid=,stat=,args= -C socat", &quiet)?;
    let pids = live_pids(&listing.stdout);
    if pids.is_empty() {
        puts("No socat processes of dfab found.");
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

/// The pids of `ps -o pid=,stat=,args=` lines of dfab's own socat processes that are not zombies.
fn live_pids(listing: &str) -> Vec<&str> {
    let mark = format!("-lp {}", crate::docker::SOCAT_MARK);
    listing
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (pid, stat) = (words.next()?, words.next()?);
            let args: Vec<&str> = words.collect();
            let ours = args.join(" ").contains(&mark);
            (ours && !stat.starts_with('Z')).then_some(pid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn zombies_and_other_tools_socat_are_left_alone() {
        assert_eq!(
            super::live_pids(
                "  101 S socat -lp dfab-tunnel -b 262144 STDIO UNIX-CONNECT:/s\n  102 Z socat -lp dfab-tunnel\n  \
                 103 Ss socat -lp dfab-tunnel TCP-LISTEN:1\n  104 S socat TCP-LISTEN:8080 TCP:db:5432\n"
            ),
            ["101", "103"]
        );
        assert!(super::live_pids("").is_empty());
    }
}
