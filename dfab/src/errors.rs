//! `LaunchError`: why the launcher could not find, build or start a fabfile.

use std::path::PathBuf;

/// Why the launcher could not find, build or start a fabfile.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LaunchError {
    /// `dfab new` without exactly one directory.
    #[error("usage: dfab new DIR (a new fabfile project in DIR)")]
    NewUsage,
    /// The current directory is unreadable.
    #[error("cannot read the current directory: {source}")]
    Cwd {
        /// The cause.
        source: std::io::Error,
    },
    /// `-f PATH` names nothing usable.
    #[error("fabfile '{}' does not exist: expected a fabfile.rs or a directory with a Cargo.toml", path.display())]
    NoSuchFabfile {
        /// The path given.
        path: PathBuf,
    },
    /// `dfab new` into a directory that has files.
    #[error("'{}' already exists and is not empty: expected a new or empty directory", path.display())]
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// A file could not be read or written.
    #[error("cannot {what} '{}': {source}", path.display())]
    Io {
        /// What was being done ("write", "read").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// cargo could not be started.
    #[error("cannot run cargo to build the fabfile: {source}")]
    Cargo {
        /// The cause.
        source: std::io::Error,
    },
    /// The fabfile does not compile; cargo has printed the compiler's messages.
    #[error("the fabfile '{}' did not build (the compiler's messages are above)", path.display())]
    Build {
        /// The fabfile or its crate.
        path: PathBuf,
    },
    /// The build produced no binary.
    #[error("building '{}' produced no binary: expected one [[bin]] target", path.display())]
    NoBinary {
        /// The fabfile crate.
        path: PathBuf,
    },
    /// The built fabfile could not be started.
    #[error("cannot run the built fabfile '{}': {source}", path.display())]
    Exec {
        /// The binary.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}
