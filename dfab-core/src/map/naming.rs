//! Names of what a map creates: containers, attached volumes, networks, images, host names.

use super::container_map::ContainerMap;
use super::network::PREDEFINED_NETWORKS;
use super::text::{Text, UnsetLazyValue};
use crate::env::Env;

/// The client name used when a map names none.
pub const DEFAULT_CLIENT: &str = "__default__";

/// `map.config` or `map.config.instance`.
pub fn container_name(map: &str, config: &str, instance: Option<&str>) -> String {
    match instance {
        Some(instance) => format!("{map}.{config}.{instance}"),
        None => format!("{map}.{config}"),
    }
}

/// An attached volume (named volume or helper container): `map.alias`, or `map.config.alias` when the map uses
/// attached parent names.
pub fn volume_name(map: &ContainerMap, config: &str, alias: &str) -> String {
    if map.use_attached_parent_name {
        format!("{}.{config}.{alias}", map.name)
    } else {
        format!("{}.{alias}", map.name)
    }
}

/// `map.network`; Docker's own `bridge`, `host` and `none` keep their names.
pub fn network_name(map: &str, network: &str) -> String {
    if PREDEFINED_NETWORKS.contains(&network) {
        network.to_owned()
    } else {
        format!("{map}.{network}")
    }
}

/// A container name as a host name: `_` and `.` become `-`, and a client other than the default is appended.
pub fn hostname(container: &str, client: Option<&str>) -> String {
    let base = container.replace(['_', '.'], "-");
    match client.filter(|c| *c != DEFAULT_CLIENT) {
        Some(client) => format!("{base}-{}", client.replace(['_', '.'], "-")),
        None => base,
    }
}

/// A container's domain name: the client's `domainname` when the client sets the key (even to null), else the
/// map's `default_domain`.
pub fn domain_name(map: &ContainerMap, client: Option<&super::ClientConfig>) -> Option<Text> {
    match client.and_then(|c| c.domainname.clone()) {
        Some(from_client) => from_client,
        None => map.default_domain.clone(),
    }
}

/// The full image name of `image` (or the config name when unset) with the map's repository and default tag.
///
/// The tag is split off at the last `:` only when no `/` follows it, so `registry:5000/app` keeps its port
/// (docker-map split at the port, bug 3; docs/docker-map-semantics.md#image-names-and-tags).
pub fn image_name(
    repository: Option<&str>,
    default_tag: Option<&str>,
    image: Option<&str>,
    config: &str,
) -> String {
    let image = image.filter(|i| !i.is_empty()).unwrap_or(config);
    let (name, tag) = match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (image, None),
    };
    let name = if let Some(unprefixed) = name.strip_prefix('/') {
        unprefixed.to_owned()
    } else if name.contains('/') {
        name.to_owned()
    } else {
        match repository.filter(|r| !r.is_empty()) {
            Some(repository) => format!("{repository}/{name}"),
            None => name.to_owned(),
        }
    };
    let tag = tag
        .or(default_tag)
        .filter(|t| !t.is_empty())
        .unwrap_or("latest");
    format!("{name}:{tag}")
}

/// The image of a config of `map`, lazy values resolved with `env`.
pub fn config_image(map: &ContainerMap, config: &str, env: &Env) -> Result<String, UnsetLazyValue> {
    let resolve = |text: &Option<Text>| text.as_ref().map(|t| t.resolve(env)).transpose();
    let image = map.container(config).and_then(|c| c.image.clone());
    Ok(image_name(
        resolve(&map.repository)?.as_deref(),
        resolve(&map.default_tag)?.as_deref(),
        resolve(&image)?.as_deref(),
        config,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_follow_the_reference_table() {
        let repo = Some("reg.example.com");
        let tag = Some("dev");
        for (image, expected) in [
            (None, "reg.example.com/api:dev"),
            (Some("api:1.2"), "reg.example.com/api:1.2"),
            (Some("/nginx"), "nginx:dev"),
            (Some("library/nginx"), "library/nginx:dev"),
            (Some("reg2:5000/x:3"), "reg2:5000/x:3"),
            // docker-map read this as name `reg2`, tag `5000/x`.
            (Some("reg2:5000/x"), "reg2:5000/x:dev"),
            (Some("/postgres:15"), "postgres:15"),
        ] {
            assert_eq!(image_name(repo, tag, image, "api"), expected, "{image:?}");
        }
        assert_eq!(
            image_name(None, None, Some("busybox"), "x"),
            "busybox:latest"
        );
        assert_eq!(image_name(None, None, None, "web"), "web:latest");
    }

    #[test]
    fn containers_volumes_networks_and_hosts() {
        assert_eq!(container_name("shop", "web", None), "shop.web");
        assert_eq!(container_name("shop", "app", Some("a")), "shop.app.a");
        assert_eq!(network_name("shop", "backend"), "shop.backend");
        assert_eq!(network_name("shop", "bridge"), "bridge");
        assert_eq!(hostname("shop.app_server.a", None), "shop-app-server-a");
        assert_eq!(hostname("shop.web", Some("__default__")), "shop-web");
        assert_eq!(hostname("shop.web", Some("eu_1")), "shop-web-eu-1");
        let mut map = ContainerMap {
            name: "shop".into(),
            ..ContainerMap::default()
        };
        assert_eq!(volume_name(&map, "app", "socket"), "shop.socket");
        map.use_attached_parent_name = true;
        assert_eq!(volume_name(&map, "app", "socket"), "shop.app.socket");
    }
}
