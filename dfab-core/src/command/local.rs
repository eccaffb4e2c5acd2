//! `local()`: run a command on this machine through `/bin/sh`, composed as Fabric composes it.

use std::process::{Command, Output, Stdio};

use anyhow::Context;

use std::io::Read;

use super::{CaptureLimit, CommandResult};
use crate::env::{env, Env};
use crate::term::output::{self, Stream};

/// Runs `command` locally with its output going to the terminal (whole prefixed lines in parallel runs).
pub fn local(command: &str) -> anyhow::Result<CommandResult> {
    run_local(command, false)
}

/// Runs `command` locally and captures its output instead of printing it (Fabric's `capture=True`).
///
/// ```
/// use dfab_core::prelude::*;
///
/// let result = local_capture("echo built; echo warning >&2")?;
/// assert_eq!(result.stdout, "built");
/// assert!(!result.failed);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn local_capture(command: &str) -> anyhow::Result<CommandResult> {
    run_local(command, true)
}

/// `cd <lcwd> >/dev/null && <prefixes> && export … && command`; the order Fabric uses for `local`.
pub fn compose_local(env: &Env, command: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !env.lcwd.is_empty() {
        parts.push(format!("cd {} >/dev/null", env.lcwd));
    }
    parts.extend(env.command_prefixes.iter().cloned());
    if let Some(exports) = exports(env) {
        parts.push(exports);
    }
    parts.push(command.to_owned());
    parts.join(" && ")
}

/// `export PATH="$PATH:"dir"" KEY="value"` for the `path()` and `shell_env()` guards, if any is active.
pub fn exports(env: &Env) -> Option<String> {
    let mut pairs = Vec::new();
    if !env.path.is_empty() {
        let value = match env.path_behavior.as_str() {
            "prepend" => format!("\"\"{}\":$PATH\"", env.path),
            "replace" => format!("\"\"{}\"\"", env.path),
            _ => format!("\"$PATH:\"{}\"\"", env.path),
        };
        pairs.push(format!("PATH={value}"));
    }
    for (key, value) in &env.shell_env {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$")
            .replace('`', "\\`");
        pairs.push(format!("{key}=\"{escaped}\""));
    }
    (!pairs.is_empty()).then(|| format!("export {}", pairs.join(" ")))
}

/// Runs `process` to its end with its stdout and stderr collected, each up to `limit` bytes: past that the process is
/// killed and the error is [`CaptureLimit`], at once (what it started may hold the other stream open for long).
fn bounded_output(process: &mut Command, command: &str, limit: u64) -> anyhow::Result<Output> {
    let mut child = process
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (sender, results) = std::sync::mpsc::channel();
    let pipes: [(&'static str, Option<Box<dyn Read + Send>>); 2] = [
        ("stdout", child.stdout.take().map(|p| Box::new(p) as _)),
        ("stderr", child.stderr.take().map(|p| Box::new(p) as _)),
    ];
    for (stream, pipe) in pipes {
        let sender = sender.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let read = match pipe {
                Some(pipe) => pipe
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map(drop),
                None => Ok(()),
            };
            let _ = sender.send((stream, read.map(|()| bytes)));
        });
    }
    drop(sender);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for (stream, read) in results {
        let bytes = match read {
            Ok(bytes) if bytes.len() as u64 > limit => {
                // The reader that is left ends when the pipe closes, on its own.
                let _ = child.kill();
                let _ = child.wait();
                return Err(CaptureLimit {
                    host: "localhost".into(),
                    command: command.to_owned(),
                    stream,
                    limit,
                }
                .into());
            }
            Ok(bytes) => bytes,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e.into());
            }
        };
        match stream {
            "stdout" => stdout = bytes,
            _ => stderr = bytes,
        }
    }
    Ok(Output {
        status: child.wait()?,
        stdout,
        stderr,
    })
}

fn run_local(command: &str, capture: bool) -> anyhow::Result<CommandResult> {
    let env = env();
    let real_command = compose_local(&env, command);
    let shown = if env.output.debug {
        &real_command
    } else {
        command
    };
    if env.output.running {
        output::write(Stream::Stdout, &format!("[localhost] local: {shown}\n"));
    }
    let shell = xshell::Shell::new().context("cannot start a local shell")?;
    let mut process: Command = xshell::cmd!(shell, "/bin/sh -c {real_command}").into();
    // Whole lines only in parallel runs, so the output is collected and printed line by line there.
    let collect = capture || env.linewise || !(env.output.stdout && env.output.stderr);
    let cannot = || format!("cannot run '/bin/sh' for the local command '{command}'");
    let out: Output = if collect {
        bounded_output(&mut process, command, env.capture_limit).map_err(|e| {
            // Past the limit is the command's doing, and says so itself.
            if e.is::<CaptureLimit>() {
                e
            } else {
                e.context(cannot())
            }
        })?
    } else {
        process
            .status()
            .map(|status| Output {
                status,
                stdout: Vec::new(),
                stderr: Vec::new(),
            })
            .with_context(cannot)?
    };

    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if collect && !capture {
        output::command_lines(Stream::Stdout, &stdout);
        output::command_lines(Stream::Stderr, &stderr);
    }
    let return_code = out.status.code().unwrap_or(-1);
    let result = CommandResult {
        stdout: if capture {
            stdout.trim().to_owned()
        } else {
            String::new()
        },
        stderr: if capture {
            stderr.trim().to_owned()
        } else {
            String::new()
        },
        return_code,
        command: command.to_owned(),
        real_command,
        failed: !env.ok_ret_codes.contains(&return_code),
    };
    if result.failed {
        let message = format!(
            "local() encountered an error (return code {return_code}) while executing '{command}'"
        );
        if !env.warn_only {
            anyhow::bail!(message);
        }
        output::warn(&message);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_like_fabric() {
        let mut env = Env::default();
        assert_eq!(compose_local(&env, "ls"), "ls");
        env.lcwd = "/tmp".into();
        env.command_prefixes = vec!["source x".into()];
        env.shell_env.insert("A".into(), "a \"$b\"".into());
        env.path = "/opt/bin".into();
        assert_eq!(
            compose_local(&env, "ls"),
            "cd /tmp >/dev/null && source x && export PATH=\"$PATH:\"/opt/bin\"\" A=\"a \\\"\\$b\\\"\" && ls"
        );
    }

    #[test]
    fn output_past_the_capture_limit_fails_and_stops_the_command() {
        let _limit = crate::env::settings([("capture_limit", 1000)]).unwrap();
        let under = local_capture("head -c 1000 /dev/zero | tr '\\0' x").unwrap();
        assert_eq!(under.stdout, "x".repeat(1000));
        let over = local_capture("head -c 1001 /dev/zero | tr '\\0' x")
            .unwrap_err()
            .to_string();
        assert_eq!(
            over,
            "'head -c 1001 /dev/zero | tr '\\0' x' on localhost printed more than 1000 bytes on stdout: dfab keeps at \
             most capture_limit bytes of each stream of a command for its result (raise capture_limit, or send the \
             output to a file)"
        );
        // Past the limit on stderr while stdout stays open (held by `sleep`): the error comes at once.
        let started = std::time::Instant::now();
        let over = local_capture("head -c 5000 /dev/zero >&2; sleep 5")
            .unwrap_err()
            .to_string();
        assert!(over.contains("more than 1000 bytes on stderr"), "{over}");
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }

    #[test]
    fn captures_status_and_output() {
        let result = local_capture("echo hi; echo err >&2").unwrap();
        assert_eq!(
            (result.stdout.as_str(), result.stderr.as_str()),
            ("hi", "err")
        );
        assert!(result.succeeded());
        let err = local_capture("exit 3").unwrap_err();
        assert_eq!(
            err.to_string(),
            "local() encountered an error (return code 3) while executing 'exit 3'"
        );
        let _w = crate::env::warn_only();
        let failed = local_capture("exit 3").unwrap();
        assert_eq!((failed.return_code, failed.failed), (3, true));
    }
}
