//! Observing an engine: one listing each of containers, networks, volumes and images, then each item's state.

use std::collections::{HashMap, HashSet};

use bollard::models::ContainerSummaryStateEnum;
use bollard::query_parameters::{ListContainersOptions, ListImagesOptions};

use super::plan::item_name;
use super::ItemState;
use crate::docker::{DockerClient, DockerError};
use crate::map::{ContainerMap, Item};

/// What the engine has, by name.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    containers: HashMap<String, ItemState>,
    networks: HashSet<String>,
    volumes: HashSet<String>,
    images: HashSet<String>,
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
                observed
                    .containers
                    .insert(name.trim_start_matches('/').to_owned(), state);
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

    /// The state of an item of `map`.
    pub fn state(&self, map: &ContainerMap, item: &Item) -> ItemState {
        let name = item_name(map, item);
        let found = match item {
            Item::Container { .. } => {
                return self
                    .containers
                    .get(&name)
                    .copied()
                    .unwrap_or(ItemState::ABSENT)
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
