//! The `dfab` launcher end to end: a project from `dfab new`, built by the launcher, listed and run; an edit that
//! rebuilds it; a broken map that stops the build with the validator's message; a single-file fabfile; no fabfile.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The cache shared by every test run, so dfab-core and its dependencies compile once (under `target/`).
fn cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/dfab-launcher-test-cache")
}

fn dfab(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dfab"))
        .args(args)
        .current_dir(dir)
        .env("DFAB_CACHE", cache())
        .output()
        .expect("dfab runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_new_project_builds_runs_rebuilds_and_refuses_a_broken_map() {
    let root = tempfile::tempdir().expect("temporary directory");
    let project = root.path().join("shop-ops");
    let created = dfab(root.path(), &["new", project.to_str().expect("utf-8 path")]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).starts_with("Created the fabfile project "));

    let listed = dfab(&project, &["--list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let list = text(&listed.stdout);
    assert!(list.starts_with("Tasks for my project.\n"), "{list}");
    assert!(list.contains("\n    hello "), "{list}");
    assert!(list.contains("\n    actions.startup "), "{list}");

    // From a subdirectory, as `fab` finds fabfile.py in a parent.
    let sub = project.join("deploy/scripts");
    std::fs::create_dir_all(&sub).expect("subdirectory");
    let hello = dfab(&sub, &["hello:Ada"]);
    assert_eq!(text(&hello.stdout), "Hello, Ada!\n\nDone.\n");

    let fabfile = project.join("fabfile.rs");
    let source = std::fs::read_to_string(&fabfile).expect("fabfile");
    std::fs::write(
        &fabfile,
        source.replace("Hello, {name}!", "Hi there, {name}!"),
    )
    .expect("edit");
    let edited = dfab(&project, &["hello:Ada"]);
    assert_eq!(
        text(&edited.stdout),
        "Hi there, Ada!\n\nDone.\n",
        "the edit is rebuilt: {}",
        text(&edited.stderr)
    );

    let map = project.join("map.yaml");
    let good = std::fs::read_to_string(&map).expect("map");
    std::fs::write(
        &map,
        good.replace("attaches: web_log", "attaches: web_logs"),
    )
    .expect("edit");
    let broken = dfab(&project, &["hello"]);
    assert_eq!(broken.status.code(), Some(1));
    let stderr = text(&broken.stderr);
    assert!(
        stderr.contains(
            "map.yaml:11:13: web.attaches: volume 'web_logs' has no path; did you mean 'web_log'?"
        ),
        "{stderr}"
    );
    // The map's problems come plainly at the end, after cargo's build-script block.
    assert!(
        stderr.ends_with(&format!(
            "\ndfab: the container map does not check:\nmap.yaml:11:13: web.attaches: volume 'web_logs' has no \
             path; did you mean 'web_log'?\ndfab: the fabfile '{}' did not build (the compiler's messages are above)\n",
            project.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.starts_with("dfab: building the fabfile '"),
        "{stderr}"
    );

    let again = dfab(root.path(), &["new", project.to_str().expect("utf-8 path")]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        text(&again.stderr),
        format!(
            "dfab: '{}' already exists and is not empty: expected a new or empty directory\n",
            project.display()
        )
    );
}

#[test]
fn a_single_file_fabfile_and_no_fabfile() {
    let root = tempfile::tempdir().expect("temporary directory");
    let tools = root.path().join("tools");
    std::fs::create_dir_all(&tools).expect("dir");
    std::fs::write(
        tools.join("fabfile.rs"),
        "use dfab_core::prelude::*;\n\nmod extra;\n\n/// Count to three.\n#[task]\nfn count() {\n    puts(\"1 2 3\");\n}\n\ndfab_core::main!();\n",
    )
    .expect("fabfile");
    std::fs::write(
        tools.join("extra.rs"),
        "use dfab_core::prelude::*;\n\n/// A task in a module.\n#[task]\nfn more() {\n    puts(\"more\");\n}\n",
    )
    .expect("module");
    let ran = dfab(
        root.path(),
        &["-f", "tools/fabfile.rs", "count", "extra.more"],
    );
    assert_eq!(
        text(&ran.stdout),
        "1 2 3\nmore\n\nDone.\n",
        "{}",
        text(&ran.stderr)
    );

    // No fabfile here or above: the built-in tasks.
    let empty = tempfile::tempdir().expect("temporary directory");
    let builtins = dfab(empty.path(), &["--list"]);
    let list = text(&builtins.stdout);
    assert!(list.starts_with("dfab's built-in tasks"), "{list}");
    assert!(list.contains("\n    docker.version "), "{list}");
    let missing = dfab(empty.path(), &["-f", "nowhere.rs", "--list"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).starts_with("dfab: fabfile '"),
        "{}",
        text(&missing.stderr)
    );
}

/// The README's first-hour walkthrough: its `console` blocks run as written, in order, in a fresh directory (`cd`
/// moves into the project; the `rust` block of step 5 is appended to `fabfile.rs` first); each command's stdout
/// must be the lines that follow it, where `…` stands for any text within a line.
#[test]
fn the_readmes_first_hour_runs_as_written() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let start = readme
        .find("## The first hour")
        .expect("the first-hour section");
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let blocks: Vec<(&str, &str)> = section
        .split("```")
        .skip(1)
        .step_by(2)
        .filter_map(|block| block.split_once('\n'))
        .collect();
    let ported = blocks
        .iter()
        .find(|(kind, _)| *kind == "rust")
        .map(|(_, code)| code.to_owned())
        .expect("the ported task");
    let root = tempfile::tempdir().expect("temporary directory");
    let mut dir = root.path().to_path_buf();
    let mut ran = 0;
    for (kind, body) in blocks {
        if kind != "console" {
            continue;
        }
        // Each command and the output lines after it.
        let mut steps: Vec<(String, Vec<String>)> = Vec::new();
        for line in body.lines() {
            match line.strip_prefix("$ ") {
                Some(command) => steps.push((command.to_owned(), Vec::new())),
                None => {
                    if let Some((_, expected)) = steps.last_mut() {
                        expected.push(line.to_owned());
                    }
                }
            }
        }
        for (command, expected) in steps {
            if let Some(sub) = command.strip_prefix("cd ") {
                dir = dir.join(sub);
                continue;
            }
            if command == "dfab engine_api"
                && !std::fs::read_to_string(dir.join("fabfile.rs"))
                    .unwrap()
                    .contains("fn engine_api")
            {
                let mut fabfile = std::fs::read_to_string(dir.join("fabfile.rs")).expect("fabfile");
                fabfile.push('\n');
                fabfile.push_str(ported);
                std::fs::write(dir.join("fabfile.rs"), fabfile).expect("fabfile");
            }
            let args: Vec<&str> = command
                .strip_prefix("dfab ")
                .expect("a dfab command")
                .split_whitespace()
                .collect();
            let output = dfab(&dir, &args);
            let stdout = text(&output.stdout);
            assert!(
                output.status.success(),
                "{command}: {}",
                text(&output.stderr)
            );
            let lines: Vec<&str> = stdout.lines().collect();
            assert_eq!(lines.len(), expected.len(), "{command}:\n{stdout}");
            for (got, want) in lines.iter().zip(&expected) {
                let matches = match want.split_once('…') {
                    Some((before, after)) => {
                        got.starts_with(before)
                            && got.ends_with(after)
                            && got.len() >= want.len() - 3
                    }
                    None => got == want,
                };
                assert!(matches, "{command}: {got:?} is not {want:?}");
            }
            ran += 1;
        }
    }
    assert!(ran >= 4, "the walkthrough's commands ran ({ran})");
}
