//! The command line: options, task strings, `--set`, the rc file and the task list.

mod command;
mod completion;
mod list;
mod options;
mod rcfile;
mod set;
mod task_string;

pub use command::Command;
pub use completion::{script as completion_script, CompletedOption, Shell};
pub use list::{indented_names, render_display, render_list};
pub use options::{completed_options, help_text, ListFormat, Options, UsageError, USAGE};
pub use rcfile::{apply_rcfile, RcError};
pub use set::{apply_set, redacted};
pub use task_string::{split_items, Item, TaskString};
