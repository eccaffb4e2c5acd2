//! `open_shell()` and `reboot()`.

use std::io::{Read, Write};
use std::time::Duration;

use anyhow::anyhow;

use super::cache::{connection, disconnect};
use super::run::{current_host, run_with, sudo_with, RunOptions};
use crate::env::{env_mut, hide, Level};

/// An interactive shell on the current host, wired to this terminal, optionally starting with `command`.
pub fn open_shell(command: Option<&str>) -> anyhow::Result<()> {
    let host = current_host()?;
    let opened = connection(&host)?.shell()?;
    if let Some(command) = command {
        (&opened.stream).write_all(format!("{command}\n").as_bytes())?;
    }
    let mut to_remote = opened.stream.try_clone()?;
    // The thread ends with the process when stdin never closes; the shell's end is what finishes the call.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut to_remote);
        let _ = to_remote.shutdown(std::net::Shutdown::Write);
    });
    let mut buffer = [0u8; 16 * 1024];
    let mut stdout = std::io::stdout();
    loop {
        let n = (&opened.stream).read(&mut buffer)?;
        if n == 0 {
            break;
        }
        stdout.write_all(&buffer[..n])?;
        stdout.flush()?;
    }
    let exit = opened
        .done
        .recv()
        .map_err(|_| anyhow!("the shell on {host} ended abruptly"))?;
    match exit.error {
        Some(error) => Err(anyhow!(error)),
        None => Ok(()),
    }
}

/// Reboots the current host with `sudo reboot` and reconnects, trying for up to `wait` seconds.
pub fn reboot(wait: u64) -> anyhow::Result<()> {
    reboot_with(wait, "reboot", true)
}

/// `reboot()` with another command, with or without sudo.
pub fn reboot_with(wait: u64, command: &str, use_sudo: bool) -> anyhow::Result<()> {
    let host = current_host()?;
    {
        let _hidden = hide(&[Level::Running]);
        let options = RunOptions {
            warn_only: true,
            ..RunOptions::default()
        };
        // The connection usually drops while the command runs; that is the point.
        let _ = if use_sudo {
            sudo_with(command, &options)
        } else {
            run_with(command, &options)
        };
    }
    disconnect(&host);
    std::thread::sleep(Duration::from_secs(5));
    let attempts = u32::try_from(wait.div_ceil(5).max(1)).unwrap_or(u32::MAX);
    let saved = env_mut(|e| {
        let saved = (e.timeout, e.connection_attempts);
        e.timeout = 5;
        e.connection_attempts = attempts;
        saved
    });
    let reconnected = connection(&host).map(drop);
    env_mut(|e| (e.timeout, e.connection_attempts) = saved);
    Ok(reconnected?)
}
