//! The terminal: lines in Fabric's shapes, prompts and progress bars; a leaf that every layer may print through.

pub mod output;
mod progress;
pub mod prompt;

pub(crate) use progress::{add_bar, byte_bar, CounterBar};
