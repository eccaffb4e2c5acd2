//! The dependency graph of a map: what each container needs before it starts, and who needs it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use super::container::ContainerConfig;
use super::container_map::ContainerMap;
use super::items::NetworkMode;
use super::naming::image_name;
use super::network::PREDEFINED_NETWORKS;
use super::text::Text;
use crate::env::Env;

/// Something an action works on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    /// A container: a config and one of its instances.
    Container {
        /// The config.
        config: String,
        /// The instance, if the config has instances.
        instance: Option<String>,
    },
    /// A volume attached by a config.
    Volume {
        /// The attaching config.
        config: String,
        /// The volume alias.
        alias: String,
    },
    /// A user-defined network.
    Network(String),
    /// An image, by full name.
    Image(String),
}

impl Item {
    fn container(config: &str, instance: Option<&str>) -> Item {
        Item::Container {
            config: config.to_owned(),
            instance: instance.map(str::to_owned),
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Container {
                config,
                instance: Some(instance),
            } => write!(f, "{config}.{instance}"),
            Item::Container { config, .. } => f.write_str(config),
            Item::Volume { config, alias } => write!(f, "volume {alias} of {config}"),
            Item::Network(name) => write!(f, "network {name}"),
            Item::Image(name) => write!(f, "image {name}"),
        }
    }
}

/// A dependency cycle, as the list of containers around it (the first repeated at the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle(pub Vec<Item>);

impl std::error::Error for Cycle {}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(Item::to_string).collect();
        write!(f, "circular dependency: {}", names.join(" -> "))
    }
}

/// An ordered list of items without repeats, and the items whose own paths are already in it.
#[derive(Default)]
struct Path {
    items: Vec<Item>,
    listed: HashSet<Item>,
    expanded: HashSet<Item>,
}

impl Path {
    fn push(&mut self, item: &Item) {
        if self.listed.insert(item.clone()) {
            self.items.push(item.clone());
        }
    }
}

/// The direct dependencies of every container of a map, and the orders derived from them.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    direct: HashMap<Item, Vec<Item>>,
    /// The containers that list each item directly, in document order.
    reverse: HashMap<Item, Vec<Item>>,
    /// Containers in document order (configs, then instances), which makes every order stable.
    containers: Vec<Item>,
}

/// Lookups the graph needs many times: configs by name.
struct Index<'m> {
    map: &'m ContainerMap,
    configs: HashMap<&'m str, &'m ContainerConfig>,
}

impl<'m> Index<'m> {
    fn new(map: &'m ContainerMap) -> Index<'m> {
        Index {
            map,
            configs: map
                .containers
                .iter()
                .map(|(n, c)| (n.as_str(), c))
                .collect(),
        }
    }

    fn container(&self, name: &str) -> Option<&'m ContainerConfig> {
        self.configs.get(name).copied()
    }
}

impl Graph {
    /// Builds the graph of `map`'s concrete (non-abstract) containers; lazy image names resolve with `env`.
    pub fn new(map: &ContainerMap, env: &Env) -> Result<Graph, Cycle> {
        let graph = Graph::build(map, env);
        match graph.all_cycles().into_iter().next() {
            Some(cycle) => Err(cycle),
            None => Ok(graph),
        }
    }

    /// Every dependency cycle of `map`, each once (not only the first), in document order of where it is met.
    pub fn cycles(map: &ContainerMap, env: &Env) -> Vec<Cycle> {
        Graph::build(map, env).all_cycles()
    }

    fn all_cycles(&self) -> Vec<Cycle> {
        let mut found: Vec<Cycle> = Vec::new();
        let mut done = HashSet::new();
        for item in &self.containers {
            self.walk_all(item, &mut Vec::new(), &mut done, &mut found);
        }
        found
    }

    /// Depth-first walk that records every cycle it meets and goes on.
    fn walk_all(
        &self,
        item: &Item,
        stack: &mut Vec<Item>,
        done: &mut HashSet<Item>,
        found: &mut Vec<Cycle>,
    ) {
        if done.contains(item) {
            return;
        }
        if let Some(start) = stack.iter().position(|i| i == item) {
            let mut cycle = stack[start..].to_vec();
            // The same cycle met from another member is one cycle.
            let known = found
                .iter()
                .any(|c| c.0.len() == cycle.len() + 1 && cycle.iter().all(|i| c.0.contains(i)));
            if !known {
                cycle.push(item.clone());
                found.push(Cycle(cycle));
            }
            return;
        }
        stack.push(item.clone());
        for next in self.direct.get(item).into_iter().flatten() {
            self.walk_all(next, stack, done, found);
        }
        stack.pop();
        done.insert(item.clone());
    }

    /// The graph of `map`'s concrete containers, cycles and all.
    fn build(map: &ContainerMap, env: &Env) -> Graph {
        let index = Index::new(map);
        let mut graph = Graph::default();
        for (name, config) in &map.containers {
            if config.abstract_ {
                continue;
            }
            let direct = direct_dependencies(&index, name, env);
            for instance in config.instance_slots() {
                let item = Item::container(name, instance.as_deref());
                for dependency in &direct {
                    graph
                        .reverse
                        .entry(dependency.clone())
                        .or_default()
                        .push(item.clone());
                }
                graph.containers.push(item.clone());
                graph.direct.insert(item, direct.clone());
            }
        }
        graph
    }

    /// Every container of the map, in document order.
    pub fn containers(&self) -> &[Item] {
        &self.containers
    }

    /// What `item` needs directly.
    pub fn direct(&self, item: &Item) -> &[Item] {
        self.direct.get(item).map(Vec::as_slice).unwrap_or_default()
    }

    /// The full name of the image a container item is made from (empty for other items).
    pub fn image(&self, item: &Item) -> String {
        self.direct(item)
            .iter()
            .find_map(|d| match d {
                Item::Image(image) => Some(image.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// Everything `item` needs, deepest first, without `item` itself: the order to create and start them.
    pub fn dependencies(&self, item: &Item) -> Vec<Item> {
        let mut path = Path::default();
        self.collect_dependencies(item, &mut path);
        path.items
    }

    /// The order to start `targets` and everything they need, each item once (docker-map's path merging).
    pub fn start_order(&self, targets: &[Item]) -> Vec<Item> {
        let mut path = Path::default();
        for target in targets {
            self.collect_dependencies(target, &mut path);
            path.push(target);
        }
        path.items
    }

    fn collect_dependencies(&self, item: &Item, path: &mut Path) {
        // An expanded container's dependencies are all on the path already, so diamonds cost nothing twice.
        if !path.expanded.insert(item.clone()) {
            return;
        }
        let direct = self.direct(item);
        for dependency in direct {
            if matches!(dependency, Item::Container { .. }) {
                self.collect_dependencies(dependency, path);
            }
        }
        for dependency in direct {
            path.push(dependency);
        }
    }

    /// The containers that need `item`, farthest first, without `item`: the order to stop and remove them.
    pub fn dependents(&self, item: &Item) -> Vec<Item> {
        let mut path = Path::default();
        self.collect_dependents(item, &mut path);
        path.items
    }

    fn collect_dependents(&self, item: &Item, path: &mut Path) {
        if !path.expanded.insert(item.clone()) {
            return;
        }
        let direct = self
            .reverse
            .get(item)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for dependent in direct {
            self.collect_dependents(dependent, path);
        }
        for dependent in direct {
            path.push(dependent);
        }
    }

    /// `items` in groups that may run at the same time: each group only needs items of earlier groups.
    pub fn levels(&self, items: &[Item]) -> Vec<Vec<Item>> {
        let mut depth: BTreeMap<&Item, usize> = BTreeMap::new();
        for item in items {
            let level = self
                .direct(item)
                .iter()
                .filter_map(|d| depth.get(d))
                .map(|d| d + 1)
                .max()
                .unwrap_or(0);
            depth.insert(item, level);
        }
        let mut levels: Vec<Vec<Item>> = Vec::new();
        for item in items {
            let level = depth[item];
            if levels.len() <= level {
                levels.resize(level + 1, Vec::new());
            }
            levels[level].push(item.clone());
        }
        levels
    }
}

/// Every instance of `config` (or the config itself when it has none).
fn all_instances(index: &Index<'_>, config: &str) -> Vec<Item> {
    match index.container(config) {
        Some(c) => c
            .instance_slots()
            .iter()
            .map(|i| Item::container(config, i.as_deref()))
            .collect(),
        None => Vec::new(),
    }
}

/// `config` or `config.instance` as container items.
fn reference(index: &Index<'_>, name: &str) -> Vec<Item> {
    match name.split_once('.') {
        Some((config, instance)) if !instance.is_empty() => {
            if index.container(config).is_some() {
                vec![Item::container(config, Some(instance))]
            } else {
                Vec::new()
            }
        }
        _ => all_instances(index, name.trim_end_matches('.')),
    }
}

/// docker-map's direct dependency list of a config, in its order (docs/docker-map-semantics.md#dependency-order),
/// duplicates dropped.
fn direct_dependencies(index: &Index<'_>, name: &str, env: &Env) -> Vec<Item> {
    let map = index.map;
    let Some(config) = index.container(name) else {
        return Vec::new();
    };
    let mut out: Vec<Item> = Vec::new();
    let add = |items: Vec<Item>, out: &mut Vec<Item>| {
        for item in items {
            if !out.contains(&item) {
                out.push(item);
            }
        }
    };
    if let Some(NetworkMode::Config {
        config: other,
        instance,
        ..
    }) = &config.network_mode
    {
        let configured = index
            .container(other)
            .is_some_and(|c| instance.as_ref().is_some_and(|i| c.instances.contains(i)));
        let items = if configured {
            vec![Item::container(other, instance.as_deref())]
        } else {
            all_instances(index, other)
        };
        add(items, &mut out);
    }
    for endpoint in config.networks.iter().flatten() {
        if !PREDEFINED_NETWORKS.contains(&endpoint.network.as_str()) {
            add(vec![Item::Network(endpoint.network.clone())], &mut out);
        }
        for link in &endpoint.links {
            add(reference(index, &link.container), &mut out);
        }
    }
    for used in &config.uses {
        // An attached volume needs its owner's containers (which create it); a container is shared from as named.
        let items = match map.attached_volume(&used.name) {
            Some((owner, _)) => all_instances(index, owner),
            None => reference(index, &used.name),
        };
        add(items, &mut out);
    }
    for link in &config.links {
        add(reference(index, &link.container), &mut out);
    }
    for attached in &config.attaches {
        add(
            vec![Item::Volume {
                config: name.to_owned(),
                alias: attached.alias.clone(),
            }],
            &mut out,
        );
    }
    // A lazy value that cannot resolve yet (validation without the fabfile's env) shows as written.
    let resolve = |text: &Text| text.resolve(env).unwrap_or_else(|_| text.to_string());
    let image = image_name(
        map.repository.as_ref().map(resolve).as_deref(),
        map.default_tag.as_ref().map(resolve).as_deref(),
        config.image.as_ref().map(resolve).as_deref(),
        name,
    );
    add(vec![Item::Image(image)], &mut out);
    // Abstract configs are templates, never containers; a reference to one is reported by the integrity check.
    out.retain(|item| !matches!(item, Item::Container { config, .. } if index.container(config).is_some_and(|c| c.abstract_)));
    out
}

/// The containers a selector names within `map`: `config`, `config.instance`, a group (its members, plain ones
/// taking `instances`), or `__all__`. A config with instances and none requested means all of them. Unlike
/// docker-map, an instance the config does not define is an error rather than an extra container.
pub fn select(
    map: &ContainerMap,
    selector: &str,
    instances: &[String],
) -> Result<Vec<Item>, String> {
    let index = Index::new(map);
    let mut out: Vec<Item> = Vec::new();
    let mut add = |item: Item| {
        if !out.contains(&item) {
            out.push(item);
        }
    };
    let one = |name: &str, instances: &[String]| -> Result<Vec<Item>, String> {
        let (config, instance) = match name.split_once('.') {
            Some((c, i)) if !i.is_empty() => (c, Some(i.to_owned())),
            _ => (name.trim_end_matches('.'), None),
        };
        let Some(found) = index.container(config).filter(|c| !c.abstract_) else {
            let known: Vec<&str> = map
                .containers
                .iter()
                .filter(|(_, c)| !c.abstract_)
                .map(|(n, _)| n.as_str())
                .chain(map.groups.keys().map(String::as_str))
                .collect();
            return Err(match super::problems::suggestion(config, &known) {
                Some(close) => format!(
                    "map '{}' has no container or group '{config}'; did you mean '{close}'?",
                    map.name
                ),
                None => format!("map '{}' has no container or group '{config}'", map.name),
            });
        };
        let wanted: Vec<String> = match instance {
            Some(i) => vec![i],
            None => instances.to_vec(),
        };
        if wanted.is_empty() {
            return Ok(all_instances(&index, config));
        }
        wanted
            .into_iter()
            .map(|i| {
                if found.instances.contains(&i) {
                    Ok(Item::container(config, Some(&i)))
                } else {
                    Err(format!(
                        "'{config}' of map '{}' has no instance '{i}'",
                        map.name
                    ))
                }
            })
            .collect()
    };
    if selector == "__all__" {
        for (name, config) in &map.containers {
            if !config.abstract_ {
                one(name, &[])?.into_iter().for_each(&mut add);
            }
        }
    } else if let Some(members) = map.groups.get(selector) {
        for (member, _) in members {
            one(member, instances)?.into_iter().for_each(&mut add);
        }
    } else {
        one(selector, instances)?.into_iter().for_each(&mut add);
    }
    Ok(out)
}
