//! Everything the runner prints, in Fabric's shapes, honouring output levels; each line written whole.

use std::io::Write;

use crate::env::{env, Env};

/// Which standard stream a line goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Writes text in one call under the stream's lock, so lines from parallel workers never mix.
pub(crate) fn write(stream: Stream, text: &str) {
    // A closed pipe (`dfab --list | head`) must not turn into a panic; the text is simply dropped.
    let _written = super::progress::above_bars(|| match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
    });
}

/// Set when a task of the run prints JSON (`format=json`): then stdout holds only the JSON, and the runner's own
/// lines (`Executing task`, `Done.`, `Disconnecting from …`) go to stderr.
static JSON_STDOUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Keeps stdout for JSON documents alone, for the rest of the run.
pub(crate) fn reserve_stdout_for_json() {
    JSON_STDOUT.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether stdout is kept for JSON documents.
pub(crate) fn stdout_is_json() -> bool {
    JSON_STDOUT.load(std::sync::atomic::Ordering::SeqCst)
}

/// Where the runner's own lines go: stdout, or stderr while stdout is kept for JSON.
pub(crate) fn runner_stream() -> Stream {
    if stdout_is_json() {
        Stream::Stderr
    } else {
        Stream::Stdout
    }
}

/// `[host] ` for the current host, or nothing when running locally.
pub fn host_prefix(env: &Env) -> String {
    match &env.host_string {
        Some(host) => format!("[{host}] "),
        None => String::new(),
    }
}

/// A `running`-level line such as `[web1] Executing task 'deploy'` or `[localhost] local: ls`.
pub(crate) fn running(text: &str) {
    let env = env();
    if env.output.running {
        write(runner_stream(), &format!("{}{text}\n", host_prefix(&env)));
    }
}

/// Prints `text` with the host prefix at the `user` level, like Fabric's `puts`.
pub fn puts(text: &str) {
    let env = env();
    if env.output.user {
        let prefix = if env.output_prefix {
            host_prefix(&env)
        } else {
            String::new()
        };
        write(Stream::Stdout, &format!("{prefix}{text}\n"));
    }
}

/// Prints `text` as it is, without the host prefix, at the `user` level, like Fabric's `fastprint`.
pub fn fastprint(text: &str) {
    if env().output.user {
        write(Stream::Stdout, text);
    }
}

/// Command output lines as `[host] out: line` (or `err:`), each line whole.
pub(crate) fn command_lines(stream: Stream, text: &str) {
    let env = env();
    let shown = match stream {
        Stream::Stdout => env.output.stdout,
        Stream::Stderr => env.output.stderr,
    };
    if !shown || text.is_empty() {
        return;
    }
    let prefix = match (env.output_prefix, stream) {
        (false, _) => String::new(),
        (true, Stream::Stdout) => format!("{}out: ", host_prefix(&env)),
        (true, Stream::Stderr) => format!("{}err: ", host_prefix(&env)),
    };
    let block: String = text
        .lines()
        .map(|line| format!("{prefix}{line}\n"))
        .collect();
    write(stream, &block);
}

fn colored(env: &Env, code: &str, text: &str) -> String {
    let disabled = std::env::var_os("FABRIC_DISABLE_COLORS").is_some_and(|v| !v.is_empty());
    if env.colorize_errors && !disabled {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The abort block: `Fatal error: …` then `Aborting.`, on stderr.
pub(crate) fn abort(message: &str) {
    let env = env();
    if env.output.aborts {
        let block = format!(
            "\n{}\n{}\n",
            colored(&env, "31", &format!("Fatal error: {message}\n")),
            colored(&env, "31", "Aborting.")
        );
        write(Stream::Stderr, &block);
    }
}

/// The error message of an abort on one line: each context, then its cause (`in --set 'x': …`).
pub(crate) fn error_message(error: &anyhow::Error) -> String {
    format!("{error:#}")
}

/// Prints a warning block, `Warning: …`, on stderr.
pub fn warn(message: &str) {
    let env = env();
    if env.output.warnings {
        let text = colored(&env, "35", &format!("Warning: {message}"));
        write(Stream::Stderr, &format!("\n{text}\n\n"));
    }
}

/// A `status`-level line such as `Done.`.
pub(crate) fn status(text: &str) {
    if env().output.status {
        write(runner_stream(), &format!("{text}\n"));
    }
}
