//! Paths users write in options, maps and config files.

use std::path::PathBuf;

/// Expands a leading `~` or `~/` to `$HOME`, as a shell would; `~user` and other paths are left as written.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(format!("{}{rest}", home.to_string_lossy()))
        }
        _ => PathBuf::from(path),
    }
}
