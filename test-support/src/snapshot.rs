//! Expected output kept in files, rewritten by a command after a deliberate change instead of copied by hand.

use std::path::Path;

/// Compares `actual` with the file at `path`; with `DFAB_SNAPSHOTS=overwrite` in the environment it writes `actual`
/// there instead, for review in the diff.
#[track_caller]
pub fn assert_snapshot(path: &Path, actual: &str) {
    if std::env::var("DFAB_SNAPSHOTS").as_deref() == Ok("overwrite") {
        std::fs::write(path, actual).expect("the snapshot is writable");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read the snapshot {}: {e} (write it with DFAB_SNAPSHOTS=overwrite)",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "the output differs from {} (after a deliberate change: DFAB_SNAPSHOTS=overwrite cargo test, then review \
         the diff)",
        path.display()
    );
}
