//! `docker.build_image`: the task over `docker::build_image` (a context directory built on the host's engine).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use crate::docker::{build_image as build, BuildOptions};
use crate::task;
use crate::term::output::puts;

/// Build an image from a context directory on the host's engine (the local one without a host), `.dockerignore`
/// honoured, the build's output shown: `build_image:.,tag=app:v2`; also `dockerfile=`, `build_args=K=V;K=V`,
/// `target=`, `pull=true`, `no_cache=true`, `timeout=` seconds.
#[task(namespace = "docker")]
#[allow(clippy::too_many_arguments)]
fn build_image(
    path: PathBuf,
    tag: Option<String>,
    dockerfile: Option<String>,
    build_args: Option<Vec<String>>,
    target: Option<String>,
    #[arg(default = false)] pull: bool,
    #[arg(default = false)] no_cache: bool,
    #[arg(default = 3600)] timeout: u64,
) -> anyhow::Result<()> {
    let mut args = Vec::new();
    for pair in build_args.unwrap_or_default() {
        match pair.split_once('=') {
            Some((key, value)) if !key.is_empty() => args.push((key.to_owned(), value.to_owned())),
            _ => bail!("build_args expects KEY=VALUE pairs separated by ';', not '{pair}'"),
        }
    }
    let options = BuildOptions {
        tag: tag.clone(),
        dockerfile,
        build_args: args,
        target,
        pull,
        no_cache,
        timeout: Duration::from_secs(timeout),
    };
    let id = build(&path, &options)?;
    let short = id.trim_start_matches("sha256:").get(..12).unwrap_or(&id);
    match tag {
        Some(tag) => puts(&format!("Built {tag} ({short}).")),
        None => puts(&format!("Built {short}.")),
    }
    Ok(())
}
