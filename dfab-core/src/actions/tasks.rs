//! The `actions.*` tasks: `actions.startup:example_map,web_server`, `actions.shutdown:example_map.web_server`, …

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, bail};

use super::engine::run_on_engine;
use super::{Action, ExecCheck, PlanOptions, UpdateOptions};
use crate::docker::docker_client;
use crate::env::env;
use crate::map::{
    configured_clients, configured_maps, select, ClientConfig, ContainerMap, Graph, Item,
};
use crate::task;
use crate::task::Args;
use crate::term::output;

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

/// Where one group of selected configurations runs.
struct Route<'a> {
    /// The client's name and settings; `None` for the current host (or the local engine).
    client: Option<(&'a str, &'a ClientConfig)>,
    /// The selected items assigned to this client, in selection order.
    items: Vec<Item>,
}

/// The clients a configuration is assigned to: its own `clients`, else the map's; none means the current host.
fn assigned<'m>(map: &'m ContainerMap, config: &str) -> &'m [String] {
    match map.container(config) {
        Some(own) if !own.clients.is_empty() => &own.clients,
        _ => &map.clients,
    }
}

/// How a configuration's assignment reads in messages.
fn describe_assignment(clients: &[String]) -> String {
    if clients.is_empty() {
        "no clients: the current host".to_owned()
    } else {
        format!("clients: {}", clients.join(", "))
    }
}

/// Groups the selected items by the client each runs on (its own `clients`, else the map's, else the current
/// host), in the order the clients are first named. docker-map parsed configuration-level clients and then ran
/// every item on the map's clients (its bug 5), so a selection of several configurations ran each on all their
/// clients; here each configuration runs only on its own (docs/docker-map-semantics.md#client-routing).
fn routes<'a>(
    map: &ContainerMap,
    items: &[Item],
    clients: &'a BTreeMap<String, ClientConfig>,
) -> anyhow::Result<Vec<Route<'a>>> {
    let mut keys: Vec<Option<String>> = Vec::new();
    let mut grouped: Vec<Vec<Item>> = Vec::new();
    for item in items {
        let names = match item {
            Item::Container { config, .. } | Item::Volume { config, .. } => assigned(map, config),
            Item::Network(_) | Item::Image(_) => &[],
        };
        let here: Vec<Option<String>> = if names.is_empty() {
            vec![None]
        } else {
            names.iter().cloned().map(Some).collect()
        };
        for key in here {
            let slot = match keys.iter().position(|k| *k == key) {
                Some(slot) => slot,
                None => {
                    keys.push(key);
                    grouped.push(Vec::new());
                    keys.len() - 1
                }
            };
            grouped[slot].push(item.clone());
        }
    }
    let current = env().host_string.clone();
    keys.into_iter()
        .zip(grouped)
        .map(|(key, items)| {
            let client = match key {
                None => clients
                    .iter()
                    .find(|(_, c)| c.fabric_host.is_some() && c.fabric_host == current)
                    .map(|(name, config)| (name.as_str(), config)),
                Some(name) => {
                    let (name, config) = clients.get_key_value(&name).ok_or_else(|| {
                        anyhow!("client '{name}' is not configured: set docker_clients to a clients file that has it")
                    })?;
                    if config.fabric_host.is_none() {
                        bail!("client '{name}' has no fabric_host to connect through");
                    }
                    Some((name.as_str(), config))
                }
            };
            if let Some((name, config)) = client {
                if config.tls {
                    bail!(
                        "client '{name}' sets tls: true, which dfab does not speak: it reaches the engine through \
                         the SSH connection to fabric_host; set tls: false"
                    );
                }
            }
            Ok(Route { client, items })
        })
        .collect()
}

/// The configurations a route's walk must pass over: those assigned only to other clients. A forward walk that
/// needs one of them is refused, naming both configurations and their clients, since docker-map resolves
/// dependencies per client and would otherwise start it where it does not belong.
fn elsewhere(
    map: &ContainerMap,
    graph: &Graph,
    action: Action,
    route: &Route<'_>,
) -> anyhow::Result<BTreeSet<String>> {
    let name = route.client.map(|(name, _)| name);
    let foreign = |config: &str| {
        let clients = assigned(map, config);
        !clients.is_empty() && !name.is_some_and(|n| clients.iter().any(|c| c == n))
    };
    let away: BTreeSet<String> = map
        .containers
        .iter()
        .map(|(config, _)| config)
        .filter(|config| foreign(config))
        .cloned()
        .collect();
    if action.walk() == super::Walk::Forward {
        for target in &route.items {
            for needed in graph.dependencies(target) {
                let (Item::Container { config, .. } | Item::Volume { config, .. }) = &needed else {
                    continue;
                };
                if away.contains(config) {
                    let Item::Container {
                        config: dependent, ..
                    } = target
                    else {
                        continue;
                    };
                    bail!(
                        "configuration '{dependent}' ({}) needs '{config}' ({}), which is not assigned to {}: \
                         give '{config}' that client too, or run it where '{dependent}' runs",
                        describe_assignment(assigned(map, dependent)),
                        describe_assignment(assigned(map, config)),
                        name.map_or("the current host".to_owned(), |n| format!("client '{n}'")),
                    );
                }
            }
        }
    }
    Ok(away)
}

/// Plans and carries out `action`: each selected configuration on its own clients' `fabric_host` and engine
/// (`base_url`, `version`, `timeout`), the others on the current host's engine (or the local one); or only
/// prints the plans. `map_name` is the original's way to name the map (`actions.startup:web,map_name=site`); the
/// selector is then the first argument alone.
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
    crate::map::check_env_logins(&env())?;
    let clients = configured_clients()?.unwrap_or_default();
    let routes = routes(&map, &items, &clients)?;
    // Every route is checked before any host is touched.
    let graph = Graph::new(&map, &env())?;
    let mut planned = Vec::new();
    for route in &routes {
        let options = PlanOptions {
            elsewhere: elsewhere(&map, &graph, action, route)?,
            ..options.clone()
        };
        planned.push((route, options));
    }
    // Every engine is reached before anything changes, so that a client that is down stops the action before
    // another client's engine has been touched (or, with --skip-bad-hosts, is left out with a warning).
    let reached = fan_out(&planned, |(route, _)| {
        let _engine = route.client.map(|(_, c)| client_settings(c)).transpose()?;
        match docker_client() {
            Ok(_) => Ok(true),
            Err(error) => {
                let error = anyhow::Error::from(error);
                if route.client.is_some()
                    && env().skip_bad_hosts
                    && crate::docker::is_unreachable(&error)
                {
                    output::warn(&output::error_message(&error));
                    Ok(false)
                } else {
                    Err(error)
                }
            }
        }
    })?;
    let reachable: Vec<_> = planned
        .into_iter()
        .zip(reached)
        .filter_map(|(job, reached)| reached.then_some(job))
        .collect();
    fan_out(&reachable, |(route, options)| {
        let _engine = route.client.map(|(_, c)| client_settings(c)).transpose()?;
        let outcome = run_on_engine(
            action,
            (&map, &graph),
            &route.items,
            route.client,
            dry_run,
            options,
        );
        match outcome {
            // An engine that went away, or answers past every bound, once reached: as one never reached.
            Err(error)
                if route.client.is_some()
                    && env().skip_bad_hosts
                    && crate::docker::is_unreachable(&error) =>
            {
                output::warn(&output::error_message(&error));
                Ok(())
            }
            other => other,
        }
    })
    .map(drop)
}

/// Runs `job` for each route in turn, stopping at the first failure; with `-P`, on up to `-z` threads at once, each
/// with the task's env (and so its own host prefix), every failure named by its host.
fn fan_out<T: Sync, R: Send>(
    jobs: &[(&Route<'_>, T)],
    job: impl Fn(&(&Route<'_>, T)) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    let current = env();
    if !current.parallel || jobs.len() < 2 {
        return jobs.iter().map(&job).collect();
    }
    let workers = match current.pool_size {
        0 => jobs.len(),
        cap => cap,
    };
    let outcomes = crate::pool::map_in_order(workers, &current, jobs, |one| {
        job(one).map_err(|e| {
            let at = one.0.client.and_then(|(_, c)| c.fabric_host.clone());
            format!(
                "{}: {}",
                at.unwrap_or_else(|| "localhost".into()),
                output::error_message(&e)
            )
        })
    });
    let mut values = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(Ok(value)) => values.push(value),
            Ok(Err(failure)) => failures.push(failure),
            Err(panicked) => failures.push(format!("a worker panicked: {}", panicked.0)),
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(values)
}

/// Points this thread's env at a client's host and engine for the guard's lifetime: its `fabric_host`, and its
/// `base_url`, `version` (`auto` negotiates) and `timeout` where it sets them.
fn client_settings(config: &ClientConfig) -> anyhow::Result<crate::env::Guard> {
    use serde_yaml::Value;
    let mut pairs: Vec<(&str, Value)> = Vec::new();
    if let Some(host) = &config.fabric_host {
        pairs.push(("host_string", Value::String(host.clone())));
    }
    if let Some(url) = &config.base_url {
        pairs.push(("docker_base_url", Value::String(url.clone())));
    }
    match config.version.as_deref() {
        None => {}
        Some("auto") => pairs.push(("docker_api_version", Value::Null)),
        Some(version) => pairs.push(("docker_api_version", Value::String(version.to_owned()))),
    }
    if let Some(timeout) = config.timeout {
        pairs.push(("docker_timeout", Value::Number(timeout.into())));
    }
    Ok(crate::env::settings(pairs)?)
}

/// `push_images=` of a task, over `env.docker_push_images` while it runs.
fn pushing(push_images: Option<bool>) -> anyhow::Result<Option<crate::env::Guard>> {
    Ok(push_images
        .map(|push| crate::env::settings([("docker_push_images", serde_yaml::Value::Bool(push))]))
        .transpose()?)
}

/// Defines an action task that takes the selector, `instances` and `dry_run` (and `push_images`, or
/// `remove_persistent` and `remove_attached`, when asked).
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
    ($(#[$doc:meta])* $name:ident, $action:expr, push_images) => {
        $(#[$doc])*
        #[task(namespace = "actions")]
        fn $name(
            map: String,
            config: Option<String>,
            instances: Option<Vec<String>>,
            map_name: Option<String>,
            push_images: Option<bool>,
            #[arg(default = false)] dry_run: bool,
        ) -> anyhow::Result<()> {
            let _push = pushing(push_images)?;
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
    Action::Create,
    push_images
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
    push_images: Option<bool>,
    #[arg(default = false)] dry_run: bool,
) -> anyhow::Result<()> {
    let _push = pushing(push_images)?;
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
    Action::Startup,
    push_images
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
    push_images: Option<bool>,
    #[arg(default = false)] dry_run: bool,
) -> anyhow::Result<()> {
    let _push = pushing(push_images)?;
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
    crate::term::output::puts(&format!("Exit code: {}", outcome.exit_code));
    crate::term::output::fastprint(&outcome.log);
    if fail_nonzero && outcome.exit_code != 0 {
        bail!("the job in '{selector}' exited with {}", outcome.exit_code);
    }
    Ok(())
}

/// The forms of `actions.script` and `actions.single_cmd`: `map,config,JOB[,flags…]`, as every other action takes
/// its selector, or the original's `map.config,JOB[,flags…]`; then at most two true/false flags, positionally (the
/// original's order) or by keyword. Returns the selector, the job and the two flags.
fn job_form(
    task: &str,
    (selector, second): (String, String),
    more: Vec<String>,
    flags: (&str, bool, &str, bool),
) -> anyhow::Result<(String, String, bool, bool)> {
    let maps = loaded_maps()?;
    let map_and_config = !more.is_empty()
        && maps
            .iter()
            .any(|m| m.name == selector && select(m, &second, &[]).is_ok());
    let (selector, job, more) = if map_and_config {
        let mut more = more.into_iter();
        let job = more.next().unwrap_or_default();
        (
            format!("{selector}.{second}"),
            job,
            more.collect::<Vec<_>>(),
        )
    } else {
        (selector, second, more)
    };
    let (first_name, mut first, second_name, mut second_flag) = flags;
    if more.len() > 2 {
        bail!(
            "{task} takes at most two true/false arguments after the job ({first_name}, {second_name}); {} given",
            more.len()
        );
    }
    for (value, (name, slot)) in more
        .iter()
        .zip([(first_name, &mut first), (second_name, &mut second_flag)])
    {
        let flag = <bool as crate::task::FromArg>::from_arg(value)
            .ok_or_else(|| anyhow!("{task}: {name} must be true or false, not '{value}'"))?;
        *slot |= flag;
    }
    Ok((selector, job, first, second_flag))
}

/// Run a local script (or its whole directory, `upload_dir`) in a new container of a configuration, its
/// dependencies started first: `actions.script:map,config,deploy/migrate.sh,fail_nonzero=true` (or the original's
/// `actions.script:map.config,deploy/migrate.sh,true`).
#[task(namespace = "actions")]
fn script(
    selector: String,
    script: String,
    more: Args,
    #[arg(default = false)] fail_nonzero: bool,
    #[arg(default = false)] upload_dir: bool,
    #[arg(default = 600)] wait_timeout: u64,
) -> anyhow::Result<()> {
    let (selector, script, fail_nonzero, upload_dir) = job_form(
        "actions.script",
        (selector, script),
        more.0,
        ("fail_nonzero", fail_nonzero, "upload_dir", upload_dir),
    )?;
    let (map, target) = script_target(&selector)?;
    let outcome = super::script::run_job(
        &map,
        &target,
        super::script::Job::Script {
            path: std::path::Path::new(&script),
            upload_dir,
        },
        std::time::Duration::from_secs(wait_timeout),
        None,
    )?;
    report(&outcome, fail_nonzero, &selector)
}

/// Run a command in a new container of a configuration, its dependencies started first; `download_result` fetches
/// the files it wrote to its working directory: `actions.single_cmd:map,config,"manage.py migrate"` (or
/// `map.config,…`).
#[task(namespace = "actions")]
fn single_cmd(
    selector: String,
    command: String,
    more: Args,
    #[arg(default = false)] fail_nonzero: bool,
    #[arg(default = false)] download_result: bool,
    #[arg(default = 600)] wait_timeout: u64,
) -> anyhow::Result<()> {
    let (selector, command, fail_nonzero, download_result) = job_form(
        "actions.single_cmd",
        (selector, command),
        more.0,
        (
            "fail_nonzero",
            fail_nonzero,
            "download_result",
            download_result,
        ),
    )?;
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
