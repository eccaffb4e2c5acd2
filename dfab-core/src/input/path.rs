//! Paths users write in options, maps and config files.

use std::path::PathBuf;

/// dfab's cache directory: `$DFAB_CACHE`, else `$XDG_CACHE_HOME/dfab`, else `~/.cache/dfab` (the launcher's builds,
/// the spool of pushed images).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DFAB_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("dfab")
}

/// Expands a leading `~` or `~/` to `$HOME`, as a shell would; `~user` and other paths are left as written.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(format!("{}{rest}", home.to_string_lossy()))
        }
        _ => PathBuf::from(path),
    }
}
