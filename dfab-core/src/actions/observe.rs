//! Observing an engine: one listing each of containers, networks, volumes and images, then each item's state.

use std::collections::{HashMap, HashSet};

use bollard::models::{ContainerCreateBody, ContainerSummaryStateEnum, EndpointSettings};
use bollard::query_parameters::{ListContainersOptions, ListImagesOptions};

use super::create_args::{endpoint_settings, OWNER_LABEL};
use super::errors::RequestError;
use super::execute::{Helper, HELPER_LABEL};
use super::plan::item_name;
use super::update_check::{
    limit_changes, missing_exec, network_steps, ExecCheck, ExpectedEndpoint, ExpectedExec,
};
use super::{create_body, differences, ItemState, Presence, StepKind};
use crate::docker::{DockerClient, DockerError};
use crate::env::Env;
use crate::map::{
    network_name, select, ClientConfig, ContainerConfig, ContainerMap, ExecCommand, ExecPolicy,
    Graph, Item, NetworkMode, UnsetLazyValue,
};

/// The label Compose puts on its containers, naming the project.
const COMPOSE_LABEL: &str = "com.docker.compose.project";

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
    /// In-place changes the update check found for containers that need no new container.
    adjust: HashMap<String, Vec<StepKind>>,
    /// Volumes whose preparation has not finished (their marker container exists).
    unprepared: HashSet<String>,
    /// dfab's short-lived helper containers, with the map each belongs to: any that exist were left behind.
    helpers: Vec<(String, String)>,
}

/// The options of the update check (`actions.update`'s keywords).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateOptions {
    /// How exec commands are compared with the processes (`check_exec_commands`).
    pub check_exec: ExecCheck,
    /// Never recreate a container just because a limit is set on it that is no longer configured.
    pub skip_limit_reset: bool,
    /// Recreate persistent containers on an image change too.
    pub update_persistent: bool,
    /// Selectors of containers to recreate whatever the check finds (`force_update`).
    pub force: Vec<String>,
    /// Pull every image on the way, for a newer version under the same tag (`pull_before_update`).
    pub pull_before_update: bool,
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
            let labels = container.labels.clone().unwrap_or_default();
            if let Some(kind) = labels.get(HELPER_LABEL) {
                let map = labels.get(OWNER_LABEL).cloned().unwrap_or_default();
                for name in container.names.iter().flatten() {
                    let name = name.trim_start_matches('/');
                    let marker = format!(".dfab-{}", Helper::Marker.kind());
                    match name.strip_suffix(&marker) {
                        Some(volume) if kind == Helper::Marker.kind() => {
                            observed.unprepared.insert(volume.to_owned());
                        }
                        _ => observed.helpers.push((name.to_owned(), map.clone())),
                    }
                }
                continue;
            }
            for name in container.names.iter().flatten() {
                let name = name.trim_start_matches('/').to_owned();
                observed.containers.insert(name.clone(), state.clone());
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
    /// request its configuration gives now. What needs a new container marks it outdated; network connections,
    /// limits and missing exec commands become in-place adjustments.
    #[allow(clippy::too_many_arguments)]
    pub fn check_updates(
        &mut self,
        client: &DockerClient,
        map: &ContainerMap,
        graph: &Graph,
        items: &[Item],
        client_config: Option<&ClientConfig>,
        env: &Env,
        options: &UpdateOptions,
    ) -> Result<(), RequestError> {
        let mut forced = Vec::new();
        for selector in &options.force {
            forced.extend(
                select(map, selector, &[]).map_err(|e| RequestError::ForceUpdate(e.to_string()))?,
            );
        }
        let mut image_ids: HashMap<String, Option<String>> = HashMap::new();
        for item in items {
            let Item::Container { config, instance } = item else {
                continue;
            };
            let name = item_name(map, item);
            let Some(state) = self.containers.get(&name).cloned() else {
                continue;
            };
            if forced.contains(item) {
                self.outdated
                    .insert(name, vec!["forced by force_update".to_owned()]);
                continue;
            }
            let image = graph.image(item);
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
            let live = inspect_container(client, &name)?;
            let image_id = image_ids.get(&image).cloned().flatten();
            let settings = map.container(config).cloned().unwrap_or_default();
            let persistent = settings.persistent == Some(true);
            let mut reasons = differences(&expected, image_id.as_deref(), &live);
            if persistent && !options.update_persistent {
                // A persistent container keeps its data through image updates
                // (docs/docker-map-semantics.md#persistent-containers).
                reasons.retain(|r| r != "the image changed");
            }
            let wanted_host = expected.host_config.clone().unwrap_or_default();
            let live_host = live.host_config.clone().unwrap_or_default();
            let (limits, resets) = limit_changes(&wanted_host, &live_host);
            if !options.skip_limit_reset {
                reasons.extend(resets);
            }
            if !reasons.is_empty() {
                self.outdated.insert(name, reasons);
                continue;
            }
            let mut adjust = Vec::new();
            if let Some(endpoints) = expected_endpoints(map, &settings, env, &expected)? {
                let connected: HashMap<String, EndpointSettings> = live
                    .network_settings
                    .and_then(|n| n.networks)
                    .unwrap_or_default();
                adjust.extend(network_steps(&endpoints, &connected));
            }
            if !limits.is_empty() {
                adjust.push(StepKind::UpdateInPlace { changes: limits });
            }
            if state.presence == Presence::Running && options.check_exec != ExecCheck::None {
                let expected = expected_exec(&settings, env)?;
                if !expected.is_empty() {
                    let processes = processes(client, &name)?;
                    let missing = missing_exec(&expected, &processes, options.check_exec);
                    if !missing.is_empty() {
                        adjust.push(StepKind::ExecMissing { commands: missing });
                    }
                }
            }
            if !adjust.is_empty() {
                self.adjust.insert(name, adjust);
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
                let wanted = graph.image(item);
                let live = inspect_container(client, &name)?;
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

    /// The helper containers of `map` that a run cut short left behind (markers excepted: they mean work to do).
    pub fn leftover_helpers(&self, map: &ContainerMap) -> Vec<&str> {
        self.helpers
            .iter()
            .filter(|(_, owner)| *owner == map.name)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The state of `item` of `map`.
    pub fn state(&self, map: &ContainerMap, item: &Item) -> ItemState {
        let name = item_name(map, item);
        let found = match item {
            Item::Container { .. } => {
                let mut state = self
                    .containers
                    .get(&name)
                    .cloned()
                    .unwrap_or(ItemState::ABSENT);
                state.outdated = self.outdated.contains_key(&name);
                state.adjust = self.adjust.get(&name).cloned().unwrap_or_default();
                return state;
            }
            Item::Network(_) => self.networks.contains(&name),
            Item::Volume { .. } if self.volumes.contains(&name) => {
                return ItemState {
                    unprepared: self.unprepared.contains(&name),
                    ..ItemState::PRESENT
                }
            }
            Item::Volume { .. } => false,
            Item::Image(_) => self.images.contains(&name),
        };
        if found {
            ItemState::PRESENT
        } else {
            ItemState::ABSENT
        }
    }
}

/// The networks a configuration expects its container on, with their settings; `None` when its network mode
/// (host, none, another container's) leaves no networks to compare.
fn expected_endpoints(
    map: &ContainerMap,
    settings: &ContainerConfig,
    env: &Env,
    create: &ContainerCreateBody,
) -> Result<Option<Vec<ExpectedEndpoint>>, RequestError> {
    // The first network's endpoint is the create request's, which also carries the legacy links.
    let created = create
        .networking_config
        .as_ref()
        .and_then(|n| n.endpoints_config.as_ref());
    let bridge = || {
        Ok(Some(vec![ExpectedEndpoint {
            network: "bridge".into(),
            settings: EndpointSettings::default(),
        }]))
    };
    match (&settings.network_mode, &settings.networks) {
        (_, Some(endpoints)) if !endpoints.is_empty() => endpoints
            .iter()
            .map(|e| {
                let network = network_name(&map.name, &e.network);
                let settings = match created.and_then(|c| c.get(&network)) {
                    Some(first) => first.clone(),
                    None => endpoint_settings(map, e, env)?,
                };
                Ok(ExpectedEndpoint { network, settings })
            })
            .collect::<Result<Vec<_>, RequestError>>()
            .map(Some),
        (None, _) => bridge(),
        (Some(NetworkMode::Named(mode)), _) if mode == "bridge" || mode == "default" => bridge(),
        _ => Ok(None),
    }
}

/// The configuration's exec commands that run on every start, as the process list would show them.
fn expected_exec(
    settings: &ContainerConfig,
    env: &Env,
) -> Result<Vec<ExpectedExec>, UnsetLazyValue> {
    let mut out = Vec::new();
    for (index, command) in settings.exec_commands.iter().enumerate() {
        let (forms, user, policy) = match command {
            ExecCommand::Shell {
                command,
                user,
                policy,
            } => {
                let line = command.resolve(env)?;
                (vec![format!("/bin/sh -c {line}"), line], user, policy)
            }
            ExecCommand::Argv { argv, user, policy } => (vec![argv.join(" ")], user, policy),
        };
        if *policy != ExecPolicy::Restart {
            continue;
        }
        let user = match user.as_ref().or(settings.user.as_ref().map(|u| &u.user)) {
            Some(text) => Some(text.resolve(env)?),
            None => None,
        };
        let uid = match user {
            None => Some(0),
            Some(user) => user.split(':').next().and_then(|u| u.parse().ok()),
        };
        out.push(ExpectedExec { index, forms, uid });
    }
    Ok(out)
}

/// A container's processes as (uid, arguments), from the engine's `top`.
fn processes(client: &DockerClient, name: &str) -> Result<Vec<(Option<u32>, String)>, DockerError> {
    let target = name.to_owned();
    let top = client.call("listing a container's processes", |d| async move {
        d.top_processes(
            &target,
            Some(bollard::query_parameters::TopOptions {
                ps_args: "-eo pid,uid,args".into(),
            }),
        )
        .await
    })?;
    let titles = top.titles.unwrap_or_default();
    let uid_column = titles.iter().position(|t| t == "UID");
    Ok(top
        .processes
        .unwrap_or_default()
        .into_iter()
        .map(|row| {
            let uid = uid_column
                .and_then(|i| row.get(i))
                .and_then(|u| u.parse().ok());
            (uid, row.last().cloned().unwrap_or_default())
        })
        .collect())
}

/// The code in a status such as `Exited (137) 2 minutes ago`.
fn exit_code(status: &str) -> i64 {
    status
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(code, _)| code.parse().ok())
        .unwrap_or(0)
}

/// The engine's description of the container `name`.
fn inspect_container(
    client: &DockerClient,
    name: &str,
) -> Result<bollard::models::ContainerInspectResponse, DockerError> {
    let name = name.to_owned();
    client.call("inspecting a container", |d| async move {
        d.inspect_container(
            &name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn exit_codes() {
        assert_eq!(super::exit_code("Exited (137) 2 minutes ago"), 137);
        assert_eq!(super::exit_code("Dead"), 0);
    }
}
