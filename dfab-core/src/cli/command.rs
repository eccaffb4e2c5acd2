//! `Command`: what a command line asks the runner to do.

use super::{ListFormat, Shell};

/// What the command line asks for; when it holds several, the first in this order wins, as in Fabric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `-h`: print the options.
    Help,
    /// `-V`: print the version.
    Version,
    /// `--completions SHELL`: print a completion script.
    Completions(Shell),
    /// `-l`, `--shortlist`: list the tasks in this format.
    List(ListFormat),
    /// `-d NAME`: describe one task.
    Display(String),
    /// Run the task strings and the words after `--` (or the default task).
    Run,
}
