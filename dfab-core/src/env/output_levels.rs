//! Fabric's output levels (`--hide`, `--show`, `hide()`, `show()`).

use serde::{Deserialize, Serialize};

/// An output level or one of Fabric's aliases for several levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `Done.`, `Stopped.`, `Disconnecting…`.
    Status,
    /// `Fatal error` blocks.
    Aborts,
    /// `Warning` blocks.
    Warnings,
    /// `Executing task`, `run:`, `local:`, `put:` lines.
    Running,
    /// Remote `out:` lines and uncaptured local stdout.
    Stdout,
    /// Remote `err:` lines and uncaptured local stderr.
    Stderr,
    /// `puts()` output.
    User,
    /// Error causes appended to error messages.
    Exceptions,
    /// Wrapped commands and runner internals.
    Debug,
    /// Alias: stdout and stderr.
    Output,
    /// Alias: stdout and running.
    Commands,
    /// Alias: warnings, running, user, stdout, stderr, exceptions.
    Everything,
}

impl Level {
    /// Every name `--hide`/`--show` accept.
    pub const NAMES: &'static [&'static str] = &[
        "status",
        "aborts",
        "warnings",
        "running",
        "stdout",
        "stderr",
        "user",
        "exceptions",
        "debug",
        "output",
        "commands",
        "everything",
    ];

    /// The level for a name, if it is one.
    pub fn from_name(name: &str) -> Option<Level> {
        use Level::*;
        let all = [
            Status, Aborts, Warnings, Running, Stdout, Stderr, User, Exceptions, Debug, Output,
            Commands, Everything,
        ];
        Level::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|index| all[index])
    }

    /// The plain levels an alias stands for (a plain level stands for itself).
    fn members(self) -> &'static [Level] {
        use Level::*;
        match self {
            Output => &[Stdout, Stderr],
            Commands => &[Stdout, Running],
            Everything => &[Warnings, Running, User, Stdout, Stderr, Exceptions],
            Status => &[Status],
            Aborts => &[Aborts],
            Warnings => &[Warnings],
            Running => &[Running],
            Stdout => &[Stdout],
            Stderr => &[Stderr],
            User => &[User],
            Exceptions => &[Exceptions],
            Debug => &[Debug],
        }
    }
}

/// Which kinds of output are printed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputLevels {
    /// `Done.` and disconnect lines.
    pub status: bool,
    /// `Fatal error` blocks.
    pub aborts: bool,
    /// `Warning` blocks.
    pub warnings: bool,
    /// `Executing task` and command lines.
    pub running: bool,
    /// Command output.
    pub stdout: bool,
    /// Command error output.
    pub stderr: bool,
    /// `puts()`.
    pub user: bool,
    /// Causes of errors.
    pub exceptions: bool,
    /// Debug lines.
    pub debug: bool,
}

impl Default for OutputLevels {
    fn default() -> Self {
        OutputLevels {
            status: true,
            aborts: true,
            warnings: true,
            running: true,
            stdout: true,
            stderr: true,
            user: true,
            exceptions: false,
            debug: false,
        }
    }
}

impl OutputLevels {
    /// Turns a level (or every member of an alias) on or off.
    pub fn set(&mut self, level: Level, on: bool) {
        for member in level.members() {
            if let Some(slot) = self.slot(*member) {
                *slot = on;
            }
        }
    }

    /// Whether a plain level is on (an alias is on when all its members are).
    pub fn is_on(&self, level: Level) -> bool {
        let mut copy = self.clone();
        level
            .members()
            .iter()
            .all(|m| copy.slot(*m).is_some_and(|on| *on))
    }

    /// The flag of a plain level; aliases have none of their own.
    fn slot(&mut self, level: Level) -> Option<&mut bool> {
        Some(match level {
            Level::Status => &mut self.status,
            Level::Aborts => &mut self.aborts,
            Level::Warnings => &mut self.warnings,
            Level::Running => &mut self.running,
            Level::Stdout => &mut self.stdout,
            Level::Stderr => &mut self.stderr,
            Level::User => &mut self.user,
            Level::Exceptions => &mut self.exceptions,
            Level::Debug => &mut self.debug,
            Level::Output | Level::Commands | Level::Everything => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_set_their_members() {
        let mut levels = OutputLevels::default();
        levels.set(Level::Everything, false);
        assert!(!levels.running && !levels.stdout && !levels.warnings && !levels.user);
        assert!(levels.status && levels.aborts);
        levels.set(Level::Commands, true);
        assert!(levels.running && levels.stdout && !levels.stderr);
        assert!(!levels.is_on(Level::Output));
    }

    #[test]
    fn each_name_is_its_own_level() {
        use Level::*;
        let expected = [
            ("status", Status),
            ("aborts", Aborts),
            ("warnings", Warnings),
            ("running", Running),
            ("stdout", Stdout),
            ("stderr", Stderr),
            ("user", User),
            ("exceptions", Exceptions),
            ("debug", Debug),
            ("output", Output),
            ("commands", Commands),
            ("everything", Everything),
        ];
        assert_eq!(Level::NAMES.len(), expected.len());
        for (name, level) in expected {
            assert_eq!(Level::from_name(name), Some(level), "{name}");
        }
        assert_eq!(Level::from_name("nope"), None);
        assert_eq!(Level::from_name("Status"), None, "names are lower case");
    }
}
