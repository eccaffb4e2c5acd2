//! Shell commands on this machine (`local()`) and the result type that `local`, `run` and `sudo` share.

mod capture_limit;
mod local;
mod result;

pub use capture_limit::CaptureLimit;
pub use local::{compose_local, exports, local, local_capture};
pub use result::CommandResult;
