//! The one tokio runtime behind every Docker client; tasks stay synchronous and block on it.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use super::DockerError;

fn runtime() -> &'static Result<Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("dfab-docker")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
}

/// Runs `future` to completion on the shared runtime, from any task thread (several at once in parallel runs).
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, DockerError> {
    match runtime() {
        Ok(runtime) => Ok(runtime.block_on(future)),
        Err(e) => Err(DockerError::Runtime(e.clone())),
    }
}

/// A future spawned on the shared runtime, stopped when it is dropped (a caller that gave up on it, or timed out).
pub(crate) struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for Spawned<T> {
    type Output = T;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<T> {
        // A spawned future that panicked passes its panic on; one aborted is only ever awaited by no one.
        std::pin::Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
        })
    }
}

/// Starts `future` on one of the shared runtime's threads.
pub(crate) fn spawn<F>(future: F) -> Result<Spawned<F::Output>, DockerError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match runtime() {
        Ok(runtime) => Ok(Spawned(runtime.spawn(future))),
        Err(e) => Err(DockerError::Runtime(e.clone())),
    }
}
