//! Progress bars for bytes moved, drawn on stderr.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use crate::env::env;

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
    bar.set_message(label.to_owned());
    bar
}

/// A bar that follows a byte counter another thread advances (an SSH transfer's), until dropped: on a terminal
/// only, not under `--hide running`, and not in parallel runs (whose output stays whole lines).
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
        if env.parallel || !env.output.running || !std::io::stderr().is_terminal() {
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
