//! `ImageError`: what can go wrong when building or pushing an image, each with the file, host or step it concerns.

use std::path::PathBuf;

use super::DockerError;

/// A failed build or push.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A request to an engine failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The settings that point at the local engine could not be made.
    #[error(transparent)]
    Env(#[from] crate::env::EnvError),
    /// A file named by the user is not one dfab reads (a FIFO, a device, too large).
    #[error(transparent)]
    Input(#[from] crate::input::ReadError),
    /// A local file (a tarball, the spool, a context file) could not be read or written.
    #[error("cannot {action} '{}'", path.display())]
    File {
        /// What was being done: `read`, `write`, `create`, `add to the build context`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A tarball that is not one `docker save` writes.
    #[error("{what} is not an image tarball: {why}")]
    NotATarball {
        /// The tarball, as the user knows it.
        what: String,
        /// What is wrong with it.
        why: String,
    },
    /// A tarball of several images, none with the name asked for.
    #[error("{what} holds several images and none is tagged {image}")]
    WhichImage {
        /// The tarball.
        what: String,
        /// The image asked for.
        image: String,
    },
    /// The image is not on the local engine.
    #[error("the local engine has no image '{0}' (build or pull it first)")]
    NoLocalImage(String),
    /// The host's engine took the tarball but has no image with the ID after it.
    #[error("the engine on {host} did not take {image}: after the load it has no image {id}")]
    NotLoaded {
        /// The host.
        host: String,
        /// The image.
        image: String,
        /// The ID it should have.
        id: String,
    },
    /// A build context that cannot be sent.
    #[error("the build context '{}' {problem}", path.display())]
    Context {
        /// The directory.
        path: PathBuf,
        /// What is wrong: `is not a directory`, `has no Dockerfile`.
        problem: String,
    },
    /// A `.dockerignore` line that is not a pattern.
    #[error("{}:{line}: {reason}", file.display())]
    Dockerignore {
        /// The file.
        file: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A step of the build failed; the engine's message (the step's output was shown).
    #[error("building {label} on {host} failed: {message}")]
    BuildFailed {
        /// The tag, or `the image`.
        label: String,
        /// The host.
        host: String,
        /// The engine's message.
        message: String,
    },
    /// The build ended without saying which image it made.
    #[error("building {label} on {host} ended without an image ID")]
    NoImageId {
        /// The tag, or `the image`.
        label: String,
        /// The host.
        host: String,
    },
}

impl ImageError {
    /// A file error for `path`, for `map_err`.
    pub(crate) fn file(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> ImageError {
        let path = path.into();
        move |source| ImageError::File {
            action,
            path,
            source,
        }
    }
}
