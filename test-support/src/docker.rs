//! The docker command line, for tests that look at an engine the way an operator would.

use std::process::Command;

/// Runs `docker [-H engine] args…`; whether it succeeded, and its standard output trimmed.
pub fn docker(engine: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut command = Command::new("docker");
    if let Some(engine) = engine {
        command.args(["-H", engine]);
    }
    let output = command
        .args(args)
        .output()
        .expect("the docker command line");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    )
}

/// The ID of `image` on `engine` (the default engine for `None`), if it has it.
pub fn image_id(engine: Option<&str>, image: &str) -> Option<String> {
    let (found, id) = docker(engine, &["image", "inspect", "-f", "{{.Id}}", image]);
    found.then_some(id)
}

/// What identifies `image` on `engine` (the default engine for `None`) whatever its image store, if it has it: its
/// layers, creation time and command. The ID cannot: it is the config's digest on the classic store and the
/// manifest's on containerd's.
pub fn image_content(engine: Option<&str>, image: &str) -> Option<String> {
    let (found, content) = docker(
        engine,
        &[
            "image",
            "inspect",
            "-f",
            "{{json .RootFS.Layers}} {{.Created}} {{json .Config.Cmd}}",
            image,
        ],
    );
    found.then_some(content)
}

/// The IDs of the untagged images on `engine`: what a failed push must not leave behind.
pub fn untagged_images(engine: Option<&str>) -> Vec<String> {
    let (_, listing) = docker(
        engine,
        &["image", "ls", "-a", "--format", "{{.ID}} {{.Repository}}"],
    );
    listing
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(_, repository)| *repository == "<none>")
        .map(|(id, _)| id.to_owned())
        .collect()
}
