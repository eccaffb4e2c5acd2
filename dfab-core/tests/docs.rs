//! `cargo doc` builds dfab-core's documentation without warnings (broken links, bad code blocks).

use std::path::Path;
use std::process::Command;

#[test]
fn the_documentation_builds_without_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // A target directory of its own: the one `cargo test` uses is locked while the tests run.
    let output = Command::new(cargo)
        .args([
            "doc",
            "--quiet",
            "--no-deps",
            "-p",
            "dfab-core",
            "-p",
            "dfab",
        ])
        .arg("--target-dir")
        .arg(root.join("target/doc-check"))
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(&root)
        .output()
        .expect("cargo doc runs");
    assert!(
        output.status.success(),
        "cargo doc failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
