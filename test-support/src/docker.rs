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
