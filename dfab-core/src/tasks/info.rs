//! `docker.version`: the engine's version, like `docker version`.

use crate::docker::docker_client;
use crate::task;
use crate::term::output::{fastprint, puts};

/// Show the Docker engine's version information, like `docker version`.
#[task(namespace = "docker")]
fn version() -> anyhow::Result<()> {
    let client = docker_client()?;
    let version = client.call("version", |d| async move { d.version().await })?;
    let fields = [
        ("Version", version.version),
        ("ApiVersion", version.api_version),
        ("MinAPIVersion", version.min_api_version),
        ("GitCommit", version.git_commit),
        ("GoVersion", version.go_version),
        ("Os", version.os),
        ("Arch", version.arch),
        ("KernelVersion", version.kernel_version),
        ("BuildTime", version.build_time),
        ("Experimental", version.experimental.map(|e| e.to_string())),
    ];
    puts("");
    fastprint(&aligned(&fields));
    Ok(())
}

/// `Key: value` lines with the values in one column, skipping keys without a value.
fn aligned(fields: &[(&str, Option<String>)]) -> String {
    let width = fields.iter().map(|(k, _)| k.len() + 1).max().unwrap_or(0);
    let mut text = String::new();
    for (key, value) in fields {
        if let Some(value) = value {
            text.push_str(&format!("{:width$} {value}\n", format!("{key}:")));
        }
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_line_up() {
        assert_eq!(
            super::aligned(&[
                ("Version", Some("20.10.24".into())),
                ("Os", Some("linux".into())),
                ("Experimental", None),
                ("ApiVersion", Some("1.41".into())),
            ]),
            "Version:      20.10.24\nOs:           linux\nApiVersion:   1.41\n\n"
        );
    }
}
