//! The update check: how a live container differs from the create request its config gives now, and which
//! differences decide that it must be recreated (docs/docker-map-semantics.md#the-update-check).

use std::collections::{HashMap, HashSet};

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerUpdateBody, EndpointSettings,
    HostConfig, RestartPolicy,
};

use super::StepKind;
use crate::task::FromArg;

/// How `update` compares configured exec commands with a running container's processes
/// (`check_exec_commands`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecCheck {
    /// A process with exactly the command's arguments.
    #[default]
    Full,
    /// A process whose arguments contain the command.
    Partial,
    /// No check.
    None,
}

impl FromArg for ExecCheck {
    fn expected() -> String {
        "full, partial or none".into()
    }

    fn from_arg(value: &str) -> Option<ExecCheck> {
        match value.to_ascii_lowercase().as_str() {
            "full" => Some(ExecCheck::Full),
            "partial" => Some(ExecCheck::Partial),
            "none" => Some(ExecCheck::None),
            _ => None,
        }
    }
}

/// One configured exec command as a process list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ExpectedExec {
    /// Its index in the configuration's `exec_commands`.
    pub index: usize,
    /// The argument strings a process running it may show (a shell line runs as itself or as `/bin/sh -c …`).
    pub forms: Vec<String>,
    /// The uid it runs as, when the user is given as a number (or defaults to root); `None` for a user name.
    pub uid: Option<u32>,
}

/// The exec commands of `expected` that no process of `processes` (uid, arguments) runs. A user name is not
/// compared (the host's `ps` knows the host's names, not the container's; docker-map's bug 36,
/// docs/docker-map-semantics.md#bugs-dfab-does-not-repeat).
pub(super) fn missing_exec(
    expected: &[ExpectedExec],
    processes: &[(Option<u32>, String)],
    check: ExecCheck,
) -> Vec<usize> {
    if check == ExecCheck::None {
        return Vec::new();
    }
    expected
        .iter()
        .filter(|command| {
            !processes.iter().any(|(uid, args)| {
                let same_user = command.uid.is_none() || uid.is_none() || command.uid == *uid;
                let same_args = command.forms.iter().any(|form| match check {
                    ExecCheck::Partial => args.contains(form.as_str()),
                    _ => args == form,
                });
                same_user && same_args
            })
        })
        .map(|command| command.index)
        .collect()
}

/// A network connection a container's configuration asks for.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ExpectedEndpoint {
    /// The full network name.
    pub network: String,
    /// The endpoint's configured settings (aliases, links, addresses).
    pub settings: EndpointSettings,
}

/// The steps that bring a container's network connections to the expected ones: connect the missing, reconnect
/// the mismatched (aliases, links, addresses), disconnect the ones no longer configured.
pub(super) fn network_steps(
    expected: &[ExpectedEndpoint],
    live: &HashMap<String, EndpointSettings>,
) -> Vec<StepKind> {
    let mut steps = Vec::new();
    for endpoint in expected {
        let network = endpoint.network.clone();
        match live.get(&endpoint.network) {
            None => steps.push(StepKind::Connect { network }),
            Some(actual) if !endpoint_matches(&endpoint.settings, actual) => {
                steps.push(StepKind::Disconnect {
                    network: network.clone(),
                });
                steps.push(StepKind::Connect { network });
            }
            Some(_) => {}
        }
    }
    let mut left: Vec<&String> = live
        .keys()
        .filter(|name| !expected.iter().any(|e| &e.network == *name))
        .collect();
    left.sort();
    steps.extend(left.into_iter().map(|network| StepKind::Disconnect {
        network: network.clone(),
    }));
    steps
}

/// Whether a live endpoint has the configured aliases (among others the engine adds), the configured links and
/// the configured addresses.
fn endpoint_matches(wanted: &EndpointSettings, actual: &EndpointSettings) -> bool {
    let aliases: HashSet<&String> = actual.aliases.iter().flatten().collect();
    let links =
        |e: &EndpointSettings| -> HashSet<String> { e.links.iter().flatten().cloned().collect() };
    let addresses = |e: &EndpointSettings| {
        let ipam = e.ipam_config.clone().unwrap_or_default();
        let mut local: Vec<String> = ipam.link_local_ips.unwrap_or_default();
        local.sort();
        (
            ipam.ipv4_address.filter(|a| !a.is_empty()),
            ipam.ipv6_address.filter(|a| !a.is_empty()),
            local,
        )
    };
    wanted.aliases.iter().flatten().all(|a| aliases.contains(a))
        && links(wanted) == links(actual)
        && addresses(wanted) == addresses(actual)
}

/// A limit the update check compares: its name in step lines and its value in a host config (`None` or zero when
/// unset).
type Limit = (&'static str, fn(&HostConfig) -> Option<i64>);

/// The limits that change in place; zero or less counts as unset.
const LIMITS: [Limit; 7] = [
    ("blkio weight", |h| h.blkio_weight.map(i64::from)),
    ("CPU period", |h| h.cpu_period),
    ("CPU quota", |h| h.cpu_quota),
    ("CPU shares", |h| h.cpu_shares),
    ("memory", |h| h.memory),
    ("memory reservation", |h| h.memory_reservation),
    ("PIDs limit", |h| h.pids_limit),
];

/// How limits and the restart policy differ: what an in-place update changes, and why the container needs
/// recreating instead (a limit set on the container that is no longer configured, or the OOM-killer setting, which
/// the engine cannot change in place; docker-map's bug 34, docs/docker-map-semantics.md#bugs-dfab-does-not-repeat).
pub(super) fn limit_changes(wanted: &HostConfig, live: &HostConfig) -> (Vec<String>, Vec<String>) {
    let (mut update, mut reset) = (Vec::new(), Vec::new());
    let set = |v: Option<i64>| v.filter(|v| *v > 0);
    let mut compare =
        |name: &str, wanted: Option<String>, live: Option<String>| match (wanted, live) {
            (Some(w), l) if Some(&w) != l.as_ref() => update.push(name.to_owned()),
            (None, Some(l)) => reset.push(format!("{name} {l} is not configured")),
            _ => {}
        };
    for (name, value) in LIMITS {
        compare(
            name,
            set(value(wanted)).map(|v| v.to_string()),
            set(value(live)).map(|v| v.to_string()),
        );
    }
    compare(
        "memory swap",
        swap(wanted).map(|v| v.to_string()),
        swap(live).map(|v| v.to_string()),
    );
    let cpuset = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    compare(
        "CPU set",
        cpuset(&wanted.cpuset_cpus),
        cpuset(&live.cpuset_cpus),
    );
    compare(
        "memory node set",
        cpuset(&wanted.cpuset_mems),
        cpuset(&live.cpuset_mems),
    );
    if wanted.oom_kill_disable.unwrap_or(false) != live.oom_kill_disable.unwrap_or(false) {
        reset.push("the OOM killer setting differs".to_owned());
    }
    if let Some(policy) = &wanted.restart_policy {
        if !same_policy(policy, live.restart_policy.as_ref()) {
            update.push("restart policy".to_owned());
        }
    }
    (update, reset)
}

/// The swap limit in effect: as configured, else twice the memory, as the engine sets it when only memory is given.
fn swap(host: &HostConfig) -> Option<i64> {
    host.memory_swap
        .filter(|v| *v != 0)
        .or_else(|| host.memory.filter(|m| *m > 0).map(|m| 2 * m))
}

fn same_policy(wanted: &RestartPolicy, live: Option<&RestartPolicy>) -> bool {
    let name = |p: Option<&RestartPolicy>| {
        p.and_then(|p| p.name)
            .map(|n| n.to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "no".to_owned())
    };
    let retries = |p: Option<&RestartPolicy>| p.and_then(|p| p.maximum_retry_count).unwrap_or(0);
    let wanted_name = name(Some(wanted));
    wanted_name == name(live)
        && (wanted_name != "on-failure" || retries(Some(wanted)) == retries(live))
}

/// The in-place update request: the configured limits and restart policy.
pub(super) fn update_body(wanted: &HostConfig) -> ContainerUpdateBody {
    ContainerUpdateBody {
        blkio_weight: wanted.blkio_weight.filter(|v| *v > 0),
        cpu_period: wanted.cpu_period.filter(|v| *v > 0),
        cpu_quota: wanted.cpu_quota.filter(|v| *v > 0),
        cpu_shares: wanted.cpu_shares.filter(|v| *v > 0),
        memory: wanted.memory.filter(|v| *v > 0),
        memory_reservation: wanted.memory_reservation.filter(|v| *v > 0),
        // Always with the memory: the engine refuses a memory limit above the swap limit already set.
        memory_swap: swap(wanted),
        pids_limit: wanted.pids_limit.filter(|v| *v > 0),
        cpuset_cpus: wanted.cpuset_cpus.clone().filter(|s| !s.is_empty()),
        cpuset_mems: wanted.cpuset_mems.clone().filter(|s| !s.is_empty()),
        restart_policy: wanted.restart_policy.clone(),
        ..Default::default()
    }
}

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
        if host.network_mode.as_deref().map(network_mode) != Some(network_mode(mode)) {
            out.push(format!("the network mode is not {}", network_mode(mode)));
        }
    }
    out
}

/// A network mode as the engine keeps it: Docker 25 and later store `default` (and an empty mode) as `bridge`.
fn network_mode(mode: &str) -> &str {
    match mode {
        "" | "default" => "bridge",
        other => other,
    }
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
    fn exec_commands_match_by_arguments_and_numeric_users() {
        let expected = [
            ExpectedExec {
                index: 0,
                forms: vec![
                    "/bin/sh -c serve --port 80".into(),
                    "serve --port 80".into(),
                ],
                uid: Some(0),
            },
            ExpectedExec {
                index: 2,
                forms: vec!["worker".into()],
                uid: Some(2000),
            },
            ExpectedExec {
                index: 3,
                forms: vec!["cron".into()],
                uid: None,
            },
        ];
        let processes = [
            (Some(0), "serve --port 80".to_owned()),
            (Some(0), "worker".to_owned()),
            (Some(33), "/usr/sbin/cron -f".to_owned()),
        ];
        // `worker` runs as root, not as uid 2000; `cron` (a user name: any uid) runs with more arguments.
        assert_eq!(missing_exec(&expected, &processes, ExecCheck::Full), [2, 3]);
        assert_eq!(missing_exec(&expected, &processes, ExecCheck::Partial), [2]);
        assert!(missing_exec(&expected, &processes, ExecCheck::None).is_empty());
        assert_eq!(ExecCheck::from_arg("Partial"), Some(ExecCheck::Partial));
        assert_eq!(ExecCheck::from_arg("some"), None);
    }

    #[test]
    fn networks_connect_reconnect_and_leave() {
        let endpoint = |network: &str, aliases: &[&str]| ExpectedEndpoint {
            network: network.into(),
            settings: EndpointSettings {
                aliases: Some(aliases.iter().map(|a| (*a).to_owned()).collect()),
                ..Default::default()
            },
        };
        let live: HashMap<String, EndpointSettings> = [
            ("site.front", vec!["web", "3f2a1b"]),
            ("site.back", vec!["3f2a1b"]),
            ("bridge", vec![]),
        ]
        .into_iter()
        .map(|(n, a)| {
            (
                n.to_owned(),
                EndpointSettings {
                    aliases: Some(a.into_iter().map(str::to_owned).collect()),
                    ..Default::default()
                },
            )
        })
        .collect();
        let steps = network_steps(
            &[
                endpoint("site.front", &["web"]),
                endpoint("site.back", &["api"]),
                endpoint("site.admin", &[]),
            ],
            &live,
        );
        let network = |n: &str| n.to_owned();
        assert_eq!(
            steps,
            [
                StepKind::Disconnect {
                    network: network("site.back")
                },
                StepKind::Connect {
                    network: network("site.back")
                },
                StepKind::Connect {
                    network: network("site.admin")
                },
                StepKind::Disconnect {
                    network: network("bridge")
                },
            ]
        );
    }

    #[test]
    fn limits_update_in_place_or_need_a_new_container() {
        let wanted = HostConfig {
            memory: Some(256 << 20),
            cpu_shares: Some(512),
            restart_policy: Some(RestartPolicy {
                name: Some(bollard::models::RestartPolicyNameEnum::ALWAYS),
                maximum_retry_count: None,
            }),
            ..Default::default()
        };
        let live = HostConfig {
            memory: Some(128 << 20),
            memory_swap: Some(256 << 20),
            cpu_shares: Some(512),
            pids_limit: Some(100),
            ..Default::default()
        };
        assert_eq!(
            limit_changes(&wanted, &live),
            (
                vec![
                    "memory".to_owned(),
                    "memory swap".to_owned(),
                    "restart policy".to_owned()
                ],
                vec!["PIDs limit 100 is not configured".to_owned()]
            )
        );
        let same = HostConfig {
            memory_swap: Some(512 << 20),
            memory: Some(256 << 20),
            pids_limit: Some(0),
            restart_policy: Some(RestartPolicy {
                name: Some(bollard::models::RestartPolicyNameEnum::ALWAYS),
                maximum_retry_count: Some(0),
            }),
            cpu_shares: Some(512),
            ..Default::default()
        };
        assert_eq!(limit_changes(&wanted, &same), (vec![], vec![]));
        let body = update_body(&wanted);
        assert_eq!(body.memory_swap, Some(512 << 20), "swap goes with memory");
        let oom = HostConfig {
            oom_kill_disable: Some(true),
            ..Default::default()
        };
        assert_eq!(
            limit_changes(&oom, &HostConfig::default()).1,
            ["the OOM killer setting differs"]
        );
    }

    #[test]
    fn an_unchanged_container_is_up_to_date() {
        assert!(differences(&body(), Some("sha256:1"), &live()).is_empty());
    }

    #[test]
    fn the_default_network_mode_is_the_bridge_that_new_engines_store() {
        let mut wanted = body();
        let mut stored = live();
        for (asked, kept) in [
            ("default", "bridge"),
            ("default", "default"),
            ("", "bridge"),
        ] {
            wanted.host_config.as_mut().unwrap().network_mode = Some(asked.into());
            stored.host_config.as_mut().unwrap().network_mode = Some(kept.into());
            assert!(
                differences(&wanted, Some("sha256:1"), &stored).is_empty(),
                "{asked} kept as {kept}"
            );
        }
        stored.host_config.as_mut().unwrap().network_mode = Some("host".into());
        assert_eq!(
            differences(&wanted, Some("sha256:1"), &stored),
            ["the network mode is not bridge"]
        );
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
