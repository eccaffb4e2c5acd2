//! `read_text`: a bounded read of a regular file.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The most dfab reads from one input file: 64 MiB, far more than any map, rc file or known_hosts file.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a regular file: a device, FIFO, socket or directory.
    #[error("cannot read the {what} '{path}': it is a {kind}, not a regular file")]
    NotRegular {
        /// What the file is for.
        what: String,
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than the cap.
    #[error("the {what} '{path}' is larger than {} MiB, the most dfab reads from a file", MAX_INPUT_BYTES >> 20)]
    TooLarge {
        /// What the file is for.
        what: String,
        /// The path.
        path: PathBuf,
    },
    /// Not UTF-8 text.
    #[error("the {what} '{path}' is not UTF-8 text")]
    NotText {
        /// What the file is for.
        what: String,
        /// The path.
        path: PathBuf,
    },
    /// The operating system refused. The cause is part of the message (not a chained source), so that it shows
    /// once in `Fatal error:` lines.
    #[error("cannot read the {what} '{path}': {cause}")]
    Io {
        /// What the file is for.
        what: String,
        /// The path.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
}

impl ReadError {
    /// Whether the file does not exist (callers that read optional files ignore that).
    pub fn is_missing(&self) -> bool {
        matches!(self, ReadError::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound)
    }
}

fn kind_of(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("directory")
    } else if file_type.is_fifo() {
        Some("FIFO")
    } else if file_type.is_char_device() {
        Some("character device")
    } else if file_type.is_block_device() {
        Some("block device")
    } else if file_type.is_socket() {
        Some("socket")
    } else {
        Some("special file")
    }
}

/// Checks that `path` names a regular file (following links), for files that are streamed rather than read whole.
pub fn check_regular(path: &Path, what: &str) -> Result<(), ReadError> {
    let io = |cause| ReadError::Io {
        what: what.to_owned(),
        path: path.to_owned(),
        cause,
    };
    let metadata = std::fs::metadata(path).map_err(io)?;
    match kind_of(metadata.file_type()) {
        None => Ok(()),
        Some(kind) => Err(ReadError::NotRegular {
            what: what.to_owned(),
            path: path.to_owned(),
            kind,
        }),
    }
}

/// Reads the regular file at `path` as text, at most `MAX_INPUT_BYTES`; `what` names it in errors ("map file").
pub fn read_text(path: &Path, what: &str) -> Result<String, ReadError> {
    let io = |cause| ReadError::Io {
        what: what.to_owned(),
        path: path.to_owned(),
        cause,
    };
    check_regular(path, what)?;
    // Non-blocking, so that a FIFO swapped in after the check cannot hold the open; checked again on the handle.
    let file: File = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(io)?;
    if let Some(kind) = kind_of(file.metadata().map_err(io)?.file_type()) {
        return Err(ReadError::NotRegular {
            what: what.to_owned(),
            path: path.to_owned(),
            kind,
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge {
            what: what.to_owned(),
            path: path.to_owned(),
        });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        what: what.to_owned(),
        path: path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_cap() {
        let error = read_text(Path::new("/dev/zero"), "map file").unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot read the map file '/dev/zero': it is a character device, not a regular file"
        );
        let error = read_text(Path::new("/"), "rc file").unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot read the rc file '/': it is a directory, not a regular file"
        );
        let dir = std::env::temp_dir().join(format!("dfab-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        assert!(matches!(
            read_text(&fifo, "clients file"),
            Err(ReadError::NotRegular { kind: "FIFO", .. })
        ));
        let big = dir.join("big");
        let file = File::create(&big).unwrap();
        file.set_len(MAX_INPUT_BYTES + 1).unwrap();
        assert_eq!(
            read_text(&big, "map file").unwrap_err().to_string(),
            format!(
                "the map file '{}' is larger than 64 MiB, the most dfab reads from a file",
                big.display()
            )
        );
        let missing = read_text(&dir.join("missing"), "rc file").unwrap_err();
        assert!(missing.is_missing());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
