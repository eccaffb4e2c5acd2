//! Turns: the tests of one file run together, tests of different files take turns.
//!
//! Each suite is one test binary, but its files test different parts of one shared environment (one sshd, one
//! engine), and some tests disturb it on purpose (killing every sshd session, removing every container). When each
//! file was a binary of its own, cargo ran them one after another; turns keep that isolation inside one binary.

use std::sync::{Condvar, Mutex, PoisonError};

/// Which file holds the turn, and how many of its tests are running.
static HOLDER: Mutex<(Option<&'static str>, usize)> = Mutex::new((None, 0));
static CHANGED: Condvar = Condvar::new();

/// A test's share of its file's turn; the turn passes on when the file's last running test drops its share.
#[derive(Debug)]
pub(crate) struct Turn(());

impl Turn {
    /// Waits until no other file's tests are running, then joins the turn of `file`.
    pub(crate) fn take(file: &'static str) -> Turn {
        let mut holder = HOLDER.lock().unwrap_or_else(PoisonError::into_inner);
        while holder.0.is_some_and(|other| other != file) {
            holder = CHANGED.wait(holder).unwrap_or_else(PoisonError::into_inner);
        }
        *holder = (Some(file), holder.1 + 1);
        Turn(())
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut holder = HOLDER.lock().unwrap_or_else(PoisonError::into_inner);
        holder.1 -= 1;
        if holder.1 == 0 {
            holder.0 = None;
            CHANGED.notify_all();
        }
    }
}
