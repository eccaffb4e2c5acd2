//! `CommandResult`: what `local()`, `run()` and `sudo()` return.

use std::fmt;

/// What a command printed and how it ended; displays as its stripped standard output, like Fabric's result string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandResult {
    /// Standard output with surrounding whitespace stripped.
    pub stdout: String,
    /// Standard error with surrounding whitespace stripped.
    pub stderr: String,
    /// The exit status (-1 when killed by a signal).
    pub return_code: i32,
    /// The command as given.
    pub command: String,
    /// The command as executed, after composition.
    pub real_command: String,
    /// Whether the status is not one of `env.ok_ret_codes`.
    pub failed: bool,
}

impl CommandResult {
    /// Whether the command succeeded.
    pub fn succeeded(&self) -> bool {
        !self.failed
    }
}

impl fmt::Display for CommandResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stdout)
    }
}

impl std::ops::Deref for CommandResult {
    type Target = str;
    fn deref(&self) -> &str {
        &self.stdout
    }
}
