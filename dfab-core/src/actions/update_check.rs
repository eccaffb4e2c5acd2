//! The update check: how a live container differs from the create request its config gives now (reference §4.6,
//! the checks that decide a container must be recreated).

use std::collections::HashSet;

use bollard::models::{ContainerCreateBody, ContainerInspectResponse};

/// What differs between `live` and the request that would create it now; empty when it is up to date.
/// `image_id` is the id of the configured image on the engine, when known.
pub fn differences(
    expected: &ContainerCreateBody,
    image_id: Option<&str>,
    live: &ContainerInspectResponse,
) -> Vec<String> {
    let mut out = Vec::new();
    let config = live.config.clone().unwrap_or_default();
    let host = live.host_config.clone().unwrap_or_default();
    if let (Some(wanted), Some(actual)) = (image_id, live.image.as_deref()) {
        if wanted != actual {
            out.push("the image changed".to_owned());
        }
    }
    let live_env: HashSet<&String> = config.env.iter().flatten().collect();
    for entry in expected.env.iter().flatten() {
        if !live_env.contains(entry) {
            let key = entry.split('=').next().unwrap_or(entry);
            out.push(format!("environment {key} differs"));
        }
    }
    if expected.cmd.is_some() && expected.cmd != config.cmd {
        out.push("the command differs".to_owned());
    }
    if expected.entrypoint.is_some() && expected.entrypoint != config.entrypoint {
        out.push("the entrypoint differs".to_owned());
    }
    let live_ports: HashSet<&String> = config.exposed_ports.iter().flatten().collect();
    for port in expected.exposed_ports.iter().flatten() {
        if !live_ports.contains(port) {
            out.push(format!("port {port} is not exposed"));
        }
    }
    let wanted_host = expected.host_config.clone().unwrap_or_default();
    let live_binds: HashSet<&String> = host.binds.iter().flatten().collect();
    for bind in wanted_host.binds.iter().flatten() {
        if !live_binds.contains(bind) {
            out.push(format!("volume {bind} is not mounted"));
        }
    }
    // Legacy links come back as `/target:/container/alias`, network endpoint links as written.
    let mut live_links: HashSet<String> = host
        .links
        .iter()
        .flatten()
        .map(|l| match l.split_once(':') {
            Some((target, path)) => format!(
                "{}:{}",
                target.trim_start_matches('/'),
                path.rsplit('/').next().unwrap_or(path)
            ),
            None => l.clone(),
        })
        .collect();
    for endpoint in live
        .network_settings
        .iter()
        .flat_map(|n| n.networks.iter().flatten())
        .map(|(_, e)| e)
    {
        live_links.extend(endpoint.links.iter().flatten().cloned());
    }
    let endpoint_links = expected
        .networking_config
        .iter()
        .flat_map(|n| n.endpoints_config.iter().flatten())
        .flat_map(|(_, e)| e.links.iter().flatten());
    for link in wanted_host.links.iter().flatten().chain(endpoint_links) {
        if !live_links.contains(link) {
            let target = link.split(':').next().unwrap_or(link);
            out.push(format!("the link to {target} is missing"));
        }
    }
    if let Some(mode) = &wanted_host.network_mode {
        if host.network_mode.as_ref() != Some(mode) {
            out.push(format!("the network mode is not {mode}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig, HostConfig};

    fn body() -> ContainerCreateBody {
        ContainerCreateBody {
            env: Some(vec!["MODE=prod".into()]),
            cmd: Some(vec!["serve".into()]),
            host_config: Some(HostConfig {
                links: Some(vec!["site.app.a:app-a".into()]),
                binds: Some(vec!["site.sock:/run/app:rw".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn live() -> ContainerInspectResponse {
        ContainerInspectResponse {
            image: Some("sha256:1".into()),
            config: Some(ContainerConfig {
                env: Some(vec!["PATH=/bin".into(), "MODE=prod".into()]),
                cmd: Some(vec!["serve".into()]),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                links: Some(vec!["/site.app.a:/site.web/app-a".into()]),
                binds: Some(vec!["site.sock:/run/app:rw".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn an_unchanged_container_is_up_to_date() {
        assert!(differences(&body(), Some("sha256:1"), &live()).is_empty());
    }

    #[test]
    fn each_change_is_named() {
        let mut changed = body();
        changed.env = Some(vec!["MODE=dev".into()]);
        changed.cmd = Some(vec!["serve".into(), "--debug".into()]);
        assert_eq!(
            differences(&changed, Some("sha256:2"), &live()),
            [
                "the image changed",
                "environment MODE differs",
                "the command differs"
            ]
        );
        let mut live = live();
        live.host_config = Some(HostConfig::default());
        assert_eq!(
            differences(&body(), None, &live),
            [
                "volume site.sock:/run/app:rw is not mounted",
                "the link to site.app.a is missing"
            ]
        );
    }
}
