//! `docker.cleanup_containers`, `cleanup_images` and `remove_all_containers`.

use crate::docker::docker_client;
use crate::env::env;
use crate::task;
use crate::term::output::{fastprint, puts};

fn lines(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().map(|i| format!("{i}\n")).collect()
}

/// Remove exited containers; `include_initial` also those never started, `exclude` keeps names (`a;b`),
/// `list_only` only lists them.
#[task(namespace = "docker")]
fn cleanup_containers(
    #[arg(default = false)] include_initial: bool,
    exclude: Option<Vec<String>>,
    #[arg(default = false)] list_only: bool,
    #[arg(default = false)] raise_on_error: bool,
) -> anyhow::Result<()> {
    let client = docker_client()?;
    let containers = client.cleanup_containers(
        include_initial,
        &exclude.unwrap_or_default(),
        raise_on_error,
        list_only,
    )?;
    if list_only {
        puts("Existing containers:");
        fastprint(&lines(
            containers
                .into_iter()
                .map(|c| format!("{}  {}", c.id, c.name)),
        ));
    } else {
        puts("Removed containers:");
        fastprint(&lines(containers.into_iter().map(|c| c.name)));
    }
    Ok(())
}

/// Remove images without tags that no container uses; `remove_old` also tagged ones without `latest` (or a tag
/// of `keep_tags`, `a;b`, default `env.docker_keep_tags`), `list_only` only lists them.
#[task(namespace = "docker")]
fn cleanup_images(
    #[arg(default = false)] remove_old: bool,
    keep_tags: Option<Vec<String>>,
    #[arg(default = false)] list_only: bool,
    #[arg(default = false)] force: bool,
    #[arg(default = false)] raise_on_error: bool,
) -> anyhow::Result<()> {
    let client = docker_client()?;
    let keep_tags = keep_tags.unwrap_or_else(|| env().docker_keep_tags.clone());
    let images = client.cleanup_images(remove_old, &keep_tags, force, raise_on_error, list_only)?;
    puts(if list_only {
        "Unused images:"
    } else {
        "Removed images:"
    });
    fastprint(&lines(images));
    Ok(())
}

/// Stop (waiting `stop_timeout` seconds) and remove every container on the host; `list_only` only lists them.
#[task(namespace = "docker")]
fn remove_all_containers(
    #[arg(default = 10)] stop_timeout: i32,
    #[arg(default = false)] list_only: bool,
    #[arg(default = false)] raise_on_error: bool,
) -> anyhow::Result<()> {
    let client = docker_client()?;
    let done = client.remove_all_containers(stop_timeout, raise_on_error, list_only)?;
    let (first, second) = if list_only {
        ("Running containers:", "All containers:")
    } else {
        ("Stopped containers:", "Removed containers:")
    };
    puts(first);
    fastprint(&lines(done.stopped));
    puts(second);
    fastprint(&lines(done.removed));
    Ok(())
}
