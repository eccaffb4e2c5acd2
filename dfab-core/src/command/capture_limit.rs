//! `CaptureLimit`: a command printed more than a result may keep.

/// A command's stdout or stderr went past `capture_limit` bytes: `run`, `sudo` and `local` keep that much of each
/// for the result, where Fabric kept everything and a host printing without end could exhaust the machine.
#[derive(Debug, thiserror::Error)]
#[error("'{command}' on {host} printed more than {limit} bytes on {stream}: dfab keeps at most capture_limit bytes of each stream of a command for its result (raise capture_limit, or send the output to a file)")]
pub struct CaptureLimit {
    /// The host (or `localhost`).
    pub host: String,
    /// The command as given.
    pub command: String,
    /// `stdout`, `stderr`, or `its log` for a map's job.
    pub stream: &'static str,
    /// The limit in bytes.
    pub limit: u64,
}
