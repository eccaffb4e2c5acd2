//! The env of the current thread: the runner's on the main thread, a per-host copy in each parallel worker.

use std::cell::RefCell;
use std::sync::Arc;

use super::Env;

thread_local! {
    static CURRENT: RefCell<Arc<Env>> = RefCell::new(Arc::new(Env::default()));
}

/// A snapshot of the current env; cheap to take, never blocks, and never sees later changes.
pub fn env() -> Arc<Env> {
    CURRENT.with(|current| Arc::clone(&current.borrow()))
}

/// Changes the current env, for the rest of the task and the tasks after it (as assigning `env.x` does).
///
/// The closure works on a copy that replaces the env when it returns, so it may itself read `env()`
/// (and sees the env as it was before the change).
pub fn env_mut<R>(change: impl FnOnce(&mut Env) -> R) -> R {
    let mut next = env();
    let result = change(Arc::make_mut(&mut next));
    replace_env(next);
    result
}

/// Installs an env for this thread and returns the one it replaces.
pub(crate) fn replace_env(new: Arc<Env>) -> Arc<Env> {
    CURRENT.with(|current| std::mem::replace(&mut *current.borrow_mut(), new))
}
