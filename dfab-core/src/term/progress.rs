//! Progress bars for bytes moved, drawn together on stderr.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::env::env;

/// Every bar of the run, drawn as one block: parallel hosts each keep their own line, and the lines the run prints
/// pass above the block instead of through it.
fn bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(MultiProgress::new)
}

/// Draws `bar` with the run's other bars.
pub(crate) fn add_bar(bar: ProgressBar) -> ProgressBar {
    bars().add(bar)
}

/// Runs `print` with the bars taken off the terminal, then draws them again below what it printed.
pub(crate) fn above_bars<R>(print: impl FnOnce() -> R) -> R {
    bars().suspend(print)
}

/// The label of a bar: in a parallel run, prefixed with the host it is for, as the run's lines are.
fn bar_label(label: &str) -> String {
    let env = env();
    match (env.parallel, env.host_string.as_deref()) {
        (true, Some(host)) => format!("[{host}] {label}"),
        _ => label.to_owned(),
    }
}

/// A bar for `total` bytes, or with no total known, a counter of bytes and rate; indicatif hides it when stderr is
/// not a terminal.
pub(crate) fn byte_bar(total: Option<u64>, label: &str) -> ProgressBar {
    let (bar, template) = match total {
        Some(total) if total > 0 => (
            ProgressBar::new(total),
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        ),
        _ => (
            ProgressBar::no_length(),
            "{msg} {spinner} {bytes} {bytes_per_sec}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(bar_label(label));
    add_bar(bar)
}

/// A bar that follows a byte counter another thread advances (an SSH transfer's), until dropped: on a terminal
/// only, and not under `--hide running`.
pub(crate) struct CounterBar {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CounterBar {
    /// Starts drawing `moved` out of `total` bytes, or nothing where bars are not wanted.
    pub(crate) fn show(
        moved: &Arc<AtomicU64>,
        total: Option<u64>,
        label: &str,
    ) -> Option<CounterBar> {
        use std::io::IsTerminal;
        let env = env();
        if !env.output.running || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = byte_bar(total, label);
        let done = Arc::new(AtomicBool::new(false));
        let (finished, counter) = (Arc::clone(&done), Arc::clone(moved));
        let thread = std::thread::spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                bar.set_position(counter.load(Ordering::Relaxed));
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Some(CounterBar {
            done,
            thread: Some(thread),
        })
    }
}

impl Drop for CounterBar {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
