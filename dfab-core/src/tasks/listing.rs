//! `docker.list_images`, `list_containers`, `list_networks` and `list_volumes`: tables, or JSON for scripts.

use anyhow::bail;
use bollard::query_parameters::{ListContainersOptions, ListImagesOptions};
use serde::Serialize;

use super::table::{engine_time, short_id, size, timestamp, Table};
use crate::docker::docker_client;
use crate::task;
use crate::term::output::fastprint;

/// How a listing is printed.
enum Format {
    Table,
    Json,
}

impl Format {
    fn parse(text: &str) -> anyhow::Result<Format> {
        match text {
            "table" | "" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            other => bail!("format '{other}' is not a listing format: expected table or json"),
        }
    }
}

/// One JSON line per host: `{"host": "web1", "<kind>": [...]}` (`localhost` without a host), so that stdout is a
/// stream of JSON documents whatever the number of hosts (`jq` reads it as it is; `jq -s` makes one array).
fn print_json<T: Serialize>(kind: &str, items: &T) -> anyhow::Result<()> {
    let host = crate::env::env()
        .host_string
        .clone()
        .unwrap_or_else(|| "localhost".into());
    let line = serde_json::json!({ "host": host, kind: items });
    fastprint(&format!("{}\n", serde_json::to_string(&line)?));
    Ok(())
}

/// List the host's images with parent ids and absolute creation times; `list_all` includes intermediate
/// layers, `full_ids` prints whole ids, `format=json` prints their records (untagged: no tags, on every engine).
#[task(namespace = "docker")]
fn list_images(
    #[arg(default = false)] list_all: bool,
    #[arg(default = false)] full_ids: bool,
    #[arg(default = "table")] format: String,
) -> anyhow::Result<()> {
    let format = Format::parse(&format)?;
    let client = docker_client()?;
    let mut images = client.call("listing images", |d| async move {
        d.list_images(Some(ListImagesOptions {
            all: list_all,
            ..Default::default()
        }))
        .await
    })?;
    images.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    // Engines before API 1.43 name an untagged image `<none>:<none>`; later ones give no name, as the JSON does.
    for image in &mut images {
        image.repo_tags.retain(|t| t != "<none>:<none>");
        image.repo_digests.retain(|d| d != "<none>@<none>");
    }
    if let Format::Json = format {
        return print_json("images", &images);
    }
    let mut table = Table::new(&["Id", "RepoTags", "ParentId", "Created", "Size"]);
    for image in &images {
        table.row(vec![
            vec![short_id(&image.id, full_ids)],
            image.repo_tags.clone(),
            vec![short_id(&image.parent_id, full_ids)],
            vec![timestamp(image.created)],
            vec![size(image.size)],
        ]);
    }
    fastprint(&table.render());
    Ok(())
}

/// List the host's containers, ports and names on several lines and absolute creation times; all containers
/// unless `list_all` is false (or empty), registry prefixes hidden unless `short_image=false`, whole ids with
/// `full_ids`, whole commands with `full_cmd`, `format=json` for the engine's records.
#[task(namespace = "docker")]
fn list_containers(
    #[arg(default = true)] list_all: bool,
    #[arg(default = true)] short_image: bool,
    #[arg(default = false)] full_ids: bool,
    #[arg(default = false)] full_cmd: bool,
    #[arg(default = "table")] format: String,
) -> anyhow::Result<()> {
    let format = Format::parse(&format)?;
    let client = docker_client()?;
    let mut containers = client.call("listing containers", |d| async move {
        d.list_containers(Some(ListContainersOptions {
            all: list_all,
            ..Default::default()
        }))
        .await
    })?;
    containers.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    if let Format::Json = format {
        return print_json("containers", &containers);
    }
    let mut table = Table::new(&[
        "Id", "Names", "Image", "Command", "Ports", "Status", "Created",
    ]);
    for container in &containers {
        let image = container.image.clone().unwrap_or_default();
        let command = container.command.clone().unwrap_or_default();
        let mut ports: Vec<String> = container
            .ports
            .iter()
            .flatten()
            .map(|p| {
                let kind = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
                match (p.ip.as_deref(), p.public_port) {
                    (Some(ip), Some(public)) => {
                        format!("{ip}:{public}->{}/{kind}", p.private_port)
                    }
                    _ => format!("{}/{kind}", p.private_port),
                }
            })
            .collect();
        ports.sort();
        ports.dedup();
        table.row(vec![
            vec![short_id(
                container.id.as_deref().unwrap_or_default(),
                full_ids,
            )],
            container
                .names
                .iter()
                .flatten()
                .map(|n| n.trim_start_matches('/').to_owned())
                .collect(),
            vec![if short_image {
                without_registry(&image)
            } else {
                image
            }],
            vec![if full_cmd {
                command
            } else {
                shorten(&command, 25)
            }],
            ports,
            vec![container.status.clone().unwrap_or_default()],
            vec![container.created.map(timestamp).unwrap_or_default()],
        ]);
    }
    fastprint(&table.render());
    Ok(())
}

/// List the host's networks; `format=json` for the engine's records.
#[task(namespace = "docker")]
fn list_networks(
    #[arg(default = false)] full_ids: bool,
    #[arg(default = "table")] format: String,
) -> anyhow::Result<()> {
    let format = Format::parse(&format)?;
    let client = docker_client()?;
    let mut networks = client.call("listing networks", |d| async move {
        d.list_networks(None).await
    })?;
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    if let Format::Json = format {
        return print_json("networks", &networks);
    }
    let mut table = Table::new(&["Id", "Name", "Driver", "Scope", "Created"]);
    for network in &networks {
        table.row(vec![
            vec![short_id(
                network.id.as_deref().unwrap_or_default(),
                full_ids,
            )],
            vec![network.name.clone().unwrap_or_default()],
            vec![network.driver.clone().unwrap_or_default()],
            vec![network.scope.clone().unwrap_or_default()],
            vec![network
                .created
                .as_deref()
                .map(engine_time)
                .unwrap_or_default()],
        ]);
    }
    fastprint(&table.render());
    Ok(())
}

/// List the host's volumes; `format=json` for the engine's records.
#[task(namespace = "docker")]
fn list_volumes(#[arg(default = "table")] format: String) -> anyhow::Result<()> {
    let format = Format::parse(&format)?;
    let client = docker_client()?;
    let listing = client.call("listing volumes", |d| async move {
        d.list_volumes(None::<bollard::query_parameters::ListVolumesOptions>)
            .await
    })?;
    let mut volumes = listing.volumes.unwrap_or_default();
    volumes.sort_by(|a, b| a.name.cmp(&b.name));
    if let Format::Json = format {
        return print_json("volumes", &volumes);
    }
    let mut table = Table::new(&["Name", "Driver", "Mountpoint", "Created"]);
    for volume in &volumes {
        table.row(vec![
            vec![volume.name.clone()],
            vec![volume.driver.clone()],
            vec![volume.mountpoint.clone()],
            vec![volume
                .created_at
                .as_deref()
                .map(engine_time)
                .unwrap_or_default()],
        ]);
    }
    fastprint(&table.render());
    Ok(())
}

/// An image name without its registry (`registry.example.com:5000/app:1` → `app:1`); Docker Hub names keep their
/// organisation (`library/busybox` stays).
fn without_registry(image: &str) -> String {
    match image.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            rest.to_owned()
        }
        _ => image.to_owned(),
    }
}

/// `text` cut to `max` characters with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_prefixes() {
        assert_eq!(without_registry("registry.example.com:5000/app:1"), "app:1");
        assert_eq!(without_registry("localhost:5000/app"), "app");
        assert_eq!(without_registry("quay.io/org/x:2"), "org/x:2");
        assert_eq!(without_registry("library/busybox"), "library/busybox");
        assert_eq!(without_registry("busybox:latest"), "busybox:latest");
    }

    #[test]
    fn commands_are_shortened() {
        assert_eq!(shorten("sh", 25), "sh");
        assert_eq!(
            shorten("/bin/sh -c 'while true; do sleep 1; done'", 10),
            "/bin/sh -…"
        );
    }
}
