//! `plan`: the steps an action takes, from the dependency graph and the engine's state
//! (docs/docker-map-semantics.md#action-plans).

use std::collections::BTreeSet;

use super::{Action, ItemState, Presence, Step, StepKind, UpdateOptions, Walk};
use crate::map::{
    container_name, network_name, volume_name, ContainerConfig, ContainerMap, ExecPolicy, Graph,
    Item, Text, User,
};

/// Options of the actions that have any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// `remove`/`shutdown` also remove persistent containers (default true).
    pub remove_persistent: bool,
    /// `restart` runs the exec commands again.
    pub restart_exec_commands: bool,
    /// The signal `kill` sends.
    pub signal: String,
    /// `pull_images` pulls present images too, for newer versions (default true).
    pub pull_all_images: bool,
    /// `shutdown` and `remove` also remove the attached volumes of configurations it removes entirely, and the map's networks
    /// no remaining container uses.
    pub remove_attached: bool,
    /// The options of `update`.
    pub update: UpdateOptions,
    /// Configurations assigned to other clients only: a walk passes over them and their attached volumes (their
    /// containers live on other engines).
    pub elsewhere: BTreeSet<String>,
}

impl PlanOptions {
    /// Whether `item` belongs on this client's engine (networks and images belong wherever they are needed).
    pub fn here(&self, item: &Item) -> bool {
        match item {
            Item::Container { config, .. } | Item::Volume { config, .. } => {
                !self.elsewhere.contains(config)
            }
            Item::Network(_) | Item::Image(_) => true,
        }
    }
}

impl Default for PlanOptions {
    fn default() -> PlanOptions {
        PlanOptions {
            remove_persistent: true,
            restart_exec_commands: false,
            signal: "SIGKILL".into(),
            pull_all_images: true,
            remove_attached: false,
            update: UpdateOptions::default(),
            elsewhere: BTreeSet::new(),
        }
    }
}

/// The items an action visits for `targets`, in its walk order, each once.
pub fn walk(graph: &Graph, action: Action, targets: &[Item]) -> Vec<Item> {
    match action.walk() {
        Walk::Forward => graph.start_order(targets),
        Walk::Single => targets.to_vec(),
        Walk::Reverse => {
            let mut order: Vec<Item> = Vec::new();
            for target in targets {
                for item in graph.dependents(target).into_iter().chain([target.clone()]) {
                    if !order.contains(&item) {
                        order.push(item);
                    }
                }
            }
            order
        }
    }
}

/// The items an action visits for `targets` on one client's engine: the walk without the configurations assigned
/// to other clients only.
pub fn visit(graph: &Graph, action: Action, targets: &[Item], options: &PlanOptions) -> Vec<Item> {
    walk(graph, action, targets)
        .into_iter()
        .filter(|item| options.here(item))
        .collect()
}

/// The steps of `action` on `targets` of `map`, given each item's state. Unlike docker-map, `startup` creates only
/// missing networks and pulls only missing images, and `shutdown` leaves persistent containers alone when asked
/// to (docker-map's bugs 15 and 17, docs/docker-map-semantics.md#bugs-dfab-does-not-repeat).
pub fn plan(
    map: &ContainerMap,
    graph: &Graph,
    action: Action,
    targets: &[Item],
    state: &dyn Fn(&Item) -> ItemState,
    options: &PlanOptions,
) -> Vec<Step> {
    let mut steps = Vec::new();
    // Containers this update creates anew: whatever links to or uses them must follow (their links and volumes
    // would point at the removed container otherwise).
    let mut recreated: Vec<Item> = Vec::new();
    let walked = visit(graph, action, targets, options);
    for item in walked.clone() {
        let mut current = state(&item);
        if action == Action::Update
            && current.presence != Presence::Absent
            && graph.direct(&item).iter().any(|d| recreated.contains(d))
        {
            current.outdated = true;
        }
        let step = |kind: StepKind| Step {
            kind,
            item: item.clone(),
            name: item_name(map, &item),
        };
        let absent = current.presence == Presence::Absent;
        match &item {
            Item::Image(_) => {
                let wanted = match action {
                    Action::Create | Action::Startup => absent,
                    Action::Update => absent || options.update.pull_before_update,
                    Action::PullImages => absent || options.pull_all_images,
                    _ => false,
                };
                if wanted {
                    steps.push(step(StepKind::Pull));
                }
            }
            Item::Network(_) => {
                if absent && matches!(action, Action::Create | Action::Startup | Action::Update) {
                    steps.push(step(StepKind::CreateNetwork));
                }
            }
            Item::Volume { config, alias } => {
                if matches!(action, Action::Create | Action::Startup | Action::Update) {
                    if absent {
                        steps.push(step(StepKind::CreateVolume));
                    }
                    // A volume is prepared once, when it is new; one whose preparation was cut short is
                    // prepared again (its marker container says so).
                    if absent || current.unprepared {
                        if let Some(StepKind::PrepareVolume {
                            owner, permissions, ..
                        }) = preparation(map, config, alias)
                        {
                            steps.push(step(StepKind::PrepareVolume {
                                owner,
                                permissions,
                                again: !absent,
                            }));
                        }
                    }
                }
            }
            Item::Container { config, .. } => {
                let Some(settings) = map.container(config) else {
                    continue;
                };
                let running = current.presence == Presence::Running;
                // A container's first start runs every exec command; later starts only the `restart` ones
                // (docker-map ran `initial` ones again on every start, bug 27;
                // docs/docker-map-semantics.md#action-plans).
                let exec_when = |first_start: bool| {
                    let commands: Vec<usize> = settings
                        .exec_commands
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| first_start || c.policy() == ExecPolicy::Restart)
                        .map(|(index, _)| index)
                        .collect();
                    (!commands.is_empty()).then_some(StepKind::Exec { commands })
                };
                let exec = exec_when(true);
                let exec_again = exec_when(current.initial);
                let kept = settings.persistent == Some(true) && !options.remove_persistent;
                let create = || {
                    let mut kinds = vec![StepKind::CreateContainer {
                        image: graph.image(&item),
                    }];
                    let networks = extra_networks(map, settings);
                    if !networks.is_empty() {
                        kinds.push(StepKind::ConnectNetworks { networks });
                    }
                    kinds
                };
                let kinds: Vec<StepKind> = match action {
                    Action::Create if absent => create(),
                    Action::Update if !absent && current.outdated => {
                        let mut kinds = Vec::new();
                        if running {
                            kinds.push(StepKind::Stop);
                        }
                        kinds.push(StepKind::Remove);
                        kinds.extend(create());
                        kinds.push(StepKind::Start);
                        kinds.extend(exec.clone());
                        kinds
                    }
                    Action::Startup | Action::Update if absent => {
                        let mut kinds = create();
                        kinds.push(StepKind::Start);
                        kinds.extend(exec.clone());
                        kinds
                    }
                    Action::Startup | Action::Start if !absent && !running => {
                        std::iter::once(StepKind::Start)
                            .chain(exec_again.clone())
                            .collect()
                    }
                    // Network connections first; then a stopped container starts (a stopped persistent one only
                    // if it never ran) and a running one changes in place (docs/docker-map-semantics.md#action-plans).
                    Action::Update if !absent => {
                        let (networks, in_place): (Vec<StepKind>, Vec<StepKind>) =
                            current.adjust.iter().cloned().partition(|k| {
                                matches!(k, StepKind::Connect { .. } | StepKind::Disconnect { .. })
                            });
                        let mut kinds = networks;
                        if !running && (current.initial || settings.persistent != Some(true)) {
                            kinds.extend(
                                in_place
                                    .into_iter()
                                    .filter(|k| matches!(k, StepKind::UpdateInPlace { .. })),
                            );
                            kinds.push(StepKind::Start);
                            kinds.extend(exec_again.clone());
                        } else {
                            kinds.extend(in_place);
                        }
                        kinds
                    }
                    Action::Restart if !absent && !current.initial => {
                        let mut kinds = Vec::new();
                        if running {
                            kinds.push(StepKind::Stop);
                        }
                        kinds.push(StepKind::Start);
                        if options.restart_exec_commands {
                            kinds.extend(exec_again.clone());
                        }
                        kinds
                    }
                    // A running container whose exec commands no process runs (a run cut short after its
                    // start, say) gets them again; nothing else about it changes on startup.
                    Action::Startup if running => current
                        .adjust
                        .iter()
                        .filter(|k| matches!(k, StepKind::ExecMissing { .. }))
                        .cloned()
                        .collect(),
                    Action::Stop if running => vec![StepKind::Stop],
                    Action::Remove if !absent && !running && !kept => vec![StepKind::Remove],
                    Action::Shutdown if running && !kept => vec![StepKind::Stop, StepKind::Remove],
                    Action::Shutdown if !absent && !kept => vec![StepKind::Remove],
                    Action::Kill if running => vec![StepKind::Kill {
                        signal: options.signal.clone(),
                    }],
                    _ => Vec::new(),
                };
                if action == Action::Update
                    && kinds
                        .iter()
                        .any(|k| matches!(k, StepKind::CreateContainer { .. }))
                {
                    recreated.push(item.clone());
                }
                steps.extend(kinds.into_iter().map(step));
            }
        }
    }
    if matches!(action, Action::Shutdown | Action::Remove) && options.remove_attached {
        steps.extend(attached_removals(map, graph, &walked, &steps, state));
    }
    steps
}

/// After the container steps of a shutdown or remove: the attached volumes of the walked configurations with no
/// container left (also when their containers were already gone, so that leftovers can always be removed), then
/// the networks no remaining container of the map is on.
fn attached_removals(
    map: &ContainerMap,
    graph: &Graph,
    walked: &[Item],
    steps: &[Step],
    state: &dyn Fn(&Item) -> ItemState,
) -> Vec<Step> {
    let removed: Vec<&Item> = steps
        .iter()
        .filter(|s| s.kind == StepKind::Remove)
        .map(|s| &s.item)
        .collect();
    let remains =
        |item: &Item| state(item).presence != Presence::Absent && !removed.contains(&item);
    let mut out = Vec::new();
    let step = |kind: StepKind, item: Item| Step {
        name: item_name(map, &item),
        kind,
        item,
    };
    for (name, config) in &map.containers {
        if config.abstract_ || config.attaches.is_empty() {
            continue;
        }
        let instances: Vec<Item> = graph
            .containers()
            .iter()
            .filter(|c| matches!(c, Item::Container { config: c, .. } if c == name))
            .cloned()
            .collect();
        let touched = instances.iter().any(|i| walked.contains(i));
        if !touched || instances.iter().any(&remains) {
            continue;
        }
        for attach in &config.attaches {
            let volume = Item::Volume {
                config: name.clone(),
                alias: attach.alias.clone(),
            };
            if state(&volume).presence != Presence::Absent {
                out.push(step(StepKind::RemoveVolume, volume));
            }
        }
    }
    let in_use: Vec<&String> = graph
        .containers()
        .iter()
        .filter(|c| remains(c))
        .filter_map(|c| match c {
            Item::Container { config, .. } => map.container(config),
            _ => None,
        })
        .flat_map(|c| c.networks.iter().flatten().map(|e| &e.network))
        .collect();
    for network in map.networks.keys() {
        let item = Item::Network(network.clone());
        if !in_use.contains(&network) && state(&item).presence != Presence::Absent {
            out.push(step(StepKind::RemoveNetwork, item));
        }
    }
    out
}

/// The engine name of an item of `map`.
pub fn item_name(map: &ContainerMap, item: &Item) -> String {
    match item {
        Item::Container { config, instance } => {
            container_name(&map.name, config, instance.as_deref())
        }
        Item::Volume { config, alias } => volume_name(map, config, alias),
        Item::Network(network) => network_name(&map.name, network),
        Item::Image(image) => image.clone(),
    }
}

/// The networks a container joins after the one given at create.
fn extra_networks(map: &ContainerMap, config: &ContainerConfig) -> Vec<String> {
    config
        .networks
        .iter()
        .flatten()
        .skip(1)
        .map(|e| network_name(&map.name, &e.network))
        .collect()
}

/// chown `user:group`: a group as given, or the user twice (docker-map's rule); none for an empty owner or root
/// given as `0`, which needs no change.
fn owner(user: &User) -> Option<String> {
    let name = user
        .user
        .as_plain()
        .map(str::to_owned)
        .unwrap_or_else(|| user.user.to_string());
    if name.is_empty() || name == "0" {
        return None;
    }
    let group = user
        .group
        .as_ref()
        .map(Text::to_string)
        .unwrap_or_else(|| name.clone());
    Some(format!("{name}:{group}"))
}

/// The preparation of an attached volume, when an owner or permissions are known (volume settings first, then
/// the attaching config's).
pub(super) fn preparation(map: &ContainerMap, config: &str, alias: &str) -> Option<StepKind> {
    let volume = map.volumes.get(alias);
    let attaching = map.container(config);
    let user = volume
        .and_then(|v| v.user.as_ref())
        .or_else(|| attaching.and_then(|c| c.user.as_ref()));
    let permissions = volume
        .and_then(|v| v.permissions.clone())
        .or_else(|| attaching.and_then(|c| c.permissions.clone()));
    let owner = user.and_then(owner);
    (owner.is_some() || permissions.is_some()).then_some(StepKind::PrepareVolume {
        owner,
        permissions,
        again: false,
    })
}
