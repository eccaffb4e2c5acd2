//! `Fabfile`: where the fabfile is, found as `fab` finds `fabfile.py`.

use std::path::{Path, PathBuf};

use crate::errors::LaunchError;

/// A fabfile: one Rust file, or a crate (a directory with a `Cargo.toml`, like `dfab new` makes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fabfile {
    /// A single `fabfile.rs` with `dfab_core::main!()`; modules it declares sit next to it.
    Script(PathBuf),
    /// A crate directory.
    Crate(PathBuf),
}

impl Fabfile {
    /// The file or directory, for messages.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Fabfile::Script(path) | Fabfile::Crate(path) => path,
        }
    }
}

/// The fabfile named by `-f PATH`, else the nearest `fabfile.rs` (or `fabfile/` crate) in `start` or a parent; a
/// `fabfile.rs` next to a `Cargo.toml` is that crate's.
pub(crate) fn find(explicit: Option<&Path>, start: &Path) -> Result<Option<Fabfile>, LaunchError> {
    if let Some(path) = explicit {
        let path = start.join(path);
        return classify(&path)
            .map(Some)
            .ok_or(LaunchError::NoSuchFabfile { path });
    }
    for dir in start.ancestors() {
        for candidate in [dir.join("fabfile.rs"), dir.join("fabfile")] {
            if let Some(found) = classify(&candidate) {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// What kind of fabfile `path` is, if any.
fn classify(path: &Path) -> Option<Fabfile> {
    if path.is_dir() {
        return path
            .join("Cargo.toml")
            .is_file()
            .then(|| Fabfile::Crate(path.to_path_buf()));
    }
    if !path.is_file() {
        return None;
    }
    match path.parent() {
        Some(dir) if dir.join("Cargo.toml").is_file() => Some(Fabfile::Crate(dir.to_path_buf())),
        _ => Some(Fabfile::Script(path.to_path_buf())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_fabfile_wins_and_a_crate_beats_a_lone_file() {
        let root = tempfile::tempdir().expect("temporary directory");
        let deep = root.path().join("a/b/c");
        std::fs::create_dir_all(&deep).expect("dirs");
        assert_eq!(find(None, &deep).expect("search"), None);
        std::fs::write(root.path().join("fabfile.rs"), "").expect("file");
        assert_eq!(
            find(None, &deep).expect("search"),
            Some(Fabfile::Script(root.path().join("fabfile.rs")))
        );
        let project = root.path().join("a");
        std::fs::write(project.join("fabfile.rs"), "").expect("file");
        std::fs::write(project.join("Cargo.toml"), "").expect("file");
        assert_eq!(
            find(None, &deep).expect("search"),
            Some(Fabfile::Crate(project.clone()))
        );
        assert_eq!(
            find(Some(Path::new("../../../fabfile.rs")), &deep).expect("explicit"),
            Some(Fabfile::Script(deep.join("../../../fabfile.rs")))
        );
        let error = find(Some(Path::new("missing.rs")), &deep).expect_err("missing");
        assert!(error.to_string().starts_with("fabfile '"), "{error}");
    }
}
