//! `dfab new DIR`: a fabfile project from `templates/fabfile`, pointed at this checkout's dfab-core.

use std::path::Path;

use crate::errors::LaunchError;

/// The template's files, built into the launcher so that `dfab new` works from anywhere.
const TEMPLATE: [(&str, &str); 5] = [
    (
        "Cargo.toml",
        include_str!("../../templates/fabfile/Cargo.toml"),
    ),
    ("build.rs", include_str!("../../templates/fabfile/build.rs")),
    (
        "fabfile.rs",
        include_str!("../../templates/fabfile/fabfile.rs"),
    ),
    ("map.yaml", include_str!("../../templates/fabfile/map.yaml")),
    (
        "README.md",
        include_str!("../../templates/fabfile/README.md"),
    ),
];

/// The template's placeholders (cargo-generate's syntax): the package name and dfab-core's path.
const NAME_PLACEHOLDER: &str = "{{project-name}}";
const CORE_PLACEHOLDER: &str = "{{dfab_core}}";

/// Writes a new project into `dir` (created if missing, refused if it has files): the template's placeholders filled
/// as cargo-generate would, the package named after the directory and dfab-core a path dependency on this checkout.
pub(crate) fn create(dir: &Path) -> Result<(), LaunchError> {
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |source| LaunchError::Io { what, path, source }
    };
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(LaunchError::NotEmpty {
            path: dir.to_path_buf(),
        });
    }
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let core = std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../dfab-core"))
        .map_err(io(
            "find dfab-core in",
            Path::new(env!("CARGO_MANIFEST_DIR")),
        ))?;
    let name = package_name(dir);
    // Inside the manifest's quotes: escaped as a TOML (and Rust) string, without its own quotes.
    let quoted = format!("{:?}", core.display().to_string());
    let core = &quoted[1..quoted.len() - 1];
    for (file, text) in TEMPLATE {
        let text = text
            .replace(NAME_PLACEHOLDER, &name)
            .replace(CORE_PLACEHOLDER, core);
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(io("write", &path))?;
    }
    println!(
        "Created the fabfile project {}: `cd {} && dfab --list`",
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// A cargo package name from the directory's name: lower case, `-` for anything but letters, digits and `_`.
fn package_name(dir: &Path) -> String {
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    match name.trim_matches('-') {
        "" => "fabfile".into(),
        n if n.starts_with(|c: char| c.is_ascii_digit()) => format!("fabfile-{n}"),
        n => n.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        assert_eq!(package_name(Path::new("/srv/Shop Deploy")), "shop-deploy");
        assert_eq!(package_name(Path::new("2024")), "fabfile-2024");
        assert_eq!(package_name(Path::new("ops_tasks")), "ops_tasks");
    }

    #[test]
    fn the_template_has_the_placeholders() {
        let manifest = TEMPLATE[0].1;
        assert!(manifest.contains(CORE_PLACEHOLDER), "{manifest}");
        assert!(manifest.contains(NAME_PLACEHOLDER), "{manifest}");
        for (file, text) in &TEMPLATE[1..] {
            assert!(
                !text.contains("{{"),
                "{file} has a placeholder dfab new does not fill"
            );
        }
    }
}
