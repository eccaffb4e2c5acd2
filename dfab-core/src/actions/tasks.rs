//! The `actions.*` tasks: `actions.startup:example_map,web_server`, `actions.shutdown:example_map.web_server`, …

use anyhow::{anyhow, bail};

use super::{
    execute, plan, schedule, walk, Action, ExecCheck, Observed, PlanOptions, UpdateOptions,
};
use crate::docker::docker_client;
use crate::env::env;
use crate::exec::output;
use crate::map::{configured_clients, configured_maps, select, ContainerMap, Graph, Item};
use crate::task;

/// The maps of `env.docker_maps`, which must name at least one.
fn loaded_maps() -> anyhow::Result<Vec<std::sync::Arc<ContainerMap>>> {
    let maps = configured_maps()?;
    if maps.is_empty() {
        bail!("no container maps are loaded: set docker_maps (--set docker_maps=site.yaml) or in the fabfile");
    }
    Ok(maps)
}

/// Resolves the task's selector: `map,config`, `map.config[.instance]`, or `config` when only one map is loaded;
/// several configs of one map are separated by `;`.
fn targets(
    maps: &[std::sync::Arc<ContainerMap>],
    first: &str,
    second: Option<&str>,
    instances: &[String],
) -> anyhow::Result<(std::sync::Arc<ContainerMap>, Vec<Item>)> {
    let names: Vec<&str> = maps.iter().map(|m| m.name.as_str()).collect();
    let find = |name: &str| {
        maps.iter()
            .find(|m| m.name == name)
            .cloned()
            .ok_or_else(|| anyhow!("no container map '{name}' (loaded: {})", names.join(", ")))
    };
    let (map, selectors): (std::sync::Arc<ContainerMap>, Vec<String>) = match second {
        Some(configs) => (
            find(first)?,
            configs.split(';').map(str::to_owned).collect(),
        ),
        None => match first.split_once('.') {
            Some((map, rest)) if maps.iter().any(|m| m.name == map) => {
                (find(map)?, vec![rest.to_owned()])
            }
            _ if maps.len() == 1 => (
                maps[0].clone(),
                first.split(';').map(str::to_owned).collect(),
            ),
            _ => bail!(
                "'{first}' names no map: write map,config or map.config (loaded maps: {})",
                names.join(", ")
            ),
        },
    };
    let mut items = Vec::new();
    for selector in selectors {
        for item in select(&map, &selector, instances).map_err(|e| anyhow!(e))? {
            if !items.contains(&item) {
                items.push(item);
            }
        }
    }
    Ok((map, items))
}

/// Plans and carries out `action`: on each client's `fabric_host` when the targeted configurations (or their map)
/// name clients, else on the current host's engine (or the local one); or only prints the plans.
/// `map_name` is the original's way to name the map (`actions.startup:web,map_name=site`); the selector is then
/// the first argument alone.
fn run(
    action: Action,
    (first, second): (&str, Option<&str>),
    map_name: Option<&str>,
    instances: Option<Vec<String>>,
    dry_run: bool,
    options: PlanOptions,
) -> anyhow::Result<()> {
    let (first, second) = match (map_name, second) {
        (Some(map), None) => (map, Some(first)),
        (Some(map), Some(_)) => bail!(
            "map_name={map} names the map, so give only the configuration before it: \
             actions.startup:web,map_name={map}"
        ),
        (None, second) => (first, second),
    };
    let maps = loaded_maps()?;
    let (map, items) = targets(&maps, first, second, &instances.unwrap_or_default())?;
    let clients = configured_clients()?.unwrap_or_default();
    // Config-level clients choose where a configuration runs (docker-map parsed and then ignored them, bug 5);
    // the map's clients apply to configurations without their own.
    let mut named: Vec<String> = Vec::new();
    for item in &items {
        if let Item::Container { config, .. } = item {
            let own = map
                .container(config)
                .map(|c| c.clients.clone())
                .unwrap_or_default();
            for client in if own.is_empty() {
                map.clients.clone()
            } else {
                own
            } {
                if !named.contains(&client) {
                    named.push(client);
                }
            }
        }
    }
    if named.is_empty() {
        let host = env().host_string.clone();
        let config = clients
            .values()
            .find(|c| c.fabric_host.is_some() && c.fabric_host == host);
        return run_on_engine(action, &map, &items, config, dry_run, &options);
    }
    // Every client is checked before any host is touched.
    let mut targets = Vec::new();
    for name in &named {
        let config = clients
            .get(name)
            .ok_or_else(|| anyhow!("client '{name}' is not configured: set docker_clients to a clients file that has it"))?;
        let host = config
            .fabric_host
            .clone()
            .ok_or_else(|| anyhow!("client '{name}' has no fabric_host to connect through"))?;
        targets.push((config, host));
    }
    let on_client = |(config, host): &(&crate::map::ClientConfig, String)| -> anyhow::Result<()> {
        let _on_host = crate::env::settings([("host_string", host.clone())])?;
        match run_on_engine(action, &map, &items, Some(config), dry_run, &options) {
            Err(error) if env().skip_bad_hosts && crate::exec::is_unreachable(&error) => {
                output::warn(&output::error_message(&error));
                Ok(())
            }
            other => other,
        }
    };
    if !env().parallel || targets.len() < 2 {
        return targets.iter().try_for_each(on_client);
    }
    // `-P`: the clients' hosts at once, each thread with the task's env (and so its own host prefix).
    let current = env();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|target| {
                let current = std::sync::Arc::clone(&current);
                scope.spawn(move || {
                    crate::env::replace_env(current);
                    on_client(target)
                        .map_err(|e| format!("{}: {}", target.1, output::error_message(&e)))
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a worker thread panicked".into()))
                    .err()
            })
            .collect()
    });
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(())
}

/// Plans and carries out `action` on the engine of the current host string (or the local engine).
fn run_on_engine(
    action: Action,
    map: &ContainerMap,
    items: &[Item],
    client_config: Option<&crate::map::ClientConfig>,
    dry_run: bool,
    options: &PlanOptions,
) -> anyhow::Result<()> {
    let env = env();
    let graph = Graph::new(map, &env)?;
    let client = docker_client()?;
    let mut observed = Observed::load(&client)?;
    let visited = walk(&graph, action, items);
    observed.check_owners(&client, map, &graph, &visited)?;
    if action == Action::Update {
        observed
            .check_updates(
                &client,
                map,
                &graph,
                &visited,
                client_config,
                &env,
                &options.update,
            )
            .map_err(|e| anyhow!(e))?;
        let mut outdated: Vec<_> = observed.outdated().iter().collect();
        outdated.sort();
        for (name, reasons) in outdated {
            output::running(&format!(
                "docker: '{name}' is out of date: {}.",
                reasons.join(", ")
            ));
        }
    }
    let state = |item: &Item| observed.state(map, item);
    let steps = plan(map, &graph, action, items, &state, options);
    let schedule = schedule(&graph, &steps);
    if dry_run {
        // In planned order, which a one-worker run follows; parallel workers interleave independent items.
        for step in schedule.steps() {
            output::running(&format!("docker: (dry run) {step}"));
        }
        if steps.is_empty() {
            output::running("docker: (dry run) nothing to do");
        }
        return Ok(());
    }
    execute(&client, map, &schedule, client_config, &env, parallel(&env)).map(drop)
}

/// How many items of one dependency level run at once: `env.docker_parallel`, capped by `-z` when given.
pub(crate) fn parallel(env: &crate::env::Env) -> usize {
    match env.pool_size {
        0 => env.docker_parallel.max(1),
        cap => env.docker_parallel.clamp(1, cap),
    }
}

/// Defines an action task that takes the selector, `instances` and `dry_run` (and `remove_persistent`, `remove_attached` when asked).
macro_rules! simple_action {
    ($(#[$doc:meta])* $name:ident, $action:expr) => {
        $(#[$doc])*
        #[task(namespace = "actions")]
        fn $name(
            map: String,
            config: Option<String>,
            instances: Option<Vec<String>>,
            map_name: Option<String>,
            #[arg(default = false)] dry_run: bool,
        ) -> anyhow::Result<()> {
            run($action, (&map, config.as_deref()), map_name.as_deref(), instances, dry_run, PlanOptions::default())
        }
    };
    ($(#[$doc:meta])* $name:ident, $action:expr, remove_persistent) => {
        $(#[$doc])*
        #[task(namespace = "actions")]
        fn $name(
            map: String,
            config: Option<String>,
            instances: Option<Vec<String>>,
            map_name: Option<String>,
            #[arg(default = true)] remove_persistent: bool,
            #[arg(default = false)] remove_attached: bool,
            #[arg(default = false)] dry_run: bool,
        ) -> anyhow::Result<()> {
            let options = PlanOptions {
                remove_persistent,
                remove_attached,
                ..PlanOptions::default()
            };
            run($action, (&map, config.as_deref()), map_name.as_deref(), instances, dry_run, options)
        }
    };
}

simple_action!(
    /// Create a configuration's containers and everything they need, starting nothing: `actions.create:map,config`.
    create,
    Action::Create
);

simple_action!(
    /// Start a configuration's stopped containers and what they need: `actions.start:map,config`.
    start,
    Action::Start
);

/// Stop and start a configuration's containers: `actions.restart:map,config,restart_exec_commands=true`.
#[task(namespace = "actions")]
fn restart(
    map: String,
    config: Option<String>,
    instances: Option<Vec<String>>,
    map_name: Option<String>,
    #[arg(default = false)] restart_exec_commands: bool,
    #[arg(default = false)] dry_run: bool,
) -> anyhow::Result<()> {
    let options = PlanOptions {
        restart_exec_commands,
        ..PlanOptions::default()
    };
    run(
        Action::Restart,
        (&map, config.as_deref()),
        map_name.as_deref(),
        instances,
        dry_run,
        options,
    )
}

simple_action!(
    /// Stop a configuration's containers and whatever needs them: `actions.stop:map,config`.
    stop,
    Action::Stop
);

simple_action!(
    /// Remove a configuration's stopped containers and whatever needs them: `actions.remove:map,config`.
    remove,
    Action::Remove,
    remove_persistent
);

/// Recreate containers that differ from their configuration (image, environment, command, volumes, links, ports),
/// reconnect networks, change limits and rerun missing exec commands in place, create what is missing and start
/// what is stopped: `actions.update:map,config`.
#[task(namespace = "actions")]
#[allow(clippy::too_many_arguments)]
fn update(
    map: String,
    config: Option<String>,
    instances: Option<Vec<String>>,
    map_name: Option<String>,
    #[arg(default = "full")] check_exec_commands: ExecCheck,
    #[arg(default = false)] skip_limit_reset: bool,
    #[arg(default = false)] update_persistent: bool,
    #[arg(default = false)] pull_before_update: bool,
    force_update: Option<Vec<String>>,
    #[arg(default = false)] dry_run: bool,
) -> anyhow::Result<()> {
    let options = PlanOptions {
        update: UpdateOptions {
            check_exec: check_exec_commands,
            skip_limit_reset,
            update_persistent,
            force: force_update.unwrap_or_default(),
            pull_before_update,
        },
        ..PlanOptions::default()
    };
    run(
        Action::Update,
        (&map, config.as_deref()),
        map_name.as_deref(),
        instances,
        dry_run,
        options,
    )
}

simple_action!(
    /// Create and start a configuration's containers and everything they need: `actions.startup:map,config`.
    startup,
    Action::Startup
);

simple_action!(
    /// Stop and remove a configuration's containers and whatever needs them: `actions.shutdown:map,config`.
    shutdown,
    Action::Shutdown,
    remove_persistent
);

/// Send a signal (default SIGKILL) to a configuration's running containers: `actions.kill:map,config,signal=SIGHUP`.
#[task(namespace = "actions")]
fn kill(
    map: String,
    config: Option<String>,
    instances: Option<Vec<String>>,
    map_name: Option<String>,
    #[arg(default = "SIGKILL")] signal: String,
    #[arg(default = false)] dry_run: bool,
) -> anyhow::Result<()> {
    let options = PlanOptions {
        signal,
        ..PlanOptions::default()
    };
    run(
        Action::Kill,
        (&map, config.as_deref()),
        map_name.as_deref(),
        instances,
        dry_run,
        options,
    )
}

/// Pull the images a configuration and its dependencies use (present ones too, unless `pull_all_images=false`):
/// `actions.pull_images:map,config`.
#[task(namespace = "actions")]
fn pull_images(
    map: String,
    config: Option<String>,
    map_name: Option<String>,
    #[arg(default = true)] pull_all_images: bool,
    #[arg(default = false)] dry_run: bool,
) -> anyhow::Result<()> {
    let options = PlanOptions {
        pull_all_images,
        ..PlanOptions::default()
    };
    run(
        Action::PullImages,
        (&map, config.as_deref()),
        map_name.as_deref(),
        None,
        dry_run,
        options,
    )
}

/// Run any action by name: `actions.perform:startup,map,config`.
#[task(namespace = "actions")]
fn perform(
    action: String,
    map: String,
    config: Option<String>,
    instances: Option<Vec<String>>,
    map_name: Option<String>,
    #[arg(default = false)] dry_run: bool,
) -> anyhow::Result<()> {
    let action: Action = action.parse().map_err(|e: String| anyhow!(e))?;
    run(
        action,
        (&map, config.as_deref()),
        map_name.as_deref(),
        instances,
        dry_run,
        PlanOptions::default(),
    )
}

/// The counterpart of docker-fabric's `container_fabric()`: the actions in code, on the maps of
/// `env.docker_maps` and the current host.
#[derive(Clone, Copy, Debug, Default)]
pub struct ContainerFabric;

/// The map actions for fabfile code: `container_fabric().startup("site.web")`.
///
/// ```no_run
/// use dfab_core::prelude::*;
/// use dfab_core::actions::container_fabric;
///
/// /// Roll out the web tier: the maps come from `env.docker_maps`.
/// #[task]
/// fn rollout() -> anyhow::Result<()> {
///     container_fabric().update("site.web")?;
///     container_fabric().perform(dfab_core::actions::Action::Restart, "site.worker")
/// }
/// # dfab_core::main!();
/// ```
pub fn container_fabric() -> ContainerFabric {
    ContainerFabric
}

impl ContainerFabric {
    /// Runs `action` on `selector` (`map.config`, `map.config.instance`, a group, or `config` with one map).
    pub fn perform(&self, action: Action, selector: &str) -> anyhow::Result<()> {
        run(
            action,
            (selector, None),
            None,
            None,
            false,
            PlanOptions::default(),
        )
    }

    /// `actions.startup` in code.
    pub fn startup(&self, selector: &str) -> anyhow::Result<()> {
        self.perform(Action::Startup, selector)
    }

    /// `actions.shutdown` in code.
    pub fn shutdown(&self, selector: &str) -> anyhow::Result<()> {
        self.perform(Action::Shutdown, selector)
    }

    /// `actions.update` in code.
    pub fn update(&self, selector: &str) -> anyhow::Result<()> {
        self.perform(Action::Update, selector)
    }
}

/// The one container a script runs in.
fn script_target(selector: &str) -> anyhow::Result<(std::sync::Arc<ContainerMap>, Item)> {
    let maps = loaded_maps()?;
    let (map, items) = targets(&maps, selector, None, &[])?;
    match items.as_slice() {
        [one] => Ok((map.clone(), one.clone())),
        _ => bail!(
            "'{selector}' names {} containers; a script runs in one (name an instance)",
            items.len()
        ),
    }
}

/// Prints the exit code and log, and fails on a non-zero exit when asked.
fn report(
    outcome: &super::script::Outcome,
    fail_nonzero: bool,
    selector: &str,
) -> anyhow::Result<()> {
    crate::exec::output::puts(&format!("Exit code: {}", outcome.exit_code));
    crate::exec::output::fastprint(&outcome.log);
    if fail_nonzero && outcome.exit_code != 0 {
        bail!("the job in '{selector}' exited with {}", outcome.exit_code);
    }
    Ok(())
}

/// Run a local script (or its whole directory, `upload_dir`) in a new container of a configuration, its
/// dependencies started first: `actions.script:map.config,deploy/migrate.sh,fail_nonzero=true`.
#[task(namespace = "actions")]
fn script(
    selector: String,
    script: std::path::PathBuf,
    #[arg(default = false)] fail_nonzero: bool,
    #[arg(default = false)] upload_dir: bool,
    #[arg(default = 600)] wait_timeout: u64,
) -> anyhow::Result<()> {
    let (map, target) = script_target(&selector)?;
    let outcome = super::script::run_job(
        &map,
        &target,
        super::script::Job::Script {
            path: &script,
            upload_dir,
        },
        std::time::Duration::from_secs(wait_timeout),
        None,
    )?;
    report(&outcome, fail_nonzero, &selector)
}

/// Run a command in a new container of a configuration, its dependencies started first; `download_result` fetches
/// the files it wrote to its working directory: `actions.single_cmd:map.config,"manage.py migrate"`.
#[task(namespace = "actions")]
fn single_cmd(
    selector: String,
    command: String,
    #[arg(default = false)] fail_nonzero: bool,
    #[arg(default = false)] download_result: bool,
    #[arg(default = 600)] wait_timeout: u64,
) -> anyhow::Result<()> {
    let (map, target) = script_target(&selector)?;
    let local = env().lcwd.clone();
    let local = std::path::PathBuf::from(if local.is_empty() {
        ".".to_owned()
    } else {
        local
    });
    let outcome = super::script::run_job(
        &map,
        &target,
        super::script::Job::Command(&command),
        std::time::Duration::from_secs(wait_timeout),
        download_result.then_some(local.as_path()),
    )?;
    report(&outcome, fail_nonzero, &selector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_without_maps_say_how_to_load_one() {
        let error = loaded_maps().expect_err("the default env has no maps");
        assert_eq!(
            error.to_string(),
            "no container maps are loaded: set docker_maps (--set docker_maps=site.yaml) or in the fabfile"
        );
    }
}
