//! `run()` and `sudo()`: Fabric's command composition, streamed output, sudo passwords and failure handling.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};

use super::cache::connection;
use super::output_stream::LineStream;
use super::HostString;
use crate::command::{exports, CommandResult};
use crate::env::{env, env_mut, Env, Level};
use crate::term::output::{self, host_prefix, Stream};
use crate::term::prompt::{refusal, secret};

/// Fabric's keyword arguments of `run()` and `sudo()`; `Default` gives Fabric's defaults.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Wrap the command in `env.shell` (default true).
    pub shell: Option<bool>,
    /// Request a pseudo-terminal (default `env.always_use_pty`).
    pub pty: Option<bool>,
    /// Merge stderr into stdout (default `env.combine_stderr`).
    pub combine_stderr: Option<bool>,
    /// Hide all output and warn instead of aborting.
    pub quiet: bool,
    /// Warn instead of aborting on failure.
    pub warn_only: bool,
    /// Seconds after which the command is abandoned (default `env.command_timeout`).
    pub timeout: Option<u64>,
    /// Escape `"`, `$` and backquotes when wrapping (default `env.shell_escape`).
    pub shell_escape: Option<bool>,
    /// `sudo` only: run as this user (default `env.sudo_user`); numeric ids become `#1001`.
    pub user: Option<String>,
    /// `sudo` only: run with this group.
    pub group: Option<String>,
    /// Bytes sent to the command's standard input, which is then closed.
    pub stdin: Option<Vec<u8>>,
}

/// Runs a shell command on the current host.
///
/// ```no_run
/// use dfab_core::prelude::*;
///
/// /// Restart the app on every host: `restart -H web1,web2`.
/// #[task]
/// fn restart() -> anyhow::Result<()> {
///     let _dir = cd("/srv/app");
///     let status = run("git rev-parse --short HEAD")?;
///     puts(&format!("restarting at {}", status.stdout));
///     sudo("systemctl restart app")?;
///     Ok(())
/// }
/// # dfab_core::main!();
/// ```
pub fn run(command: &str) -> anyhow::Result<CommandResult> {
    run_with(command, &RunOptions::default())
}

/// Runs a shell command on the current host through sudo.
pub fn sudo(command: &str) -> anyhow::Result<CommandResult> {
    sudo_with(command, &RunOptions::default())
}

/// `run()` with options.
pub fn run_with(command: &str, options: &RunOptions) -> anyhow::Result<CommandResult> {
    execute_remote(command, options, false)
}

/// `sudo()` with options.
pub fn sudo_with(command: &str, options: &RunOptions) -> anyhow::Result<CommandResult> {
    execute_remote(command, options, true)
}

/// Escapes what a double-quoted shell string would interpret: backslashes, `"`, `$` and backquotes. Fabric left
/// backslashes alone, so escaped characters in commands (and `shell_env` values) reached the remote shell mangled.
fn shell_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$")
        .replace('`', "\\`")
}

/// The command as sent, composed as Fabric composes it: exports, `cd`, prefixes, shell wrapper, sudo prefix.
pub fn compose_remote(env: &Env, command: &str, options: &RunOptions, sudo: bool) -> String {
    let mut prefixes: Vec<String> = Vec::new();
    if !env.cwd.is_empty() {
        prefixes.push(format!("cd {} >/dev/null", env.cwd));
    }
    prefixes.extend(env.command_prefixes.iter().cloned());
    let mut body = String::new();
    if let Some(exports) = exports(env) {
        body.push_str(&exports);
        body.push_str(" && ");
    }
    for prefix in &prefixes {
        body.push_str(prefix);
        body.push_str(" && ");
    }
    body.push_str(command);
    let wrapped = if options.shell.unwrap_or(true) && env.use_shell {
        let escaped = if options.shell_escape.unwrap_or(env.shell_escape) {
            shell_escape(&body)
        } else {
            body
        };
        format!("{} \"{escaped}\"", env.shell)
    } else {
        body
    };
    if !sudo {
        return wrapped;
    }
    let mut prefix = env.sudo_prefix.replace("%(sudo_prompt)s", &env.sudo_prompt);
    let user = options.user.clone().or_else(|| env.sudo_user.clone());
    let as_id = |id: &str| {
        if id.chars().all(|c| c.is_ascii_digit()) {
            format!("#{id}")
        } else {
            id.to_owned()
        }
    };
    if user.is_some() || options.group.is_some() {
        if let Some(user) = &user {
            prefix.push_str(&format!(" -u \"{}\"", as_id(user)));
        }
        if let Some(group) = &options.group {
            prefix.push_str(&format!(" -g \"{}\"", as_id(group)));
        }
        prefix.push(' ');
    }
    format!("{prefix} {wrapped}")
}

/// The current host string, asking for one when a remote operation runs without hosts (as Fabric does).
pub(crate) fn current_host() -> anyhow::Result<String> {
    if let Some(host) = env().host_string.clone() {
        return Ok(host);
    }
    if let Some(message) = refusal("the target host connection string") {
        bail!(message);
    }
    let answer = crate::term::prompt::prompt(
        "No hosts found. Please specify (single) host string for connection:",
        "",
    )?;
    let parsed = HostString::parse(answer.trim())?;
    env_mut(|e| {
        e.host_string = Some(answer.trim().to_owned());
        e.host = Some(parsed.host.clone());
        if let Some(user) = &parsed.user {
            e.user = user.clone();
        }
        if let Some(port) = parsed.port {
            e.port = port.to_string();
        }
    });
    Ok(answer.trim().to_owned())
}

/// Watches output for `env.sudo_prompt` and `env.prompts` and answers them.
struct Responder {
    host: String,
    canonical: String,
    writer: UnixStream,
    /// Output since the last answer, where prompts are looked for.
    recent: String,
    /// An answer to the sudo prompt was sent and not yet judged.
    attempted: bool,
}

impl Responder {
    /// Checks the newest output; returns the prompt text to strip from the capture, if one was answered.
    fn check(&mut self, text: &str) -> anyhow::Result<Option<String>> {
        self.recent.push_str(text);
        let env = env();
        let trimmed = self.recent.trim_end();
        if !env.sudo_prompt.is_empty() && trimmed.ends_with(env.sudo_prompt.trim_end()) {
            let failed_before = self.attempted && self.recent.contains(&env.again_prompt);
            let password = if failed_before {
                None
            } else {
                env.sudo_passwords
                    .get(&self.canonical)
                    .or(env.sudo_password.as_ref())
                    .or(env.passwords.get(&self.canonical))
                    .or(env.password.as_ref())
                    .cloned()
            };
            let password = match password {
                Some(p) => p,
                None => {
                    let typed = secret(
                        "a connection or sudo password",
                        &format!("[{}] Login password for '{}': ", self.host, env.user),
                    )?;
                    let canonical = self.canonical.clone();
                    env_mut(|e| {
                        e.passwords.insert(canonical, typed.clone());
                        e.password = Some(typed.clone());
                    });
                    typed
                }
            };
            self.writer.write_all(format!("{password}\n").as_bytes())?;
            self.attempted = true;
            self.recent.clear();
            return Ok(Some(env.sudo_prompt.clone()));
        }
        for (question, answer) in &env.prompts {
            if trimmed.ends_with(question.trim_end()) {
                self.writer.write_all(format!("{answer}\n").as_bytes())?;
                self.recent.clear();
                return Ok(Some(question.clone()));
            }
        }
        // Only the tail matters for prompts; keep it bounded for long outputs.
        if self.recent.len() > 4096 {
            let cut = self.recent.len() - 1024;
            let cut = (cut..self.recent.len())
                .find(|i| self.recent.is_char_boundary(*i))
                .unwrap_or(0);
            self.recent.drain(..cut);
        }
        Ok(None)
    }
}

/// How much of an output stream a result keeps, and whose stream it is, for the error past it.
struct Cap<'a> {
    limit: u64,
    host: &'a str,
    command: &'a str,
}

/// Reads one output stream to its end: shows it, captures it (up to `cap`), answers prompts.
fn pump(
    mut source: UnixStream,
    display: Option<LineStream>,
    stream: Stream,
    responder: &Mutex<Responder>,
    (deadline, timeout): (Option<Instant>, u64),
    cap: &Cap<'_>,
) -> anyhow::Result<Vec<u8>> {
    let mut display = display;
    let mut captured: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("Command failed to finish in {timeout} seconds");
            }
            source.set_read_timeout(Some(left))?;
        }
        let n = match source.read(&mut buffer) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                bail!("Command failed to finish in {timeout} seconds")
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            break;
        }
        let chunk = &buffer[..n];
        if let Some(display) = display.as_mut() {
            output::write(stream, &display.feed(chunk));
        }
        if captured.len() as u64 + n as u64 > cap.limit {
            // Shut for every clone (the prompt responder writes on one), so that the channel ends and the command
            // with it, instead of stalling on a full buffer.
            let _ = source.shutdown(std::net::Shutdown::Both);
            return Err(crate::command::CaptureLimit {
                host: cap.host.to_owned(),
                command: cap.command.to_owned(),
                stream: match stream {
                    Stream::Stderr => "stderr",
                    Stream::Stdout => "stdout",
                },
                limit: cap.limit,
            }
            .into());
        }
        captured.extend_from_slice(chunk);
        let answered = responder
            .lock()
            .map_err(|_| anyhow!("the prompt watcher failed"))?
            .check(&String::from_utf8_lossy(chunk))?;
        if let Some(prompt) = answered {
            let text = String::from_utf8_lossy(&captured).into_owned();
            if let Some(index) = text.rfind(prompt.trim_end()) {
                captured.truncate(index);
            }
        }
    }
    if let Some(display) = display.as_mut() {
        output::write(stream, &display.finish());
    }
    Ok(captured)
}

fn execute_remote(
    command: &str,
    options: &RunOptions,
    sudo: bool,
) -> anyhow::Result<CommandResult> {
    let host = current_host()?;
    let mut env = (*env()).clone();
    if options.quiet {
        env.output.set(Level::Everything, false);
    }
    let warn_only = options.quiet || options.warn_only || env.warn_only;
    let which = if sudo { "sudo" } else { "run" };
    let real_command = compose_remote(&env, command, options, sudo);
    let prefix = host_prefix(&env);
    if env.output.debug {
        output::write(
            Stream::Stdout,
            &format!("{prefix}{which}: {real_command}\n"),
        );
    } else if env.output.running {
        output::write(Stream::Stdout, &format!("{prefix}{which}: {command}\n"));
    }

    let connection = connection(&host)?;
    let pty = options.pty.unwrap_or(env.always_use_pty);
    let combine = options.combine_stderr.unwrap_or(env.combine_stderr);
    let opened = connection.exec(&real_command, pty, combine)?;
    let writer = opened.stream.try_clone()?;
    if let Some(input) = &options.stdin {
        (&opened.stream).write_all(input)?;
        opened.stream.shutdown(std::net::Shutdown::Write)?;
    }
    let responder = Arc::new(Mutex::new(Responder {
        host: host.clone(),
        canonical: connection.target.canonical.clone(),
        writer,
        recent: String::new(),
        attempted: false,
    }));
    let timeout = options.timeout.or(env.command_timeout);
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs(t));
    let line_prefix = |kind: &str| {
        if env.output_prefix {
            format!("{prefix}{kind}: ")
        } else {
            String::new()
        }
    };
    let display =
        |on: bool, kind: &str| on.then(|| LineStream::new(line_prefix(kind), env.linewise));
    let out_display = display(env.output.stdout, "out");
    let err_display = display(env.output.stderr, "err");
    let cap = Cap {
        limit: env.capture_limit,
        host: &host,
        command,
    };
    let (stdout, stderr) = std::thread::scope(|scope| -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
        let err_reader = opened.stderr.map(|source| {
            let (responder, cap) = (Arc::clone(&responder), &cap);
            scope.spawn(move || {
                pump(
                    source,
                    err_display,
                    Stream::Stderr,
                    &responder,
                    (deadline, timeout.unwrap_or(0)),
                    cap,
                )
            })
        });
        let stdout = pump(
            opened.stream,
            out_display,
            Stream::Stdout,
            &responder,
            (deadline, timeout.unwrap_or(0)),
            &cap,
        );
        let stderr = match err_reader {
            Some(handle) => handle
                .join()
                .map_err(|_| anyhow!("the stderr reader of '{command}' panicked"))??,
            None => Vec::new(),
        };
        Ok((stdout?, stderr))
    })?;
    let exit = opened
        .done
        .recv()
        .map_err(|_| anyhow!("the connection to {host} closed while running '{command}'"))?;
    if let Some(error) = exit.error {
        bail!("{error} while running '{command}'");
    }
    let return_code = exit.status.unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&stderr).trim().to_owned();
    if env.output.running && (!stdout.is_empty() || (env.output.stderr && !stderr.is_empty())) {
        output::write(Stream::Stdout, "\n");
    }
    let result = CommandResult {
        stdout,
        stderr,
        return_code,
        command: command.to_owned(),
        real_command,
        failed: !env.ok_ret_codes.contains(&return_code),
    };
    if result.failed {
        if !warn_only {
            bail!(
                "{which}() received nonzero return code {return_code} while executing!\n\nRequested: {command}\nExecuted: {}",
                result.real_command
            );
        }
        if env.output.warnings {
            output::warn(&format!(
                "{which}() received nonzero return code {return_code} while executing '{command}'!"
            ));
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    #[test]
    fn composes_like_fabric() {
        let env = Env {
            cwd: "/srv/app".into(),
            command_prefixes: vec!["source venv/bin/activate".into()],
            shell_env: [("APP_ENV".to_owned(), "prod".to_owned())].into(),
            ..Env::default()
        };
        let options = RunOptions {
            user: Some("app".into()),
            ..RunOptions::default()
        };
        assert_eq!(
            compose_remote(&env, "./manage.py migrate", &options, true),
            "sudo -S -p 'sudo password:'  -u \"app\"  /bin/bash -l -c \"export APP_ENV=\\\"prod\\\" && cd /srv/app >/dev/null && source venv/bin/activate && ./manage.py migrate\""
        );
        let plain = Env::default();
        assert_eq!(
            compose_remote(&plain, "echo $HOME", &RunOptions::default(), false),
            "/bin/bash -l -c \"echo \\$HOME\""
        );
        assert_eq!(
            compose_remote(&plain, "ls", &RunOptions::default(), true),
            "sudo -S -p 'sudo password:'  /bin/bash -l -c \"ls\""
        );
        assert_eq!(
            compose_remote(
                &plain,
                r#"printf 'a\n' "\$x""#,
                &RunOptions::default(),
                false
            ),
            r#"/bin/bash -l -c "printf 'a\\n' \"\\\$x\"""#
        );
        let no_shell = RunOptions {
            shell: Some(false),
            ..RunOptions::default()
        };
        assert_eq!(
            compose_remote(&plain, "echo \"$x\"", &no_shell, false),
            "echo \"$x\""
        );
        let numeric = RunOptions {
            user: Some("1001".into()),
            group: Some("adm".into()),
            ..RunOptions::default()
        };
        assert_eq!(
            compose_remote(&plain, "id", &numeric, true),
            "sudo -S -p 'sudo password:'  -u \"#1001\" -g \"adm\"  /bin/bash -l -c \"id\""
        );
    }
}
