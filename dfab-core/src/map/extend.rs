//! `extends`: configs inherit from other configs of the same map with docker-map's merge rules.

use std::collections::BTreeMap;

use super::container::ContainerConfig;
use super::container_map::ContainerMap;
use super::problems::Problems;

/// Replaces every config by its extended form: parents left to right (each extended first), then its own values.
pub(crate) fn apply(map: &mut ContainerMap, problems: &mut Problems) {
    let own: BTreeMap<String, ContainerConfig> = map.containers.iter().cloned().collect();
    let mut done: BTreeMap<String, ContainerConfig> = BTreeMap::new();
    for (name, _) in &map.containers {
        let mut chain = Vec::new();
        extended(name, &own, &mut done, &mut chain, problems);
    }
    for (name, config) in &mut map.containers {
        if let Some(result) = done.get(name) {
            *config = result.clone();
        }
    }
}

fn extended(
    name: &str,
    own: &BTreeMap<String, ContainerConfig>,
    done: &mut BTreeMap<String, ContainerConfig>,
    chain: &mut Vec<String>,
    problems: &mut Problems,
) -> Option<ContainerConfig> {
    if let Some(result) = done.get(name) {
        return Some(result.clone());
    }
    let config = own.get(name)?;
    if chain.iter().any(|c| c == name) {
        let start = chain.iter().position(|c| c == name).unwrap_or(0);
        let cycle: Vec<&str> = chain[start..]
            .iter()
            .map(String::as_str)
            .chain([name])
            .collect();
        problems.error(
            config.at,
            name,
            format!("circular extends: {}", cycle.join(" -> ")),
        );
        return None;
    }
    chain.push(name.to_owned());
    let mut result = ContainerConfig::default();
    for (parent, at) in &config.extends {
        if !own.contains_key(parent) {
            problems.error(
                *at,
                &format!("{name}.extends"),
                format!("'{name}' extends '{parent}', which is not a container configuration of this map"),
            );
            continue;
        }
        if let Some(base) = extended(parent, own, done, chain, problems) {
            merge(&mut result, &base);
        }
    }
    chain.pop();
    merge(&mut result, config);
    // Never inherited.
    result.abstract_ = config.abstract_;
    result.extends = config.extends.clone();
    result.at = config.at;
    done.insert(name.to_owned(), result.clone());
    Some(result)
}

/// Applies `over` on top of `base`: values given override, lists join, keyed lists replace by key, option
/// mappings update key by key.
pub(crate) fn merge(base: &mut ContainerConfig, over: &ContainerConfig) {
    macro_rules! override_if_set {
        ($($field:ident),*) => {$(
            if over.$field.is_some() {
                base.$field = over.$field.clone();
            }
        )*};
    }
    override_if_set!(
        image,
        user,
        permissions,
        stop_timeout,
        stop_signal,
        start_delay,
        network_mode,
        healthcheck,
        persistent
    );
    union(&mut base.instances, &over.instances, |a, b| a == b);
    union(&mut base.clients, &over.clients, |a, b| a == b);
    union(&mut base.shares, &over.shares, |a, b| a == b);
    union(&mut base.links, &over.links, |a, b| {
        a.container == b.container && a.alias == b.alias
    });
    union(&mut base.exec_commands, &over.exec_commands, |a, b| a == b);
    keyed(&mut base.binds, &over.binds, |b| b.key());
    keyed(&mut base.attaches, &over.attaches, |a| a.alias.clone());
    keyed(&mut base.uses, &over.uses, |u| u.name.clone());
    keyed(&mut base.exposes, &over.exposes, |p| p.exposed.clone());
    match (&mut base.networks, &over.networks) {
        (Some(mine), Some(theirs)) => keyed(mine, theirs, |e| e.network.clone()),
        (mine @ None, Some(theirs)) => *mine = Some(theirs.clone()),
        _ => {}
    }
    base.create_options.extend(over.create_options.clone());
    base.host_config.extend(over.host_config.clone());
}

/// Appends the items of `over` that `base` (as it was) lacks; `over`'s own repeats stay as written.
fn union<T: Clone>(base: &mut Vec<T>, over: &[T], same: impl Fn(&T, &T) -> bool) {
    let inherited = base.len();
    for item in over {
        if !base[..inherited].iter().any(|b| same(b, item)) {
            base.push(item.clone());
        }
    }
}

/// Replaces inherited items that share a key with an item of `over`, in place, and appends the rest.
fn keyed<T: Clone>(base: &mut Vec<T>, over: &[T], key: impl Fn(&T) -> String) {
    let inherited = base.len();
    for item in over {
        match base[..inherited].iter().position(|b| key(b) == key(item)) {
            Some(i) => base[i] = item.clone(),
            None => base.push(item.clone()),
        }
    }
}
