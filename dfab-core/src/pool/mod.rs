//! The one worker pool: hosts in parallel (`-P`), a map's clients, and an action's jobs all run through it.
//!
//! Each job starts from a snapshot of the env the caller gives (tasks read the env of their own thread), a panic
//! becomes a [`Panicked`] result instead of taking the run down, and no more than the pool's size run at once.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::env::{replace_env, Env};

/// A job that panicked, with the panic's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Panicked(pub(crate) String);

/// Runs `job` under a snapshot of `env`, turning a panic into [`Panicked`].
fn guarded<R>(env: &Arc<Env>, job: impl FnOnce() -> R) -> Result<R, Panicked> {
    replace_env(Arc::clone(env));
    catch_unwind(AssertUnwindSafe(job)).map_err(|panic| {
        Panicked(
            panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into()),
        )
    })
}

/// How many threads `size` means for `jobs` jobs: at least one, never more than there are jobs.
fn threads(size: usize, jobs: usize) -> usize {
    size.clamp(1, jobs.max(1))
}

/// Runs `job` on every input, on up to `size` threads, each job under a snapshot of `env`; the results come back
/// in the inputs' order.
pub(crate) fn map_in_order<T: Sync, R: Send>(
    size: usize,
    env: &Arc<Env>,
    inputs: &[T],
    job: impl Fn(&T) -> R + Sync,
) -> Vec<Result<R, Panicked>> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<R, Panicked>>>> =
        inputs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads(size, inputs.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(input) = inputs.get(index) else {
                    break;
                };
                let outcome = guarded(env, || job(input));
                *slots[index].lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .unwrap_or_else(|| Err(Panicked("the job never ran".into())))
        })
        .collect()
}

/// Runs jobs `0..waits.len()` on up to `size` threads, each as soon as the jobs it waits for (`waits[i]`, earlier
/// indexes) are done, the ready job with the lowest index first, so one thread follows the planned order. The
/// first failure stops new jobs from starting; the jobs under way finish. Returns the first failure's index and
/// its error or panic.
pub(crate) fn run_as_ready<E: Send>(
    size: usize,
    env: &Arc<Env>,
    waits: &[Vec<usize>],
    job: impl Fn(usize) -> Result<(), E> + Sync,
) -> Option<(usize, Result<E, Panicked>)> {
    let board = Mutex::new(Board {
        started: vec![false; waits.len()],
        done: vec![false; waits.len()],
        failure: None,
    });
    let changed = Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..threads(size, waits.len()) {
            scope.spawn(|| {
                while let Some(index) = Board::take(&board, &changed, waits) {
                    let failure = match guarded(env, || job(index)) {
                        Ok(Ok(())) => None,
                        Ok(Err(error)) => Some(Ok(error)),
                        Err(panicked) => Some(Err(panicked)),
                    };
                    // Marked done even after a panic, or the other threads would wait for it forever.
                    let mut board = board.lock().unwrap_or_else(PoisonError::into_inner);
                    board.done[index] = true;
                    if let Some(failure) = failure {
                        board.failure.get_or_insert((index, failure));
                    }
                    changed.notify_all();
                }
            });
        }
    });
    board
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .failure
}

/// Which jobs have started and finished, and the first failure, shared by the threads of `run_as_ready`.
struct Board<E> {
    started: Vec<bool>,
    done: Vec<bool>,
    failure: Option<(usize, Result<E, Panicked>)>,
}

impl<E> Board<E> {
    /// Waits for the first unclaimed job whose predecessors are done and claims it; `None` when every job is
    /// claimed or one failed.
    fn take(board: &Mutex<Board<E>>, changed: &Condvar, waits: &[Vec<usize>]) -> Option<usize> {
        let mut state = board.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if state.failure.is_some() || state.started.iter().all(|s| *s) {
                return None;
            }
            let ready = (0..state.started.len()).find(|&index| {
                !state.started[index] && waits[index].iter().all(|&w| state.done[w])
            });
            if let Some(index) = ready {
                state.started[index] = true;
                return Some(index);
            }
            state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn env() -> Arc<Env> {
        crate::env::env()
    }

    #[test]
    fn results_come_back_in_input_order_with_panics_caught() {
        let inputs: Vec<u64> = (0..20).collect();
        let results = map_in_order(4, &env(), &inputs, |&n| {
            std::thread::sleep(Duration::from_millis(20 - n));
            if n == 7 {
                panic!("seven");
            }
            n * 2
        });
        assert_eq!(results.len(), 20);
        for (n, result) in results.into_iter().enumerate() {
            match n {
                7 => assert_eq!(result, Err(Panicked("seven".into()))),
                _ => assert_eq!(result, Ok(n as u64 * 2)),
            }
        }
    }

    #[test]
    fn no_more_than_the_pool_size_run_at_once() {
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let inputs = vec![(); 12];
        map_in_order(3, &env(), &inputs, |()| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(10));
            running.fetch_sub(1, Ordering::SeqCst);
        });
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn each_job_starts_from_the_callers_env() {
        let mut given = (*env()).clone();
        given.user = "pool-test".into();
        let given = Arc::new(given);
        let inputs = vec![(); 6];
        let users = map_in_order(2, &given, &inputs, |()| {
            let seen = crate::env::env().user.clone();
            crate::env::env_mut(|e| e.user = "changed by a job".into());
            seen
        });
        assert!(users.into_iter().all(|u| u == Ok("pool-test".to_owned())));
    }

    #[test]
    fn jobs_wait_for_their_predecessors_and_one_thread_keeps_the_order() {
        // 0 ← 1 ← 3, 2 independent.
        let waits = vec![vec![], vec![0], vec![], vec![1]];
        let order = Mutex::new(Vec::new());
        let failure = run_as_ready(1, &env(), &waits, |index| -> Result<(), String> {
            order.lock().unwrap().push(index);
            Ok(())
        });
        assert!(failure.is_none());
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
        let finished = Mutex::new(Vec::new());
        run_as_ready(4, &env(), &waits, |index| -> Result<(), String> {
            if index == 0 {
                std::thread::sleep(Duration::from_millis(30));
            }
            finished.lock().unwrap().push(index);
            Ok(())
        });
        let finished = finished.into_inner().unwrap();
        let at = |n| finished.iter().position(|&i| i == n).unwrap();
        assert!(at(0) < at(1) && at(1) < at(3));
        assert_eq!(at(2), 0, "the independent job does not wait: {finished:?}");
    }

    #[test]
    fn the_first_failure_stops_new_jobs_and_a_panic_is_a_failure() {
        let waits = vec![vec![], vec![0], vec![1]];
        let ran = Mutex::new(Vec::new());
        let failure = run_as_ready(2, &env(), &waits, |index| {
            ran.lock().unwrap().push(index);
            if index == 1 {
                return Err(format!("job {index} failed"));
            }
            Ok(())
        });
        assert_eq!(failure, Some((1, Ok("job 1 failed".to_owned()))));
        assert_eq!(*ran.lock().unwrap(), vec![0, 1]);
        let failure = run_as_ready(2, &env(), &waits, |index| -> Result<(), String> {
            if index == 0 {
                panic!("boom");
            }
            Ok(())
        });
        assert_eq!(failure, Some((0, Err(Panicked("boom".into())))));
    }
}
