//! The layer order of `dfab-core/src`, as the README's architecture section draws it: a module may use only
//! modules of lower layers, so a task string can be followed from argv to the engine's API moving only downward.

use std::collections::BTreeSet;
use std::path::Path;

/// The layers from the bottom up; modules in one layer do not use each other.
const LAYERS: &[&[&str]] = &[
    &["task"],
    &["env"],
    &["input", "term", "pool"],
    &["command"],
    &["ssh"],
    &["docker", "map"],
    &["actions", "tasks", "cli"],
    &["exec"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level modules a source text names through `crate::…` paths, in `use` lines or inline.
fn used_modules(source: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (at, _) in source.match_indices("crate::") {
        let preceded_by_word = source[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        if preceded_by_word {
            continue;
        }
        let rest = &source[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                used.insert(name);
            }
        } else {
            used.insert(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    used
}

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the source directory is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn modules_use_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut upward = Vec::new();
    let mut unplaced = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let Some(std::path::Component::Normal(first)) = relative.components().next() else {
            continue;
        };
        let module = first.to_string_lossy().trim_end_matches(".rs").to_owned();
        if module == "lib" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            unplaced.insert(module);
            continue;
        };
        let source = std::fs::read_to_string(file).expect("a readable source file");
        for used in used_modules(&source) {
            if used == module || used.is_empty() {
                continue;
            }
            match layer_of(&used) {
                Some(layer) if layer < own => {}
                Some(_) => upward.push(format!("{} uses crate::{used}", relative.display())),
                // Not a module of the crate (a macro's `$crate::…` or an item of lib.rs such as `inventory`).
                None if !src.join(&used).is_dir() && !src.join(format!("{used}.rs")).is_file() => {}
                None => {
                    unplaced.insert(used);
                }
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS (place them in tests/layers.rs and the README's diagram): {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "uses of a module in the same or a higher layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_readme_draws_the_same_layers() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("the README is readable");
    for layer in LAYERS.iter().rev() {
        let line = layer
            .iter()
            .map(|module| format!("{module}/"))
            .collect::<Vec<_>>()
            .join("  ");
        assert!(
            readme.lines().any(|l| l.starts_with(&format!("{line} "))),
            "the README's layer diagram has no line `{line}`"
        );
    }
}
