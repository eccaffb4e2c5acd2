//! Planning container-map actions from the dependency graph and observed states
//! (docs/docker-map-semantics.md#action-plans, with its worked startup); bug numbers are docker-map's
//! (docs/docker-map-semantics.md#bugs-dfab-does-not-repeat).

use std::collections::HashMap;

use dfab_core::actions::{create_body, plan, Action, ItemState, PlanOptions};
use dfab_core::env::Env;
use dfab_core::map::{load_map_str, ContainerMap, Graph, Item};

const SITE: &str = "name: site\nrepository: registry.example.com\nhost_root: /srv/site\n\
volumes: {app_socket: /var/run/app, app_cfg: /etc/app}\nhost: {app_cfg: config/app}\n\
app: {instances: [a, b], binds: {app_cfg: ro}, attaches: app_socket, user: 2000, exec_commands: [\"warm-up\"]}\n\
web: {image: \"nginx:1.25\", uses: app_socket, links: app.a, exposes: {80: 80}, networks: [front, back]}\n\
db: {persistent: true}\n\
networks: {front: {}, back: {}}\n";

fn site() -> (ContainerMap, Graph) {
    let map = load_map_str(SITE, None, "site.yaml", &Env::default())
        .unwrap()
        .map;
    let graph = Graph::new(&map, &Env::default()).unwrap();
    (map, graph)
}

fn container(config: &str, instance: Option<&str>) -> Item {
    Item::Container {
        config: config.into(),
        instance: instance.map(str::to_owned),
    }
}

/// Every item `target` needs present, and every container of them (and `target`) running.
fn all_up(graph: &Graph, target: &Item) -> HashMap<Item, ItemState> {
    graph
        .start_order(std::slice::from_ref(target))
        .into_iter()
        .chain([target.clone()])
        .map(|i| {
            let state = if matches!(i, Item::Container { .. }) {
                ItemState::RUNNING
            } else {
                ItemState::PRESENT
            };
            (i, state)
        })
        .collect()
}

fn lines(
    action: Action,
    targets: &[Item],
    states: &HashMap<Item, ItemState>,
    options: &PlanOptions,
) -> Vec<String> {
    let (map, graph) = site();
    let state = |item: &Item| states.get(item).cloned().unwrap_or(ItemState::ABSENT);
    plan(&map, &graph, action, targets, &state, options)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn startup_from_nothing_follows_the_reference_walk_through() {
    let steps = lines(
        Action::Startup,
        &[container("web", None)],
        &HashMap::new(),
        &PlanOptions::default(),
    );
    assert_eq!(
        steps,
        [
            "Creating volume 'site.app_socket'.",
            "Preparing volume 'site.app_socket' (owner 2000:2000).",
            "Pulling image 'registry.example.com/app:latest'.",
            // web's own list: its networks come before the containers it uses
            // (docs/docker-map-semantics.md#dependency-order).
            "Creating network 'site.front'.",
            "Creating network 'site.back'.",
            "Creating container 'site.app.a' from image 'registry.example.com/app:latest'.",
            "Starting container 'site.app.a'.",
            "Running 1 exec command(s) in container 'site.app.a'.",
            "Creating container 'site.app.b' from image 'registry.example.com/app:latest'.",
            "Starting container 'site.app.b'.",
            "Running 1 exec command(s) in container 'site.app.b'.",
            "Pulling image 'registry.example.com/nginx:1.25'.",
            "Creating container 'site.web' from image 'registry.example.com/nginx:1.25'.",
            "Connecting container 'site.web' to network(s) 'site.back'.",
            "Starting container 'site.web'.",
        ]
    );
}

#[test]
fn a_second_startup_changes_nothing_and_stopped_containers_only_start() {
    let (_, graph) = site();
    let web = container("web", None);
    let everything: HashMap<Item, ItemState> = all_up(&graph, &web);
    assert!(lines(
        Action::Startup,
        std::slice::from_ref(&web),
        &everything,
        &PlanOptions::default()
    )
    .is_empty());
    // Existing networks are not created again, present images not pulled again (docker-map did both, bug 17).
    let mut stopped = everything.clone();
    stopped.insert(web.clone(), ItemState::exited(0));
    assert_eq!(
        lines(
            Action::Startup,
            std::slice::from_ref(&web),
            &stopped,
            &PlanOptions::default()
        ),
        ["Starting container 'site.web'."]
    );
    assert_eq!(
        lines(Action::Start, &[web], &stopped, &PlanOptions::default()),
        ["Starting container 'site.web'."]
    );
}

#[test]
fn stop_and_shutdown_walk_dependents_first() {
    let running: HashMap<Item, ItemState> = [
        (container("app", Some("a")), ItemState::RUNNING),
        (container("app", Some("b")), ItemState::RUNNING),
        (container("web", None), ItemState::RUNNING),
    ]
    .into();
    assert_eq!(
        lines(
            Action::Shutdown,
            &[container("app", Some("a"))],
            &running,
            &PlanOptions::default()
        ),
        [
            "Stopping container 'site.web'.",
            "Removing container 'site.web'.",
            "Stopping container 'site.app.a'.",
            "Removing container 'site.app.a'.",
        ]
    );
    assert_eq!(
        lines(
            Action::Stop,
            &[container("app", Some("b"))],
            &running,
            &PlanOptions::default()
        ),
        [
            "Stopping container 'site.web'.",
            "Stopping container 'site.app.b'."
        ]
    );
    // Running containers are not removed by `remove`; stopped ones are.
    let mut mixed = running.clone();
    mixed.insert(container("web", None), ItemState::exited(1));
    assert_eq!(
        lines(
            Action::Remove,
            &[container("app", Some("a"))],
            &mixed,
            &PlanOptions::default()
        ),
        ["Removing container 'site.web'."]
    );
}

#[test]
fn persistent_containers_restart_and_kill() {
    let states: HashMap<Item, ItemState> = [
        (container("db", None), ItemState::RUNNING),
        (container("web", None), ItemState::INITIAL),
        (container("app", Some("a")), ItemState::RUNNING),
    ]
    .into();
    let keep = PlanOptions {
        remove_persistent: false,
        ..PlanOptions::default()
    };
    // docker-map removed a running persistent container anyway (bug 15).
    assert!(lines(Action::Shutdown, &[container("db", None)], &states, &keep).is_empty());
    assert_eq!(
        lines(
            Action::Shutdown,
            &[container("db", None)],
            &states,
            &PlanOptions::default()
        ),
        [
            "Stopping container 'site.db'.",
            "Removing container 'site.db'."
        ]
    );
    assert!(
        lines(
            Action::Restart,
            &[container("web", None)],
            &states,
            &PlanOptions::default()
        )
        .is_empty(),
        "a container never started is not restarted"
    );
    assert_eq!(
        lines(
            Action::Restart,
            &[container("app", Some("a"))],
            &states,
            &PlanOptions {
                restart_exec_commands: true,
                ..PlanOptions::default()
            }
        ),
        [
            "Stopping container 'site.app.a'.",
            "Starting container 'site.app.a'.",
            "Running 1 exec command(s) in container 'site.app.a'.",
        ]
    );
    assert_eq!(
        lines(
            Action::Kill,
            &[container("app", Some("a")), container("web", None)],
            &states,
            &PlanOptions {
                signal: "SIGHUP".into(),
                ..PlanOptions::default()
            }
        ),
        ["Sending SIGHUP to container 'site.app.a'."]
    );
}

#[test]
fn action_names() {
    assert_eq!("startup".parse::<Action>(), Ok(Action::Startup));
    assert_eq!(Action::Shutdown.to_string(), "shutdown");
    assert_eq!(
        "boot".parse::<Action>().unwrap_err(),
        "'boot' is not an action: expected one of create, start, restart, stop, remove, startup, shutdown, kill, update, pull_images"
    );
}

#[test]
fn create_requests_follow_the_reference() {
    use dfab_core::map::ClientConfig;
    let yaml = "name: site\nrepository: registry.example.com\nhost_root: /srv/site\n\
        volumes: {app_socket: /var/run/app, app_cfg: /etc/app}\nhost: {app_cfg: config/app}\n\
        app: {instances: [a, b], binds: {app_cfg: ro}, attaches: app_socket, user: 2000,\n\
        \x20 create_options: {command: \"serve --port 'eight zero'\", environment: {MODE: prod}},\n\
        \x20 host_config: {restart_policy: {Name: always}, mem_limit: 1g}}\n\
        web: {image: \"nginx:1.25\", uses: app_socket, links: app.a, exposes: [[80, 80], [443, 8443, private]]}\n";
    let map = load_map_str(yaml, None, "site.yaml", &Env::default())
        .unwrap()
        .map;
    let client = ClientConfig {
        interfaces: [(
            "private".to_owned(),
            dfab_core::map::Text::plain("10.0.0.21"),
        )]
        .into(),
        ..ClientConfig::default()
    };
    let app = create_body(
        &map,
        "app",
        Some("a"),
        "registry.example.com/app:latest",
        None,
        &Env::default(),
    )
    .unwrap();
    let app = serde_json::to_value(&app).unwrap();
    assert_eq!(app["Hostname"], "site-app-a");
    assert_eq!(app["User"], "2000");
    assert_eq!(
        app["Cmd"],
        serde_json::json!(["serve", "--port", "eight zero"])
    );
    assert_eq!(app["Env"], serde_json::json!(["MODE=prod"]));
    assert_eq!(
        app["HostConfig"]["Binds"],
        serde_json::json!([
            "/srv/site/config/app:/etc/app:ro",
            "site.app_socket:/var/run/app:rw"
        ])
    );
    assert_eq!(app["HostConfig"]["Memory"], 1_073_741_824);
    assert_eq!(app["HostConfig"]["RestartPolicy"]["Name"], "always");
    let web = create_body(
        &map,
        "web",
        None,
        "registry.example.com/nginx:1.25",
        Some(&client),
        &Env::default(),
    )
    .unwrap();
    let web = serde_json::to_value(&web).unwrap();
    assert_eq!(
        web["ExposedPorts"],
        serde_json::json!({"80/tcp": {}, "443/tcp": {}})
    );
    assert_eq!(
        web["HostConfig"]["Links"],
        serde_json::json!(["site.app.a:app-a"])
    );
    assert_eq!(
        web["HostConfig"]["Binds"],
        serde_json::json!(["site.app_socket:/var/run/app:rw"])
    );
    assert_eq!(
        web["HostConfig"]["PortBindings"]["443/tcp"],
        serde_json::json!([{"HostIp": "10.0.0.21", "HostPort": "8443"}])
    );
    let error = create_body(&map, "web", None, "nginx", None, &Env::default()).unwrap_err();
    assert!(matches!(
        &error,
        dfab_core::actions::RequestError::UnknownInterface { port, alias } if port == "443" && alias == "private"
    ));
    assert_eq!(
        error.to_string(),
        "port 443 is published on interface 'private', which the client does not define"
    );
    // A misspelt option is refused when the map loads, with its position, not in the middle of a run.
    let bad = load_map_str(
        "name: s\nc: {host_config: {mem_limt: 1g}}\n",
        None,
        "s.yaml",
        &Env::default(),
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "s.yaml:2:19: c.host_config.mem_limt: unknown host_config key 'mem_limt'; did you mean 'mem_limit'?"
    );
}

#[test]
fn update_recreates_what_changed_and_what_depends_on_it() {
    let (_, graph) = site();
    let web = container("web", None);
    let mut states: HashMap<Item, ItemState> = all_up(&graph, &web);
    assert!(lines(
        Action::Update,
        std::slice::from_ref(&web),
        &states,
        &PlanOptions::default()
    )
    .is_empty());
    let app_b = container("app", Some("b"));
    states.insert(
        app_b.clone(),
        ItemState {
            outdated: true,
            ..ItemState::RUNNING
        },
    );
    assert_eq!(
        lines(
            Action::Update,
            std::slice::from_ref(&web),
            &states,
            &PlanOptions::default()
        ),
        [
            "Stopping container 'site.app.b'.",
            "Removing container 'site.app.b'.",
            "Creating container 'site.app.b' from image 'registry.example.com/app:latest'.",
            "Starting container 'site.app.b'.",
            "Running 1 exec command(s) in container 'site.app.b'.",
            // web uses app.b's volume owner's instances, so it is recreated after it.
            "Stopping container 'site.web'.",
            "Removing container 'site.web'.",
            "Creating container 'site.web' from image 'registry.example.com/nginx:1.25'.",
            "Connecting container 'site.web' to network(s) 'site.back'.",
            "Starting container 'site.web'.",
        ]
    );
}

#[test]
fn update_adjusts_in_place_running_and_stopped_containers() {
    use dfab_core::actions::StepKind;
    let (_, graph) = site();
    let web = container("web", None);
    let app_a = container("app", Some("a"));
    let mut states: HashMap<Item, ItemState> = all_up(&graph, &web);
    let adjust = vec![
        StepKind::Disconnect {
            network: "bridge".into(),
        },
        StepKind::UpdateInPlace {
            changes: vec!["memory".into()],
        },
        StepKind::ExecMissing { commands: vec![0] },
        StepKind::Connect {
            network: "site.admin".into(),
        },
    ];
    states.insert(
        app_a.clone(),
        ItemState {
            adjust: adjust.clone(),
            ..ItemState::RUNNING
        },
    );
    // A stopped container: networks, limits, then a start with all its exec commands.
    states.insert(
        web.clone(),
        ItemState {
            adjust: adjust[..2].to_vec(),
            ..ItemState::exited(0)
        },
    );
    assert_eq!(
        lines(
            Action::Update,
            std::slice::from_ref(&web),
            &states,
            &PlanOptions::default()
        ),
        [
            "Disconnecting container 'site.app.a' from network 'bridge'.",
            "Connecting container 'site.app.a' to network 'site.admin'.",
            "Updating container 'site.app.a' in place (memory).",
            "Running 1 missing exec command(s) in container 'site.app.a'.",
            "Disconnecting container 'site.web' from network 'bridge'.",
            "Updating container 'site.web' in place (memory).",
            "Starting container 'site.web'.",
        ]
    );
}

#[test]
fn schedules_put_items_after_what_they_wait_for() {
    use dfab_core::actions::schedule;
    let (map, graph) = site();
    let state = |_: &Item| ItemState::ABSENT;
    let steps = plan(
        &map,
        &graph,
        Action::Startup,
        &[container("web", None)],
        &state,
        &PlanOptions::default(),
    );
    let levels: Vec<Vec<String>> = schedule(&graph, &steps)
        .levels()
        .iter()
        .map(|level| level.iter().map(|(item, _)| item.to_string()).collect())
        .collect();
    assert_eq!(
        levels,
        [
            vec![
                "volume app_socket of app",
                "image registry.example.com/app:latest",
                "network front",
                "network back",
                "image registry.example.com/nginx:1.25"
            ],
            vec!["app.a", "app.b"],
            vec!["web"],
        ]
    );
    let running = |item: &Item| match item {
        Item::Container { .. } => ItemState::RUNNING,
        _ => ItemState::PRESENT,
    };
    let steps = plan(
        &map,
        &graph,
        Action::Shutdown,
        &[container("app", Some("a"))],
        &running,
        &PlanOptions::default(),
    );
    let levels: Vec<Vec<String>> = schedule(&graph, &steps)
        .levels()
        .iter()
        .map(|level| level.iter().map(|(item, _)| item.to_string()).collect())
        .collect();
    assert_eq!(
        levels,
        [vec!["web"], vec!["app.a"]],
        "teardown waits for dependents"
    );
}

/// Exec commands with policy `initial` run on a container's first start only (docker-map ran them on every start,
/// bug 27, docs/docker-map-semantics.md#bugs-dfab-does-not-repeat).
#[test]
fn initial_exec_commands_run_on_the_first_start_only() {
    let map = load_map_str(
        "name: jobs\nweb: {exec_commands: [\"warm-up\", [\"migrate\", null, initial]]}\n",
        None,
        "jobs.yaml",
        &Env::default(),
    )
    .unwrap()
    .map;
    let graph = Graph::new(&map, &Env::default()).unwrap();
    let web = container("web", None);
    let steps = |state: ItemState, action: Action| -> Vec<String> {
        let state = move |item: &Item| match item {
            Item::Container { .. } => state.clone(),
            _ => ItemState::PRESENT,
        };
        plan(
            &map,
            &graph,
            action,
            std::slice::from_ref(&web),
            &state,
            &PlanOptions::default(),
        )
        .iter()
        .map(ToString::to_string)
        .collect()
    };
    let exec = |n: usize| format!("Running {n} exec command(s) in container 'jobs.web'.");
    assert_eq!(
        steps(ItemState::ABSENT, Action::Startup).last(),
        Some(&exec(2))
    );
    assert_eq!(
        steps(ItemState::INITIAL, Action::Start).last(),
        Some(&exec(2))
    );
    assert_eq!(
        steps(ItemState::exited(0), Action::Start).last(),
        Some(&exec(1))
    );
}

#[test]
fn remove_attached_removes_leftover_volumes_whose_containers_are_gone() {
    // Only the volume and the networks are left, say after a shutdown without remove_attached.
    let states: HashMap<Item, ItemState> = [
        (
            Item::Volume {
                config: "app".into(),
                alias: "app_socket".into(),
            },
            ItemState::PRESENT,
        ),
        (Item::Network("back".into()), ItemState::PRESENT),
    ]
    .into_iter()
    .collect();
    let options = PlanOptions {
        remove_attached: true,
        ..PlanOptions::default()
    };
    let app = [container("app", Some("a")), container("app", Some("b"))];
    for action in [Action::Shutdown, Action::Remove] {
        assert_eq!(
            lines(action, &app, &states, &options),
            [
                "Removing volume 'site.app_socket'.",
                "Removing network 'site.back'."
            ],
            "{action}"
        );
    }
    assert_eq!(
        lines(Action::Shutdown, &app, &states, &PlanOptions::default()),
        Vec::<String>::new(),
        "without remove_attached nothing is removed"
    );
}

#[test]
fn configurations_assigned_elsewhere_are_passed_over() {
    let states = all_up(&site().1, &container("web", None));
    let options = PlanOptions {
        elsewhere: ["web".to_owned()].into_iter().collect(),
        ..PlanOptions::default()
    };
    // web depends on app.a; on a client web is not assigned to, shutting app.a down leaves web alone.
    assert_eq!(
        lines(
            Action::Shutdown,
            &[container("app", Some("a"))],
            &states,
            &options
        ),
        [
            "Stopping container 'site.app.a'.",
            "Removing container 'site.app.a'."
        ]
    );
}

/// A value of each shape for every option a map may pass through.
const SAMPLES: &[(&str, &str)] = &[
    ("command", "sh -c 'sleep 1'"),
    ("entrypoint", "[/bin/sh, -c]"),
    ("environment", "{A: 1, B: x}"),
    ("labels", "{team: ops}"),
    ("working_dir", "/srv"),
    ("user", "2000"),
    ("tty", "true"),
    ("stdin_open", "yes"),
    ("detach", "true"),
    ("hostname", "box"),
    ("domainname", "example.com"),
    ("stop_signal", "SIGINT"),
    ("stop_timeout", "5"),
    ("ports", "[80, 53/udp]"),
    ("volumes", "[/data]"),
    ("network_disabled", "false"),
    (
        "healthcheck",
        "{test: [CMD, true], interval: 1000000000, retries: 3}",
    ),
    ("runtime", "runc"),
    ("binds", "[/srv:/srv:ro]"),
    ("port_bindings", "{80: [127.0.0.1, 8080]}"),
    ("publish_all_ports", "false"),
    ("links", "{other: alias}"),
    ("privileged", "false"),
    ("dns", "[10.0.0.2]"),
    ("dns_search", "[example.com]"),
    ("dns_opt", "[ndots:2]"),
    ("volumes_from", "[other]"),
    ("network_mode", "bridge"),
    ("restart_policy", "{Name: on-failure, MaximumRetryCount: 3}"),
    ("cap_add", "[NET_ADMIN]"),
    ("cap_drop", "[MKNOD]"),
    ("devices", "[/dev/fuse]"),
    ("extra_hosts", "{db: 10.0.0.5}"),
    ("read_only", "true"),
    ("pid_mode", "host"),
    ("ipc_mode", "private"),
    ("uts_mode", "host"),
    ("userns_mode", "host"),
    ("security_opt", "[no-new-privileges]"),
    ("ulimits", "[{name: nofile, soft: 1024, hard: 2048}]"),
    ("log_config", "{type: json-file, config: {max-size: 10m}}"),
    ("mem_limit", "512m"),
    ("memswap_limit", "1g"),
    ("mem_reservation", "256m"),
    ("mem_swappiness", "10"),
    ("shm_size", "64m"),
    ("cgroup_parent", "/dfab"),
    ("group_add", "[audio]"),
    ("cpu_shares", "512"),
    ("cpu_period", "100000"),
    ("cpu_quota", "50000"),
    ("cpu_rt_period", "1000000"),
    ("cpu_rt_runtime", "950000"),
    ("nano_cpus", "500000000"),
    ("cpuset_cpus", "0-1"),
    ("cpuset_mems", "0"),
    ("blkio_weight", "500"),
    ("oom_kill_disable", "false"),
    ("oom_score_adj", "100"),
    ("pids_limit", "100"),
    ("tmpfs", "{/run: size=1m}"),
    ("sysctls", "{net.core.somaxconn: 1024}"),
    ("storage_opt", "{size: 10G}"),
    ("isolation", "default"),
    ("auto_remove", "false"),
    ("init", "true"),
    ("volume_driver", "local"),
];

/// The promise of the load-time check: every option a map loads with becomes a field of the engine's typed create
/// request, so no run can fail half-way on an option the map accepted.
#[test]
fn every_option_a_map_accepts_fits_the_engine_request() {
    use dfab_core::map::{keywords, Block};
    for block in [Block::Create, Block::Host] {
        for key in keywords(block) {
            let sample = SAMPLES
                .iter()
                .find(|(k, _)| *k == key)
                .unwrap_or_else(|| panic!("no sample value for {key}"))
                .1;
            let yaml = format!("name: s\nc: {{{}: {{{key}: {sample}}}}}\n", block.key());
            let map = load_map_str(&yaml, None, "s.yaml", &Env::default())
                .unwrap_or_else(|e| panic!("{key} does not load: {e}"))
                .map;
            let body = create_body(&map, "c", None, "c:latest", None, &Env::default())
                .unwrap_or_else(|e| panic!("{key} does not fit the request: {e}"));
            // The field the translation names is in the typed request (detach sets none).
            let value: serde_yaml::Value = serde_yaml::from_str(sample).expect("sample");
            let json = serde_json::to_value(&body).expect("body");
            if let Some(field) = dfab_core::map::translate(block, key, &value).expect("translates")
            {
                let part = match field.target {
                    dfab_core::map::Target::Body => &json,
                    dfab_core::map::Target::Host => &json["HostConfig"],
                };
                assert!(
                    !part[field.name].is_null(),
                    "{key} sets {}: {json}",
                    field.name
                );
            }
        }
    }
}

/// Real maps' options, valid for docker-map and docker-py, load and reach the engine's fields.
#[test]
fn real_maps_options_reach_the_engine() {
    let map = load_map_str(
        "name: s\nweb:\n  create_options: {detach: true, tty: true, environment: {MODE: prod}}\n  \
         host_config: {port_bindings: {80: 8080}, restart_policy: {Name: always}}\n  \
         start_options: {dns: [10.0.0.2]}\n",
        None,
        "s.yaml",
        &Env::default(),
    )
    .unwrap()
    .map;
    let body = create_body(&map, "web", None, "web:latest", None, &Env::default()).unwrap();
    let json = serde_json::to_value(&body).unwrap();
    assert_eq!(json["Tty"], true);
    assert_eq!(json["Env"], serde_json::json!(["MODE=prod"]));
    assert_eq!(
        json["HostConfig"]["PortBindings"]["80/tcp"],
        serde_json::json!([{"HostIp": "", "HostPort": "8080"}])
    );
    assert_eq!(json["HostConfig"]["RestartPolicy"]["Name"], "always");
    assert_eq!(json["HostConfig"]["Dns"], serde_json::json!(["10.0.0.2"]));
    // Every misspelling at once, each with its position; a key in the wrong block says where it belongs.
    let error = load_map_str(
        "name: s\nweb:\n  create_options: {comand: sleep}\n  host_config: {restart_polcy: always, mem_limit: lots}\n  environment: {A: 1}\n",
        None,
        "s.yaml",
        &Env::default(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "s.yaml:3:20: web.create_options.comand: unknown create_options key 'comand'; did you mean 'command'?\n\
         s.yaml:4:17: web.host_config.restart_polcy: unknown host_config key 'restart_polcy'; did you mean 'restart_policy'?\n\
         s.yaml:4:51: web.host_config.mem_limit: expected a byte size such as 512m or 3g, found a string\n\
         s.yaml:5:3: web.environment: unknown container key 'environment': it belongs under create_options"
    );
}
