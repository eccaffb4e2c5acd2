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
