//! The rc file (`~/.fabricrc` or `-c PATH`): `key = value` lines.

use std::path::{Path, PathBuf};

use crate::env::{Env, EnvError};

/// An rc file that cannot be read or holds a bad value.
#[derive(Debug, thiserror::Error)]
pub enum RcError {
    /// The file exists (or was named with `-c`) but cannot be read, is not a regular file, or is too large.
    #[error(transparent)]
    Unreadable(#[from] crate::input::ReadError),
    /// A line whose value does not fit its key.
    #[error("{path}:{line}")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        source: EnvError,
    },
}

/// Reads the rc file into the env. A missing file is ignored unless it was named explicitly.
///
/// Lines starting with `#` and blank lines are skipped; every other line is cut at its first `=` and both
/// sides trimmed. Typed keys convert their values (`warn_only = False` is false, unlike in Fabric).
pub fn apply_rcfile(path: &Path, explicit: bool, env: &mut Env) -> Result<(), RcError> {
    let text = match crate::input::read_text(path, "rc file") {
        Ok(text) => text,
        Err(e) if e.is_missing() && !explicit => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        env.set_str(key.trim(), value.trim())
            .map_err(|source| RcError::BadLine {
                path: path.to_owned(),
                line: index + 1,
                source,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_and_skips_comments() {
        let dir = std::env::temp_dir().join(format!("dfab-rc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rc");
        std::fs::write(
            &path,
            "# c\nuser = deploy\n\nhosts = a,b\nwarn_only = False\nnote = x = y\n",
        )
        .unwrap();
        let mut env = Env::default();
        apply_rcfile(&path, true, &mut env).unwrap();
        assert_eq!(env.user, "deploy");
        assert_eq!(env.hosts, ["a", "b"]);
        assert!(!env.warn_only);
        assert_eq!(env.get("note"), Some(serde_yaml::Value::from("x = y")));

        std::fs::write(&path, "user = a\ntimeout = never\n").unwrap();
        let err = apply_rcfile(&path, true, &mut env).unwrap_err().to_string();
        assert!(err.ends_with("rc:2"), "{err}");
        let err = format!(
            "{:#}",
            anyhow::Error::from(apply_rcfile(&path, true, &mut env).unwrap_err())
        );
        assert!(err.ends_with("rc:2: env key 'timeout' expects a whole number (0 to 18446744073709551615), not 'never'"), "{err}");

        let missing = dir.join("missing");
        assert!(apply_rcfile(&missing, false, &mut env).is_ok());
        assert!(apply_rcfile(&missing, true, &mut env)
            .unwrap_err()
            .to_string()
            .starts_with("cannot read the rc file"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
