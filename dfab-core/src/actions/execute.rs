//! Carrying out a plan on an engine, step by step, printing each as `[host] docker: …` and a summary.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bollard::models::{
    ExecConfig, NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
    VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, RemoveContainerOptions, StopContainerOptions,
};
use futures_util::StreamExt;

use super::create_args::{endpoint_settings, OWNER_LABEL};
use super::errors::{ActionError, StepError};
use super::schedule::{Job, Schedule};
use super::update_check::update_body;
use super::{create_body, Step, StepKind};
use crate::docker::{DockerClient, DockerError};
use crate::env::Env;
use crate::map::{network_name, ClientConfig, ContainerMap, ExecCommand, Item};
use crate::term::output;

/// What an action did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Steps of each kind done, by the kind's name.
    pub counts: Vec<(&'static str, usize)>,
    /// How long it took.
    pub elapsed: Duration,
}

fn kind_name(kind: &StepKind) -> &'static str {
    match kind {
        StepKind::Pull => "pulled",
        StepKind::CreateNetwork | StepKind::CreateVolume | StepKind::CreateContainer { .. } => {
            "created"
        }
        StepKind::PrepareVolume { again: false, .. } => "prepared",
        StepKind::PrepareVolume { again: true, .. } => "repaired",
        StepKind::ConnectNetworks { .. } => "connected",
        StepKind::Start => "started",
        StepKind::Exec { .. } | StepKind::ExecMissing { .. } => "exec'd",
        StepKind::Connect { .. } => "connected",
        StepKind::Disconnect { .. } => "disconnected",
        StepKind::UpdateInPlace { .. } => "updated",
        StepKind::Stop => "stopped",
        StepKind::Remove | StepKind::RemoveVolume | StepKind::RemoveNetwork => "removed",
        StepKind::Kill { .. } => "signalled",
    }
}

/// Runs the scheduled jobs, up to `parallel` at a time, each as soon as the jobs it waits for are done, each job's
/// steps in order. The first failure stops the run after the jobs already under way, with the step and the engine's
/// message, after printing what was done. With one worker the jobs run in planned order, the dry run's.
pub fn execute(
    client: &DockerClient,
    map: &ContainerMap,
    schedule: &Schedule,
    client_config: Option<&ClientConfig>,
    env: &Env,
    parallel: usize,
) -> Result<Summary, ActionError> {
    let start = Instant::now();
    let counts: Mutex<HashMap<&'static str, usize>> = Mutex::new(HashMap::new());
    let current = crate::env::env();
    let run_job = |job: &Job| -> Result<(), ActionError> {
        for step in &job.1 {
            output::running(&format!("docker: {step}"));
            run_step(client, map, step, client_config, env).map_err(|source| ActionError {
                step: step.to_string().trim_end_matches('.').to_owned(),
                source: Box::new(source),
            })?;
            if let Ok(mut counts) = counts.lock() {
                *counts.entry(kind_name(&step.kind)).or_default() += 1;
            }
        }
        Ok(())
    };
    // Workers print with the task's host prefix, so they take its env.
    let failure = crate::pool::run_as_ready(parallel, &current, &schedule.waits, |index| {
        run_job(&schedule.jobs[index])
    })
    .map(|(index, cause)| {
        cause.unwrap_or_else(|panicked| ActionError {
            step: schedule.jobs[index].0.to_string(),
            source: Box::new(StepError::Panicked(panicked.0)),
        })
    });
    let counts = counts.into_inner().unwrap_or_default();
    let elapsed = start.elapsed();
    print_summary(&counts, elapsed, failure.is_some());
    if let Some(error) = failure {
        return Err(error);
    }
    let mut counts: Vec<(&'static str, usize)> = counts.into_iter().collect();
    counts.sort();
    Ok(Summary { counts, elapsed })
}

/// Prints what was done; after a failure it says the run stopped there, so "nothing to do" never hides a failed step.
fn print_summary(counts: &HashMap<&'static str, usize>, elapsed: Duration, failed: bool) {
    let order = [
        "pulled",
        "created",
        "prepared",
        "repaired",
        "connected",
        "disconnected",
        "updated",
        "started",
        "exec'd",
        "stopped",
        "removed",
        "signalled",
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|k| counts.get(k).map(|n| format!("{n} {k}")))
        .collect();
    let done = match (parts.is_empty(), failed) {
        (true, false) => "nothing to do".to_owned(),
        (true, true) => "nothing done".to_owned(),
        (false, _) => parts.join(", "),
    };
    let stopped = if failed {
        ", then stopped by a failure"
    } else {
        ""
    };
    output::running(&format!(
        "docker: {done} in {:.1} s{stopped}",
        elapsed.as_secs_f64()
    ));
}

/// Connects container `name` of `config` to `network` with the endpoint settings the configuration gives there
/// (none for a network it does not name, such as the default `bridge`).
fn connect(
    client: &DockerClient,
    what: &str,
    map: &ContainerMap,
    (config, name): (&str, &str),
    network: &str,
    env: &Env,
) -> Result<(), StepError> {
    let endpoint = map
        .container(config)
        .and_then(|c| c.networks.as_ref())
        .and_then(|endpoints| {
            endpoints
                .iter()
                .find(|e| network_name(&map.name, &e.network) == network)
        });
    let settings = match endpoint {
        Some(endpoint) => endpoint_settings(map, endpoint, env)?,
        None => Default::default(),
    };
    let (container, network) = (name.to_owned(), network.to_owned());
    client
        .call(what, |d| async move {
            d.connect_network(
                &network,
                NetworkConnectRequest {
                    container,
                    endpoint_config: Some(settings),
                },
            )
            .await
        })
        .map_err(StepError::Engine)
}

fn run_step(
    client: &DockerClient,
    map: &ContainerMap,
    step: &Step,
    client_config: Option<&ClientConfig>,
    env: &Env,
) -> Result<(), StepError> {
    let name = step.name.clone();
    let what = step.to_string();
    match (&step.kind, &step.item) {
        (StepKind::Pull, _) => {
            super::pull::pull(client, &what, &name, client_config, env).map_err(StepError::Engine)
        }
        (StepKind::CreateNetwork, Item::Network(network)) => {
            let settings = map.networks.get(network).cloned().unwrap_or_default();
            let options = resolved(&settings.driver_options, env)?;
            let created = client.call(&what, |d| async move {
                d.create_network(NetworkCreateRequest {
                    name,
                    driver: Some(settings.driver),
                    internal: Some(settings.internal),
                    options: Some(options),
                    ..Default::default()
                })
                .await
            });
            match created {
                Ok(created) => {
                    warn_of(&what, std::iter::once(created.warning));
                    Ok(())
                }
                // Made since the engine was observed (by another run, or another client on the same engine): the
                // network is there, as the step wants. Engines from API 1.44 always answer a taken name so.
                Err(DockerError::Api { status: 409, .. }) => Ok(()),
                Err(e) => Err(StepError::Engine(e)),
            }
        }
        (StepKind::CreateVolume, Item::Volume { config, alias }) => {
            let settings = map.volumes.get(alias).cloned().unwrap_or_default();
            let options = resolved(&settings.driver_options, env)?;
            // A volume that needs preparing gets its marker first, so that a run cut short between creating and
            // preparing it leaves a sign the next run finds (the volume alone looks finished).
            if super::plan::preparation(map, config, alias).is_some() {
                create_marker(client, &map.name, &name, env)?;
            }
            client
                .call(&what, |d| async move {
                    d.create_volume(VolumeCreateRequest {
                        name: Some(name),
                        driver: Some(if settings.driver.is_empty() {
                            "local".into()
                        } else {
                            settings.driver
                        }),
                        driver_opts: Some(options),
                        ..Default::default()
                    })
                    .await
                    .map(drop)
                })
                .map_err(StepError::Engine)
        }
        (
            StepKind::PrepareVolume {
                owner, permissions, ..
            },
            _,
        ) => prepare_volume(
            client,
            (&map.name, &name),
            owner.as_deref(),
            permissions.as_deref(),
            env,
        ),
        (StepKind::CreateContainer { image }, Item::Container { config, instance }) => {
            let body = create_body(map, config, instance.as_deref(), image, client_config, env)?;
            let created = client
                .call(&what, |d| async move {
                    d.create_container(
                        Some(CreateContainerOptions {
                            name: Some(name),
                            ..Default::default()
                        }),
                        body,
                    )
                    .await
                })
                .map_err(StepError::Engine)?;
            // The engine takes some settings it cannot apply and says so only here ("OomKillDisable discarded").
            warn_of(&what, created.warnings.into_iter());
            Ok(())
        }
        (StepKind::ConnectNetworks { .. }, Item::Container { config, .. }) => {
            let endpoints = map
                .container(config)
                .and_then(|c| c.networks.clone())
                .unwrap_or_default();
            for endpoint in endpoints.iter().skip(1) {
                let network = network_name(&map.name, &endpoint.network);
                connect(client, &what, map, (config, &name), &network, env)?;
            }
            Ok(())
        }
        (StepKind::Connect { network }, Item::Container { config, .. }) => {
            connect(client, &what, map, (config, &name), network, env)
        }
        (StepKind::Disconnect { network }, _) => {
            let network = network.clone();
            client
                .call(&what, |d| async move {
                    d.disconnect_network(
                        &network,
                        NetworkDisconnectRequest {
                            container: name,
                            force: Some(true),
                        },
                    )
                    .await
                })
                .map_err(StepError::Engine)
        }
        (StepKind::UpdateInPlace { .. }, Item::Container { config, instance }) => {
            // Only the host config's limits and restart policy matter here, not the image.
            let body = create_body(map, config, instance.as_deref(), "", client_config, env)?;
            let update = update_body(&body.host_config.unwrap_or_default());
            client
                .call(
                    &what,
                    |d| async move { d.update_container(&name, update).await },
                )
                .map_err(StepError::Engine)
        }
        (StepKind::Start, Item::Container { config, .. }) => {
            client
                .call(&what, |d| async move {
                    d.start_container(
                        &name,
                        None::<bollard::query_parameters::StartContainerOptions>,
                    )
                    .await
                })
                .map_err(StepError::Engine)?;
            if let Some(delay) = map.container(config).and_then(|c| c.start_delay) {
                std::thread::sleep(Duration::from_secs_f64(delay.max(0.0)));
            }
            Ok(())
        }
        (StepKind::Exec { .. } | StepKind::ExecMissing { .. }, Item::Container { config, .. }) => {
            let settings = map.container(config).cloned().unwrap_or_default();
            let chosen = |index: &usize| match &step.kind {
                StepKind::Exec { commands } | StepKind::ExecMissing { commands } => {
                    commands.contains(index)
                }
                _ => false,
            };
            for (_, command) in settings
                .exec_commands
                .iter()
                .enumerate()
                .filter(|(index, _)| chosen(index))
            {
                let (cmd, user) = match command {
                    ExecCommand::Shell { command, user, .. } => (
                        vec!["/bin/sh".to_owned(), "-c".to_owned(), command.resolve(env)?],
                        user,
                    ),
                    ExecCommand::Argv { argv, user, .. } => (argv.clone(), user),
                };
                let user = match user.as_ref().or(settings.user.as_ref().map(|u| &u.user)) {
                    Some(text) => Some(text.resolve(env)?),
                    None => None,
                };
                let container = name.clone();
                // Started detached: a long-running command must not hold up the action (docker-map's bug 27,
                // docs/docker-map-semantics.md#bugs-dfab-does-not-repeat).
                client
                    .call(&what, |d| async move {
                        let exec = d
                            .create_exec(
                                &container,
                                ExecConfig {
                                    cmd: Some(cmd),
                                    user,
                                    ..Default::default()
                                },
                            )
                            .await?;
                        d.start_exec(
                            &exec.id,
                            Some(bollard::exec::StartExecOptions {
                                detach: true,
                                ..Default::default()
                            }),
                        )
                        .await
                        .map(drop)
                    })
                    .map_err(StepError::Engine)?;
            }
            Ok(())
        }
        (StepKind::Stop, Item::Container { config, .. }) => {
            let timeout = map
                .container(config)
                .and_then(|c| c.stop_timeout)
                .or(client_config.and_then(|c| c.stop_timeout))
                .and_then(|t| i32::try_from(t).ok());
            let client = client.with_timeout(Duration::from_secs(
                client.timeout() + timeout.unwrap_or(10).unsigned_abs() as u64,
            ));
            client
                .call(&what, |d| async move {
                    d.stop_container(
                        &name,
                        Some(StopContainerOptions {
                            t: timeout,
                            ..Default::default()
                        }),
                    )
                    .await
                })
                .map_err(StepError::Engine)
        }
        (StepKind::RemoveVolume, _) => {
            remove_helper(client, &helper_name(&name, Helper::Marker))?;
            client
                .call(&what, |d| async move {
                    d.remove_volume(
                        &name,
                        None::<bollard::query_parameters::RemoveVolumeOptions>,
                    )
                    .await
                })
                .map_err(StepError::Engine)
        }
        (StepKind::RemoveNetwork, _) => client
            .call(&what, |d| async move { d.remove_network(&name).await })
            .map_err(StepError::Engine),
        // With its anonymous volumes (`shares`), as `docker rm -v` does: nothing else can ever use them again.
        (StepKind::Remove, _) => client
            .call(&what, |d| async move {
                d.remove_container(&name, Some(without_leftovers())).await
            })
            .map_err(StepError::Engine),
        (StepKind::Kill { signal }, _) => {
            let signal = signal.clone();
            client
                .call(&what, |d| async move {
                    d.kill_container(&name, Some(KillContainerOptions { signal }))
                        .await
                })
                .map_err(StepError::Engine)
        }
        // The plan pairs each kind of step with its kind of item; anything else is dfab's own mistake.
        (_, item) => Err(format!(
            "dfab planned a step that does not fit {item} (a bug in dfab: please report it)"
        )
        .into()),
    }
}

/// Removal of a container together with its anonymous volumes.
pub(super) fn without_leftovers() -> RemoveContainerOptions {
    RemoveContainerOptions {
        v: true,
        ..Default::default()
    }
}

/// Driver options with deferred values resolved.
fn resolved(
    options: &std::collections::BTreeMap<String, crate::map::Text>,
    env: &Env,
) -> Result<HashMap<String, String>, crate::map::UnsetLazyValue> {
    options
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.resolve(env)?)))
        .collect()
}

/// The containers dfab makes for itself besides a map's own, each named after its volume and labelled
/// `dfab.helper`, so that one left behind by a run cut short is found and removed by the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helper {
    /// Never started; while it exists, its volume's preparation has not finished.
    Marker,
    /// The short-lived container that prepares a volume.
    Prepare,
}

/// The label that marks dfab's helper containers, with the helper's kind as its value.
pub(crate) const HELPER_LABEL: &str = "dfab.helper";

impl Helper {
    /// The label value and name suffix of this kind.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Helper::Marker => "unprepared",
            Helper::Prepare => "prepare",
        }
    }
}

/// The name of the helper of `kind` for `volume`.
pub(crate) fn helper_name(volume: &str, kind: Helper) -> String {
    format!("{volume}.dfab-{}", kind.kind())
}

/// The labels of a helper container: the map's and the helper's kind.
fn helper_labels(map: &str, kind: Helper) -> HashMap<String, String> {
    HashMap::from([
        (OWNER_LABEL.to_owned(), map.to_owned()),
        (HELPER_LABEL.to_owned(), kind.kind().to_owned()),
    ])
}

/// Creates (never starts) the marker that says `volume` is not prepared yet; an existing one is kept.
fn create_marker(
    client: &DockerClient,
    map: &str,
    volume: &str,
    env: &Env,
) -> Result<(), StepError> {
    let name = helper_name(volume, Helper::Marker);
    let body = bollard::models::ContainerCreateBody {
        image: Some(env.docker_prepare_image.clone()),
        cmd: Some(vec!["true".into()]),
        network_disabled: Some(true),
        labels: Some(helper_labels(map, Helper::Marker)),
        ..Default::default()
    };
    let what = format!("marking volume '{volume}' as not prepared yet");
    match client.call(&what, |d| async move {
        d.create_container(
            Some(CreateContainerOptions {
                name: Some(name),
                ..Default::default()
            }),
            body,
        )
        .await
    }) {
        Ok(_) | Err(DockerError::Api { status: 409, .. }) => Ok(()),
        Err(e) => Err(StepError::Engine(e)),
    }
}

/// Removes a helper container (and its anonymous volumes) if it exists.
pub(crate) fn remove_helper(client: &DockerClient, name: &str) -> Result<(), StepError> {
    let target = name.to_owned();
    match client.call(
        &format!("removing helper container '{name}'"),
        |d| async move {
            d.remove_container(
                &target,
                Some(RemoveContainerOptions {
                    force: true,
                    ..without_leftovers()
                }),
            )
            .await
        },
    ) {
        Ok(()) | Err(DockerError::Api { status: 404, .. }) => Ok(()),
        Err(e) => Err(StepError::Engine(e)),
    }
}

/// Prints the engine's warnings about a step, each on a line of its own naming the step.
fn warn_of(what: &str, warnings: impl Iterator<Item = String>) {
    for warning in warnings.filter(|w| !w.trim().is_empty()) {
        crate::term::output::warn(&format!("{what}: the engine warns: {}", warning.trim()));
    }
}

/// Sets a volume's owner and permissions from a short-lived container of `env.docker_prepare_image`, which
/// mounts the volume at `/volume-tmp` (docs/docker-map-semantics.md#volume-preparation), then removes the volume's
/// marker.
fn prepare_volume(
    client: &DockerClient,
    (map, volume): (&str, &str),
    owner: Option<&str>,
    permissions: Option<&str>,
    env: &Env,
) -> Result<(), StepError> {
    let helper = helper_name(volume, Helper::Prepare);
    remove_helper(client, &helper)?;
    let quote = crate::ssh::quote;
    let mut commands = Vec::new();
    if let Some(owner) = owner {
        commands.push(format!("chown -R {} /volume-tmp", quote(owner)));
    }
    if let Some(mode) = permissions {
        commands.push(format!("chmod -R {} /volume-tmp", quote(mode)));
    }
    let body = bollard::models::ContainerCreateBody {
        image: Some(env.docker_prepare_image.clone()),
        cmd: Some(vec!["sh".into(), "-c".into(), commands.join(" && ")]),
        // By number: a helper image need not have /etc/passwd.
        user: Some("0:0".into()),
        network_disabled: Some(true),
        labels: Some(helper_labels(map, Helper::Prepare)),
        host_config: Some(bollard::models::HostConfig {
            binds: Some(vec![format!("{volume}:/volume-tmp")]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let what = format!("preparing volume '{volume}'");
    let outcome = client
        .block_on(async move {
            let docker = client.docker();
            let created = docker
                .create_container(
                    Some(CreateContainerOptions {
                        name: Some(helper),
                        ..Default::default()
                    }),
                    body,
                )
                .await?;
            let id = created.id;
            let result = async {
                docker
                    .start_container(
                        &id,
                        None::<bollard::query_parameters::StartContainerOptions>,
                    )
                    .await?;
                let mut waiting = docker
                    .wait_container(&id, None::<bollard::query_parameters::WaitContainerOptions>);
                let mut code = 0;
                while let Some(status) = waiting.next().await {
                    match status {
                        Ok(status) => code = status.status_code,
                        Err(bollard::errors::Error::DockerContainerWaitError {
                            code: c, ..
                        }) => code = c,
                        Err(e) => return Err(e),
                    }
                }
                Ok(code)
            }
            .await;
            let _ = docker
                .remove_container(&id, Some(without_leftovers()))
                .await;
            result
        })
        .map_err(StepError::Docker)?;
    match outcome {
        Ok(0) => remove_helper(client, &helper_name(volume, Helper::Marker)),
        Ok(code) => Err(StepError::Preparation(code)),
        Err(e) => Err(StepError::Docker(client.explain(&what, e))),
    }
}
