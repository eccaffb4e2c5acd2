//! Observing an engine: one listing each of containers, networks, volumes and images, then each item's state.

use std::collections::{HashMap, HashSet};

use bollard::models::ContainerSummaryStateEnum;
use bollard::query_parameters::{ListContainersOptions, ListImagesOptions};

use super::create_args::OWNER_LABEL;
use super::plan::item_name;
use super::{create_body, differences, ItemState};

/// The label Compose puts on its containers, naming the project.
const COMPOSE_LABEL: &str = "com.docker.compose.project";
use crate::docker::{DockerClient, DockerError};
use crate::env::Env;
use crate::map::{ClientConfig, Graph};
use crate::map::{ContainerMap, Item};

/// What the engine has, by name.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    containers: HashMap<String, ItemState>,
    networks: HashSet<String>,
    volumes: HashSet<String>,
    images: HashSet<String>,
    /// Containers that differ from their configuration, with what differs.
    outdated: HashMap<String, Vec<String>>,
    /// Each container's labels, by name, to tell the map's own containers from others of the same name.
    labels: HashMap<String, HashMap<String, String>>,
}

impl Observed {
    /// Lists the engine's containers, networks, volumes and images.
    pub fn load(client: &DockerClient) -> Result<Observed, DockerError> {
        let containers = client.call("listing containers", |d| async move {
            d.list_containers(Some(ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
        })?;
        let networks = client.call("listing networks", |d| async move {
            d.list_networks(None).await
        })?;
        let volumes = client.call("listing volumes", |d| async move {
            d.list_volumes(None::<bollard::query_parameters::ListVolumesOptions>)
                .await
        })?;
        let images = client.call("listing images", |d| async move {
            d.list_images(None::<ListImagesOptions>).await
        })?;
        let mut observed = Observed::default();
        for container in containers {
            let state = match container.state {
                Some(
                    ContainerSummaryStateEnum::RUNNING | ContainerSummaryStateEnum::RESTARTING,
                ) => ItemState::RUNNING,
                Some(ContainerSummaryStateEnum::CREATED) => ItemState::INITIAL,
                _ => ItemState::exited(exit_code(container.status.as_deref().unwrap_or_default())),
            };
            for name in container.names.iter().flatten() {
                let name = name.trim_start_matches('/').to_owned();
                observed.containers.insert(name.clone(), state);
                observed
                    .labels
                    .insert(name, container.labels.clone().unwrap_or_default());
            }
        }
        observed.networks = networks.into_iter().filter_map(|n| n.name).collect();
        observed.volumes = volumes
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect();
        observed.images = images.into_iter().flat_map(|i| i.repo_tags).collect();
        Ok(observed)
    }

    /// Runs the update check on the existing containers among `items`: inspects each and compares it with the
    /// request its configuration gives now.
    pub fn check_updates(
        &mut self,
        client: &DockerClient,
        map: &ContainerMap,
        graph: &Graph,
        items: &[Item],
        client_config: Option<&ClientConfig>,
        env: &Env,
    ) -> Result<(), String> {
        let mut image_ids: HashMap<String, Option<String>> = HashMap::new();
        for item in items {
            let Item::Container { config, instance } = item else {
                continue;
            };
            let name = item_name(map, item);
            if !self.containers.contains_key(&name) {
                continue;
            }
            let image = configured_image(graph, item);
            let expected =
                create_body(map, config, instance.as_deref(), &image, client_config, env)?;
            if !image_ids.contains_key(&image) {
                let wanted = image.clone();
                let id = client
                    .call("inspecting an image", |d| async move {
                        d.inspect_image(&wanted).await
                    })
                    .ok()
                    .and_then(|i| i.id);
                image_ids.insert(image.clone(), id);
            }
            let target = name.clone();
            let live = client
                .call("inspecting a container", |d| async move {
                    d.inspect_container(
                        &target,
                        None::<bollard::query_parameters::InspectContainerOptions>,
                    )
                    .await
                })
                .map_err(|e| e.to_string())?;
            let image_id = image_ids.get(&image).cloned().flatten();
            let persistent = map.container(config).and_then(|c| c.persistent) == Some(true);
            let mut reasons = differences(&expected, image_id.as_deref(), &live);
            if persistent {
                // A persistent container keeps its data through image updates (reference §4.10).
                reasons.retain(|r| r != "the image changed");
            }
            if !reasons.is_empty() {
                self.outdated.insert(name, reasons);
            }
        }
        Ok(())
    }

    /// Refuses to touch a container of `items` that has the name of the map's container but is not the map's: one
    /// labelled for another map or a Compose project, or an unlabelled one (docker-map's containers have no label)
    /// made from another image than the configuration's.
    pub fn check_owners(
        &self,
        client: &DockerClient,
        map: &ContainerMap,
        graph: &Graph,
        items: &[Item],
    ) -> anyhow::Result<()> {
        let mut foreign = Vec::new();
        for item in items.iter().filter(|i| matches!(i, Item::Container { .. })) {
            let name = item_name(map, item);
            let Some(labels) = self.labels.get(&name) else {
                continue;
            };
            let reason = if let Some(owner) = labels.get(OWNER_LABEL) {
                (owner != &map.name).then(|| format!("it belongs to map '{owner}'"))
            } else if let Some(project) = labels.get(COMPOSE_LABEL) {
                Some(format!("it belongs to the Compose project '{project}'"))
            } else {
                let wanted = configured_image(graph, item);
                let target = name.clone();
                let live = client.call("inspecting a container", |d| async move {
                    d.inspect_container(
                        &target,
                        None::<bollard::query_parameters::InspectContainerOptions>,
                    )
                    .await
                })?;
                let image = live.config.and_then(|c| c.image).unwrap_or_default();
                (image != wanted).then(|| {
                    format!("it was made from image '{image}', not '{wanted}', and has no {OWNER_LABEL} label")
                })
            };
            if let Some(reason) = reason {
                foreign.push(format!(
                    "container '{name}' is not map '{}''s: {reason}",
                    map.name
                ));
            }
        }
        if !foreign.is_empty() {
            anyhow::bail!("{}; remove or rename it first", foreign.join("; "));
        }
        Ok(())
    }

    /// What differs for each container the update check found out of date, by container name.
    pub fn outdated(&self) -> &HashMap<String, Vec<String>> {
        &self.outdated
    }

    /// The state of an item of `map`.
    pub fn state(&self, map: &ContainerMap, item: &Item) -> ItemState {
        let name = item_name(map, item);
        let found = match item {
            Item::Container { .. } => {
                let mut state = self
                    .containers
                    .get(&name)
                    .copied()
                    .unwrap_or(ItemState::ABSENT);
                state.outdated = self.outdated.contains_key(&name);
                return state;
            }
            Item::Network(_) => self.networks.contains(&name),
            Item::Volume { .. } => self.volumes.contains(&name),
            Item::Image(_) => self.images.contains(&name),
        };
        if found {
            ItemState::PRESENT
        } else {
            ItemState::ABSENT
        }
    }
}

/// The name of the image a container item of the graph is made from.
fn configured_image(graph: &Graph, item: &Item) -> String {
    graph
        .direct(item)
        .iter()
        .find_map(|d| match d {
            Item::Image(image) => Some(image.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The code in a status such as `Exited (137) 2 minutes ago`.
fn exit_code(status: &str) -> i64 {
    status
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(code, _)| code.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn exit_codes() {
        assert_eq!(super::exit_code("Exited (137) 2 minutes ago"), 137);
        assert_eq!(super::exit_code("Dead"), 0);
    }
}
