//! Building a fabfile into the cache, only when its files or dfab changed, and running it.

use std::collections::hash_map::DefaultHasher;
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::io::BufRead;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::errors::LaunchError;
use crate::locate::Fabfile;

/// The dfab-core of this launcher's checkout, which a single-file fabfile is built against.
const DFAB_CORE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dfab-core");

/// The fabfile's binary, built with cargo if anything it is made of changed since the last build.
pub(crate) fn build(fabfile: &Fabfile) -> Result<PathBuf, LaunchError> {
    // One target directory under the cache serves every fabfile, so dfab-core and its dependencies compile once.
    let cache = dfab_core::input::cache_dir();
    let (manifest, inputs) = match fabfile {
        Fabfile::Crate(dir) => (dir.join("Cargo.toml"), dir.clone()),
        Fabfile::Script(file) => (script_crate(&cache, file)?, parent(file)),
    };
    let key = format!(
        "{:016x}",
        fingerprint(&inputs, &manifest, matches!(fabfile, Fabfile::Crate(_)))
    );
    let stamp = cache
        .join("stamps")
        .join(format!("{:016x}", path_hash(&manifest)));
    if let Ok(recorded) = std::fs::read_to_string(&stamp) {
        if let Some((recorded_key, binary)) = recorded.split_once('\n') {
            let binary = PathBuf::from(binary.trim_end());
            if recorded_key == key && binary.is_file() {
                return Ok(binary);
            }
        }
    }
    let first = !cache.join("target").join("release").exists();
    eprintln!(
        "dfab: building the fabfile '{}'{}",
        fabfile.path().display(),
        if first {
            " (the first build compiles its dependencies: a few minutes)"
        } else {
            " (it changed)"
        }
    );
    let binary = cargo_build(&manifest, &cache, fabfile.path())?;
    // Taken again after the build: cargo writes the crate's Cargo.lock on its first build, which would otherwise
    // look like a change on the next run.
    let key = format!(
        "{:016x}",
        fingerprint(&inputs, &manifest, matches!(fabfile, Fabfile::Crate(_)))
    );
    write(&stamp, &format!("{key}\n{}\n", binary.display()))?;
    Ok(binary)
}

/// Runs the built fabfile with the launcher's arguments, as `dfab` (so `--completions` scripts name `dfab`).
pub(crate) fn exec(binary: &Path, args: &[OsString]) -> Result<ExitCode, LaunchError> {
    let status = Command::new(binary)
        .arg0("dfab")
        .args(args)
        .status()
        .map_err(|source| LaunchError::Exec {
            path: binary.to_path_buf(),
            source,
        })?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::from(1),
    })
}

/// A crate in the cache whose binary is the fabfile itself (its path in the manifest, so compiler messages name
/// the user's file), built against this checkout's dfab-core.
fn script_crate(cache: &Path, file: &Path) -> Result<PathBuf, LaunchError> {
    let file = std::fs::canonicalize(file).map_err(|source| LaunchError::Io {
        what: "read",
        path: file.to_path_buf(),
        source,
    })?;
    let dir = cache
        .join("scripts")
        .join(format!("{:016x}", path_hash(&file)));
    let core = std::fs::canonicalize(DFAB_CORE).unwrap_or_else(|_| PathBuf::from(DFAB_CORE));
    let manifest = dir.join("Cargo.toml");
    let text = format!(
        "# Made by the dfab launcher for {file}.\n[package]\nname = \"fabfile\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [[bin]]\nname = \"fabfile\"\npath = {file:?}\n\n[dependencies]\ndfab-core = {{ path = {core:?} }}\n\n[workspace]\n",
        file = file.display().to_string(),
        core = core.display().to_string(),
    );
    if std::fs::read_to_string(&manifest).ok().as_deref() != Some(text.as_str()) {
        write(&manifest, &text)?;
    }
    Ok(manifest)
}

/// `cargo build --release` of `manifest` into the cache's target directory, with the compiler's messages on stderr
/// as cargo prints them (and, on a terminal, cargo's progress and its notes when it waits for another build's
/// lock); the path of the binary it built. A map the fabfile's `build.rs` rejects is shown plainly at the end.
fn cargo_build(manifest: &Path, cache: &Path, fabfile: &Path) -> Result<PathBuf, LaunchError> {
    use std::io::IsTerminal;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let report = cache.join(format!("build-report.{}", std::process::id()));
    let _ = std::fs::remove_file(&report);
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ]);
    if !std::io::stderr().is_terminal() {
        command.arg("--quiet");
    }
    let mut child = command
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(cache.join("target"))
        .env(dfab_core::map::BUILD_REPORT, &report)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| LaunchError::Cargo { source })?;
    let mut binary = None;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(path) = executable(&line) {
                binary = Some(PathBuf::from(path));
            }
        }
    }
    let status = child
        .wait()
        .map_err(|source| LaunchError::Cargo { source })?;
    let rejected = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    if !status.success() {
        if !rejected.is_empty() {
            eprint!("\ndfab: the container map does not check:\n{rejected}");
        }
        return Err(LaunchError::Build {
            path: fabfile.to_path_buf(),
        });
    }
    binary.ok_or_else(|| LaunchError::NoBinary {
        path: fabfile.to_path_buf(),
    })
}

/// The `executable` of a cargo JSON message, when it has one.
fn executable(line: &str) -> Option<String> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    (message.get("reason")?.as_str()? == "compiler-artifact")
        .then(|| message.get("executable")?.as_str().map(str::to_owned))
        .flatten()
}

/// A hash of this launcher (version and build), the manifest and the fabfile's files: for a crate everything under
/// it but `target/` and hidden entries; for a single file the Rust files next to it and one level down (its
/// modules), not the whole project it may sit in. Unchanged means the last build still stands.
fn fingerprint(inputs: &Path, manifest: &Path, whole_tree: bool) -> u64 {
    let mut hasher = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    DFAB_CORE.hash(&mut hasher);
    // A reinstalled launcher (a newer dfab-core in the same version) rebuilds.
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .ok()
        .hash(&mut hasher);
    std::fs::read(manifest).ok().hash(&mut hasher);
    let mut files = Vec::new();
    collect(inputs, &mut files, if whole_tree { usize::MAX } else { 1 });
    if !whole_tree {
        files.retain(|f| f.extension().is_some_and(|e| e == "rs"));
    }
    files.sort();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).ok().hash(&mut hasher);
    }
    hasher.finish()
}

/// Every file under `dir` down to `depth` levels of subdirectories, skipping `target/` and hidden entries.
fn collect(dir: &Path, files: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "target" {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() && depth > 0 => collect(&path, files, depth - 1),
            Ok(kind) if kind.is_file() => files.push(path),
            _ => {}
        }
    }
}

fn path_hash(path: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    path.hash(&mut hasher);
    hasher.finish()
}

fn parent(file: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn write(path: &Path, text: &str) -> Result<(), LaunchError> {
    let io = |source| LaunchError::Io {
        what: "write",
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}
