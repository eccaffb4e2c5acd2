//! Container maps: loading every key and input shape, naming, `extends`, validation messages, dependency order,
//! and the originals' bugs (docs/docker-map-semantics.md#bugs-dfab-does-not-repeat), none of which dfab reproduces.

use dfab_core::env::Env;
use dfab_core::map::{
    load_map_str, Attach, Bind, ContainerMap, ExecCommand, ExecPolicy, Graph, HealthCheck, Item,
    Link, NetworkMode, Port, Text, Use,
};

fn load(yaml: &str) -> ContainerMap {
    load_with(yaml, &Env::default())
}

fn load_with(yaml: &str, env: &Env) -> ContainerMap {
    match load_map_str(yaml, Some("m"), "test.yaml", env) {
        Ok(loaded) => loaded.map,
        Err(e) => panic!("{e}"),
    }
}

fn errors(yaml: &str) -> String {
    match load_map_str(yaml, Some("m"), "test.yaml", &Env::default()) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

fn plain(text: &str) -> Text {
    Text::plain(text)
}

#[test]
fn the_reference_example_loads() {
    let map = load(
        "name: shop\nrepository: registry.example.com\ndefault_tag: stable\nhost_root: /srv/shop\n\
         volumes:\n  static: /var/www/static\n  db_sock: /run/postgresql\nhost:\n  static: data/static\n\
         networks:\n  backend: {driver: bridge, internal: true}\ngroups:\n  frontend: [web, db]\n\
         containers:\n  db:\n    image: /postgres:15\n    attaches: db_sock\n    user: postgres\n    permissions: u=rwX,g=rX,o=\n\
         web:\n  uses: db_sock\n  binds: {static: ro}\n  exposes: {80: 8080}\n  networks: [backend]\n",
    );
    assert_eq!(
        map.name, "m",
        "an explicit name wins; the root name key is dropped, not a container (bug 1)"
    );
    assert_eq!(map.containers.len(), 2);
    assert!(map.networks["backend"].internal);
    let web = map.container("web").unwrap();
    assert!(
        matches!(&web.binds[0], Bind::Shared { alias, readonly: true, .. } if alias == "static")
    );
    assert_eq!(
        web.exposes,
        [Port {
            exposed: "80".into(),
            host_port: Some("8080".into()),
            interface: None,
            ipv6: false
        }]
    );
    let db = map.container("db").unwrap();
    assert_eq!(db.attaches[0].alias, "db_sock");
    assert_eq!(
        dfab_core::map::config_image(&map, "db", &Env::default()).unwrap(),
        "postgres:15"
    );
    assert_eq!(
        dfab_core::map::config_image(&map, "web", &Env::default()).unwrap(),
        "registry.example.com/web:stable"
    );
}

#[test]
fn the_name_comes_from_the_argument_or_the_document() {
    let loaded = load_map_str("name: site\nweb: {}\n", None, "x.yaml", &Env::default()).unwrap();
    assert_eq!(loaded.map.name, "site");
    let error = load_map_str("web: {}\n", None, "x.yaml", &Env::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "x.yaml:1:1: the map has no name: give one when loading it, or a top-level 'name' key"
    );
}

#[test]
fn binds_in_every_shape() {
    let map = load(
        "volumes: {a: /a, b: /b}\nhost: {a: /h/a, b: /h/b}\nc:\n  binds:\n    - a\n    - [b]\n    - [a, ro]\n    - [b, true]\n    - [/c, /h/c]\n    - [/d, /h/d, ro]\n    - [/e, [/h/e, ro]]\n    - {/f: /h/f}\n    - {/g: [/h/g, ro]}\n    - {name: a, readonly: true}\n    - {path: /i, host_path: /h/i, readonly: rw}\n",
    );
    let shared = |a: &str, ro: bool| (a.to_owned(), None::<String>, ro);
    let host = |p: &str, h: &str, ro: bool| (p.to_owned(), Some(h.to_owned()), ro);
    let got: Vec<(String, Option<String>, bool)> = map.containers[0]
        .1
        .binds
        .iter()
        .map(|b| match b {
            Bind::Shared {
                alias, readonly, ..
            } => (alias.clone(), None, *readonly),
            Bind::Host {
                path,
                host_path,
                readonly,
                ..
            } => (path.to_string(), Some(host_path.to_string()), *readonly),
        })
        .collect();
    assert_eq!(
        got,
        [
            shared("a", false),
            shared("b", false),
            shared("a", true),
            shared("b", true),
            host("/c", "/h/c", false),
            host("/d", "/h/d", true),
            host("/e", "/h/e", true),
            host("/f", "/h/f", false),
            host("/g", "/h/g", true),
            shared("a", true),
            host("/i", "/h/i", false),
        ]
    );
}

#[test]
fn attaches_uses_links_in_every_shape() {
    let map = load(
        "volumes: {s: /s}\np:\n  attaches: [s, [t, /t], {name: u, path: /u}]\nq:\n  instances: [a, b]\nc:\n  uses: [s, [t, ro], [u, /x], [q.a, /y, ro], {name: q.b, readonly: true}]\n  links: [p, [q.a, qa], {container: q.b, alias: qb}]\n",
    );
    let p = map.container("p").unwrap();
    assert_eq!(
        p.attaches
            .iter()
            .map(|a| (a.alias.as_str(), a.path.as_ref().map(ToString::to_string)))
            .collect::<Vec<_>>(),
        [
            ("s", None),
            ("t", Some("/t".into())),
            ("u", Some("/u".into()))
        ]
    );
    let c = map.container("c").unwrap();
    let uses: Vec<(String, Option<String>, bool)> = c
        .uses
        .iter()
        .map(
            |Use {
                 name,
                 path,
                 readonly,
                 ..
             }| {
                (
                    name.clone(),
                    path.as_ref().map(ToString::to_string),
                    *readonly,
                )
            },
        )
        .collect();
    assert_eq!(
        uses,
        [
            ("s".into(), None, false),
            ("t".into(), None, true),
            ("u".into(), Some("/x".into()), false),
            ("q.a".into(), Some("/y".into()), true),
            ("q.b".into(), None, true),
        ]
    );
    let links: Vec<(String, Option<String>)> = c
        .links
        .iter()
        .map(
            |Link {
                 container, alias, ..
             }| (container.clone(), alias.clone()),
        )
        .collect();
    assert_eq!(
        links,
        [
            ("p".into(), None),
            ("q.a".into(), Some("qa".into())),
            ("q.b".into(), Some("qb".into()))
        ]
    );
    let _: &Attach = &p.attaches[0];
}

#[test]
fn ports_networks_exec_commands_healthchecks_modes_users() {
    let map = load(
        "networks: {backend: {}, cache: null, mgmt: {}}\n\
         t: {}\n\
         c:\n  exposes: [8080, \"53/udp\", [80, 8080], [443, null], [81, [8081, private]], [82, [8082, private, true]], [83, 8083, public], {84: [8084, private]}]\n\
         \x20 networks:\n    - backend\n    - [cache, c-alias]\n    - {mgmt: [m-alias, null, 10.9.0.2]}\n\
         \x20 exec_commands: [\"echo hi\", [\"run.sh\", app], [\"init.sh\", root, initial], [[\"/bin/sh\", \"-c\", \"x\"], root]]\n\
         \x20 healthcheck: {test: [curl, -f, http://localhost/], interval: 30s, timeout: 500ms, retries: 3, start_period: 1m}\n\
         \x20 user: \"app:staff\"\nd: {network_mode: t}\n",
    );
    let c = map.container("c").unwrap();
    let ports: Vec<(String, Option<String>, Option<String>, bool)> = c
        .exposes
        .iter()
        .map(|p| {
            (
                p.exposed.clone(),
                p.host_port.clone(),
                p.interface.clone(),
                p.ipv6,
            )
        })
        .collect();
    let p = |e: &str, h: Option<&str>, i: Option<&str>, v6| {
        (e.to_owned(), h.map(str::to_owned), i.map(str::to_owned), v6)
    };
    assert_eq!(
        ports,
        [
            p("8080", None, None, false),
            p("53/udp", None, None, false),
            p("80", Some("8080"), None, false),
            p("443", None, None, false),
            p("81", Some("8081"), Some("private"), false),
            p("82", Some("8082"), Some("private"), true),
            p("83", Some("8083"), Some("public"), false),
            p("84", Some("8084"), Some("private"), false),
        ]
    );
    let networks = c.networks.as_ref().unwrap();
    assert_eq!(networks[0].network, "backend");
    assert_eq!(networks[1].aliases, [plain("c-alias")]);
    assert_eq!(networks[2].aliases, [plain("m-alias")]);
    assert_eq!(networks[2].ipv4_address, Some(plain("10.9.0.2")));
    assert_eq!(
        c.exec_commands,
        [
            ExecCommand::Shell {
                command: plain("echo hi"),
                user: None,
                policy: ExecPolicy::Restart
            },
            ExecCommand::Shell {
                command: plain("run.sh"),
                user: Some(plain("app")),
                policy: ExecPolicy::Restart
            },
            ExecCommand::Shell {
                command: plain("init.sh"),
                user: Some(plain("root")),
                policy: ExecPolicy::Initial
            },
            ExecCommand::Argv {
                argv: vec!["/bin/sh".into(), "-c".into(), "x".into()],
                user: Some(plain("root")),
                policy: ExecPolicy::Restart
            },
        ]
    );
    assert_eq!(
        c.healthcheck,
        Some(HealthCheck {
            test: vec![
                "CMD".into(),
                "curl".into(),
                "-f".into(),
                "http://localhost/".into()
            ],
            interval: Some(30_000_000_000),
            timeout: Some(500_000_000),
            retries: Some(3),
            start_period: Some(60_000_000_000),
        })
    );
    assert!(
        matches!(&map.container("d").unwrap().network_mode, Some(NetworkMode::Config { config, instance: None, .. }) if config == "t")
    );
    let user = c.user.as_ref().unwrap();
    assert_eq!(
        (user.user.clone(), user.group.clone()),
        (plain("app"), Some(plain("staff")))
    );
}

#[test]
fn network_modes_and_null_healthchecks() {
    let map = load(
        "a: {network_mode: null}\nb: {network_mode: host}\nc: {network_mode: /other}\nd: {network_mode: \"container:abc\"}\ne: {healthcheck: null}\nf: {healthcheck: \"curl -f x\"}\n",
    );
    let mode = |n: &str| map.container(n).unwrap().network_mode.clone();
    assert_eq!(mode("a"), Some(NetworkMode::Named("none".into())));
    assert_eq!(mode("b"), Some(NetworkMode::Named("host".into())));
    assert_eq!(
        mode("c"),
        Some(NetworkMode::External("container:other".into()))
    );
    assert_eq!(
        mode("d"),
        Some(NetworkMode::External("container:abc".into()))
    );
    // docker-map raised on `healthcheck: null` although it documents it as "disable" (bug 7).
    assert_eq!(
        map.container("e")
            .unwrap()
            .healthcheck
            .as_ref()
            .unwrap()
            .test,
        ["NONE"]
    );
    assert_eq!(
        map.container("f")
            .unwrap()
            .healthcheck
            .as_ref()
            .unwrap()
            .test,
        ["CMD-SHELL", "curl -f x"]
    );
}

#[test]
fn extends_merges_by_the_reference_rules() {
    let map = load(
        "volumes: {db_sock: /run/db, other: /o}\ndb: {attaches: db_sock}\n\
         base_worker:\n  abstract: true\n  image: app\n  uses: db_sock\n  instances: [x]\n  create_options: {entrypoint: celery}\n  host_config: {restart_policy: {Name: always}}\n\
         worker:\n  extends: base_worker\n  instances: [q1, x, q2]\n  uses: [[db_sock, ro]]\n  create_options: {command: \"worker -Q default\"}\n",
    );
    let worker = map.container("worker").unwrap();
    assert!(!worker.abstract_, "abstract is never inherited");
    assert_eq!(worker.image, Some(plain("app")));
    assert_eq!(
        worker.instances,
        ["x", "q1", "q2"],
        "lists join, first seen order"
    );
    assert_eq!(worker.uses.len(), 1, "keyed lists replace by key");
    assert!(worker.uses[0].readonly);
    assert_eq!(worker.create_options.len(), 2, "options update key by key");
    assert!(worker.host_config.contains_key("restart_policy"));
    let graph = Graph::new(&map, &Env::default()).unwrap();
    assert!(
        !graph
            .containers()
            .iter()
            .any(|i| i.to_string().starts_with("base_worker")),
        "abstract configs are not containers"
    );
}

#[test]
fn dependency_order_follows_the_reference_example() {
    let map = load(
        "volumes: {app_socket: /var/run/app}\napp: {instances: [a, b], attaches: app_socket}\nweb: {image: \"nginx:1.25\", uses: app_socket, links: app.a}\n",
    );
    let graph = Graph::new(&map, &Env::default()).unwrap();
    let web = Item::Container {
        config: "web".into(),
        instance: None,
    };
    let names: Vec<String> = graph
        .dependencies(&web)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        names,
        [
            "volume app_socket of app",
            "image app:latest",
            "app.a",
            "app.b",
            "image nginx:1.25"
        ]
    );
    let app_a = Item::Container {
        config: "app".into(),
        instance: Some("a".into()),
    };
    assert_eq!(graph.dependents(&app_a), std::slice::from_ref(&web));
    let levels = graph.levels(
        &graph
            .dependencies(&web)
            .into_iter()
            .chain([web])
            .collect::<Vec<_>>(),
    );
    let levels: Vec<Vec<String>> = levels
        .iter()
        .map(|l| l.iter().map(ToString::to_string).collect())
        .collect();
    assert_eq!(
        levels,
        [
            vec![
                "volume app_socket of app",
                "image app:latest",
                "image nginx:1.25"
            ],
            vec!["app.a", "app.b"],
            vec!["web"],
        ]
    );
}

#[test]
fn diamonds_instances_and_groups() {
    let map = load(
        "groups: {all: [top, left, right.r1]}\nbase: {}\nleft: {links: base}\nright: {instances: [r1, r2], links: base}\ntop: {links: [left, right.r1, right.r2]}\n",
    );
    let graph = Graph::new(&map, &Env::default()).unwrap();
    let top = Item::Container {
        config: "top".into(),
        instance: None,
    };
    let order: Vec<String> = graph
        .dependencies(&top)
        .iter()
        .filter(|i| matches!(i, Item::Container { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(order, ["base", "left", "right.r1", "right.r2"]);
    // Every container comes after all it depends on.
    for item in graph.containers() {
        let deps = graph.dependencies(item);
        for (i, dep) in deps.iter().enumerate() {
            for needed in graph.dependencies(dep) {
                let position = deps
                    .iter()
                    .position(|d| *d == needed)
                    .expect("transitive dependency listed");
                assert!(position < i, "{needed} before {dep}");
            }
        }
    }
    let base = Item::Container {
        config: "base".into(),
        instance: None,
    };
    let dependents: Vec<String> = graph
        .dependents(&base)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(dependents, ["top", "left", "right.r1", "right.r2"]);
}

#[test]
fn cycles_print_the_whole_cycle() {
    // docker-map recursed until Python's limit on indirect cycles (bug 11).
    let error = errors("a: {links: b}\nb: {links: c}\nc: {links: a}\n");
    assert!(
        error.contains("circular dependency: a -> b -> c -> a"),
        "{error}"
    );
    let error = errors("a: {extends: b}\nb: {extends: a}\n");
    assert!(error.contains("circular extends: a -> b -> a"), "{error}");
}

#[test]
fn every_error_is_reported_with_its_place() {
    let error = errors(
        "repositry: reg.example.com\nweb:\n  linkz: db\n  links: [dbb]\n  uses: nothing\n  networks: [front]\n  exposes: 8080\ndb:\n  image: postgres\n",
    );
    assert_eq!(
        error,
        "test.yaml:1:1: repositry: unknown map key 'repositry'; did you mean 'repository'? (a container configuration would need a mapping)\n\
         test.yaml:3:3: web.linkz: unknown container key 'linkz'; did you mean 'links'?\n\
         test.yaml:4:11: web.links: no container configuration 'dbb'; did you mean 'db'?\n\
         test.yaml:5:9: web.uses: 'nothing' is neither an attached volume nor a container configuration\n\
         test.yaml:6:14: web.networks: network 'front' is not in the networks section\n\
         test.yaml:7:12: web.exposes: expected a string or a list (write [8080] or \"8080\"), found a number"
    );
}

#[test]
fn references_must_resolve() {
    let error = errors(
        "volumes: {s: /s}\ngroups: {g: [web, app.c], app: [web]}\napp: {instances: [a, b], attaches: s}\nother: {attaches: s}\nweb: {links: app.z, network_mode: ghost, binds: [nohost], extends: nobody}\n",
    );
    for expected in [
        "groups.app: group 'app' has the name of a container configuration",
        "groups.g: 'app' has no instance 'c' (its instances: a, b)",
        "other.attaches: volume 's' is already attached by 'app'",
        "web.links: 'app' has no instance 'z' (its instances: a, b)",
        "web.network_mode: no container configuration 'ghost'",
        "web.binds: host volume 'nohost' is not in the host section",
        "web.extends: 'web' extends 'nobody', which is not a container configuration of this map",
    ] {
        assert!(error.contains(expected), "missing {expected:?} in\n{error}");
    }
}

#[test]
fn the_originals_bugs_are_not_reproduced() {
    // 3: a registry port without a tag.
    assert_eq!(
        dfab_core::map::image_name(None, None, Some("reg:5000/x"), "c"),
        "reg:5000/x:latest"
    );
    // 8: a group given as a single string is one member, not its characters.
    let map = load("groups: {g: web}\nweb: {}\n");
    assert_eq!(
        map.groups["g"]
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>(),
        ["web"]
    );
    // 9: `!path` on a mapping with nested mappings, and a user given as a list.
    std::env::set_var("DFAB_MAPS_TEST_ROOT", "/srv");
    let map = load("host: !path {up: {default: $DFAB_MAPS_TEST_ROOT/up, eu: $DFAB_MAPS_TEST_ROOT/eu}}\nweb: {user: [app, staff]}\n");
    assert_eq!(
        map.host["up"],
        dfab_core::map::HostPath::PerInstance(
            [
                ("default".to_owned(), plain("/srv/up")),
                ("eu".to_owned(), plain("/srv/eu"))
            ]
            .into()
        )
    );
    assert_eq!(
        map.container("web").unwrap().user.as_ref().unwrap().group,
        Some(plain("staff"))
    );
    // 10: an unquoted 1.20 stays "1.20" where a string is expected.
    let map = load("default_tag: 1.20\nweb: {}\n");
    assert_eq!(map.default_tag, Some(plain("1.20")));
    // 13: links to a multi-instance config by bare name are fine; undefined instances are not.
    load("app: {instances: [a, b]}\nweb: {links: app, uses: app}\n");
    assert!(errors("app: {instances: [a]}\nweb: {links: app.b}\n")
        .contains("'app' has no instance 'b'"));
    // 23: entrypoint lists are replaced, not merged, by extends (whole option values replace).
    let map = load("b: {abstract: true, create_options: {entrypoint: [a, b]}}\nc: {extends: b, create_options: {entrypoint: [c]}}\n");
    assert_eq!(
        map.container("c").unwrap().create_options["entrypoint"],
        serde_yaml::from_str::<serde_yaml::Value>("[c]").unwrap()
    );
}

#[test]
fn tags_resolve_from_the_env() {
    let mut env = Env::default();
    env.extra
        .insert("registry_prefix".into(), "reg.example.com".into());
    let map = load_with(
        "repository: !env registry_prefix\nvolumes:\n  uploads: !env_lazy uploads_path\nweb: {}\n",
        &env,
    );
    assert_eq!(map.repository, Some(plain("reg.example.com")));
    let uploads = map.volumes["uploads"].default_path.clone().unwrap();
    assert!(matches!(uploads, Text::EnvLazy { .. }));
    assert_eq!(
        uploads.resolve(&env).unwrap_err().to_string(),
        "!env_lazy at 3:22: env key 'uploads_path' is not set"
    );
    env.extra.insert("uploads_path".into(), "/data/up".into());
    assert_eq!(uploads.resolve(&env).unwrap(), "/data/up");
    let error = errors("repository: !env nope\nweb: {}\n");
    assert!(
        error.starts_with("test.yaml:1:18: !env nope: env key 'nope' is not set"),
        "{error}"
    );
    let error = errors("repository: !secret x\nweb: {}\n");
    assert!(
        error.contains("unknown tag !secret: expected !env, !env_lazy, !path or !path_lazy"),
        "{error}"
    );
}

#[test]
fn older_keys_warn_and_still_work() {
    let loaded = load_map_str(
        "web: {start_options: {privileged: true}, restart_policy: {Name: always}}\n",
        Some("m"),
        "old.yaml",
        &Env::default(),
    )
    .unwrap();
    let web = loaded.map.container("web").unwrap();
    assert!(web.host_config.contains_key("privileged"));
    assert!(web.host_config.contains_key("restart_policy"));
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "old.yaml:1:7: web.start_options: 'start_options' is a key of older docker-map versions; use 'host_config'",
            "old.yaml:1:42: web.restart_policy: 'restart_policy' is a key of older docker-map versions; use 'host_config: {restart_policy: …}'",
        ]
    );
}

#[test]
fn syntax_errors_and_duplicate_keys() {
    let error = errors("web: {links: [a\nb: 1\n");
    assert!(error.starts_with("test.yaml:"), "{error}");
    assert!(error.contains("not valid YAML"), "{error}");
    let error = errors("web: {}\nweb: {}\n");
    assert!(
        error.contains("test.yaml:2:1: web: duplicate key 'web' (first at 1:1)"),
        "{error}"
    );
}

#[test]
fn client_files() {
    use dfab_core::map::{check_clients, load_clients_str};
    let clients = load_clients_str(
        "web:\n  fabric_host: web1.example.com\n  version: 1.20\n  interfaces: {private: 10.0.0.21}\n  domainname:\n  volumes: false\napp:\n  fabric_host: app1\n",
        "clients.yaml",
        &Env::default(),
    )
    .unwrap();
    let web = &clients["web"];
    assert_eq!(
        web.version.as_deref(),
        Some("1.20"),
        "docker-map read 1.20 as 1.2 (bug 10)"
    );
    assert_eq!(web.interfaces["private"], plain("10.0.0.21"));
    assert_eq!(
        web.domainname,
        Some(None),
        "a null domainname still overrides the map's"
    );
    assert!(web.features.contains_key("volumes"));
    let error = load_clients_str(
        "web:\n  fabric_hots: x\nbad:\n",
        "clients.yaml",
        &Env::default(),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "clients.yaml:2:3: web.fabric_hots: unknown client key 'fabric_hots'; did you mean 'fabric_host'?\n\
         clients.yaml:3:1: bad: expected a mapping of client settings, found null"
    );
    let map = load("clients: [web, wbe]\nc: {}\n");
    let error = check_clients(&map, &clients).unwrap_err().to_string();
    assert!(
        error.contains("clients: client 'wbe' is not configured; did you mean 'web'?"),
        "{error}"
    );
}

#[test]
fn maps_from_the_env() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.yaml");
    let second = dir.path().join("second.yaml");
    std::fs::write(&first, "web: {}\n").unwrap();
    std::fs::write(&second, "name: named\napp: {}\n").unwrap();
    let list = format!("{};{}", first.display(), second.display());
    dfab_core::env::env_mut(move |e| {
        e.set_str("docker_maps", &list).unwrap();
    });
    let maps = dfab_core::map::configured_maps().unwrap();
    // Maps registered in code (another test of this binary registers one) come after the files.
    let names: Vec<&str> = maps
        .iter()
        .map(|m| m.name.as_str())
        .filter(|n| *n != "coded")
        .collect();
    assert_eq!(names, ["first", "named"]);
    // Maps naming clients are checked against env.docker_clients.
    let third = dir.path().join("third.yaml");
    let clients = dir.path().join("clients.yaml");
    std::fs::write(
        &third,
        "clients: [web, db]
app: {}
",
    )
    .unwrap();
    std::fs::write(
        &clients,
        "web: {fabric_host: web1}
",
    )
    .unwrap();
    let (third_s, clients_s) = (third.display().to_string(), clients.display().to_string());
    dfab_core::env::env_mut(move |e| {
        e.docker_maps = vec![third_s];
        e.docker_clients = Some(clients_s);
    });
    let error = dfab_core::map::configured_maps().unwrap_err().to_string();
    assert!(
        error.ends_with("clients: client 'db' is not configured in the clients file"),
        "{error}"
    );
}

#[test]
fn every_other_key() {
    let map = load(
        "default_domain: example.com\nset_hostname: false\nuse_attached_parent_name: true\nclients: web\n\
         host:\n  root: /srv\n  up: {default: data/up, eu: /abs/up-eu}\n\
         volumes:\n  up: {default_path: /up, driver: nfs, driver_options: {addr: 10.0.0.9}, create_options: {labels: {a: b}}, user: 1000, permissions: \"0750\"}\n\
         networks:\n  back: {driver: overlay, driver_options: {encrypted: \"1\"}, internal: yes, create_options: {attachable: true}}\n\
         c:\n  shares: /cache\n  clients: [web]\n  stop_signal: SIGINT\n  stop_timeout: 20\n  start_delay: 1.5\n  permissions: u=rwX\n  persistent: true\n  attaches: up\n\
         \x20 create_options: {command: \"serve\", environment: {A: \"1\"}}\n  host_config: {restart_policy: {Name: always}, mem_limit: 3g}\n\
         d:\n  uses: c.up\n  networks: {back: {aliases: web}}\n",
    );
    assert_eq!(map.default_domain, Some(plain("example.com")));
    assert!(!map.sets_hostname());
    assert_eq!(map.clients, ["web"]);
    assert_eq!(map.host_root, Some(plain("/srv")));
    assert_eq!(
        map.host["up"],
        dfab_core::map::HostPath::PerInstance(
            [
                ("default".to_owned(), plain("data/up")),
                ("eu".to_owned(), plain("/abs/up-eu"))
            ]
            .into()
        )
    );
    let volume = &map.volumes["up"];
    assert_eq!(volume.driver, "nfs");
    assert_eq!(volume.driver_options["addr"], plain("10.0.0.9"));
    assert_eq!(volume.permissions.as_deref(), Some("0750"));
    let network = &map.networks["back"];
    assert_eq!(network.driver, "overlay");
    assert!(network.internal);
    let c = map.container("c").unwrap();
    assert_eq!(c.shares, [plain("/cache")]);
    assert_eq!(c.clients, ["web"]);
    assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(c.stop_timeout, Some(20));
    assert_eq!(c.start_delay, Some(1.5));
    assert_eq!(c.permissions.as_deref(), Some("u=rwX"));
    assert_eq!(c.persistent, Some(true));
    assert_eq!(
        c.create_options["command"],
        serde_yaml::Value::from("serve")
    );
    assert_eq!(c.host_config["mem_limit"], serde_yaml::Value::from("3g"));
    let d = map.container("d").unwrap();
    assert_eq!(d.networks.as_ref().unwrap()[0].aliases, [plain("web")]);
    assert_eq!(
        dfab_core::map::volume_name(&map, "c", "up"),
        "m.c.up",
        "parent-name mode names attached volumes after their config"
    );
    let graph = Graph::new(&map, &Env::default()).unwrap();
    let d_item = Item::Container {
        config: "d".into(),
        instance: None,
    };
    assert!(graph.dependencies(&d_item).contains(&Item::Container {
        config: "c".into(),
        instance: None
    }));
    assert!(graph
        .dependencies(&d_item)
        .contains(&Item::Network("back".into())));
}

#[test]
fn wrong_shapes_are_named() {
    let error = errors(
        "volumes: [a]\nc:\n  instances: {a: 1}\n  stop_timeout: soon\n  exposes: [[80, 8080, x, true, extra]]\n  healthcheck: {test: x, interval: forever}\n  exec_commands: [[x, root, sometimes]]\n",
    );
    for expected in [
        "test.yaml:1:10: volumes: expected a mapping, found a list",
        "c.instances: expected a string or a list, found a mapping",
        "c.stop_timeout: expected a whole number, found a string",
        "c.exposes[0]: expected [port, host_port, interface, ipv6] at most",
        "c.healthcheck.interval: expected a duration such as 30s, 500ms or 1m, found a string",
        "c.exec_commands[0]: exec policy 'sometimes' is not one of: restart, initial",
    ] {
        assert!(error.contains(expected), "missing {expected:?} in\n{error}");
    }
}

#[test]
fn selecting_containers_groups_and_all() {
    use dfab_core::map::select;
    let map = load(
        "groups: {front: [web, app.b], workers: [worker]}\nbase: {abstract: true}\nweb: {}\napp: {instances: [a, b]}\nworker: {instances: [q1, q2], extends: base}\n",
    );
    let names = |items: Vec<Item>| items.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(names(select(&map, "app", &[]).unwrap()), ["app.a", "app.b"]);
    assert_eq!(names(select(&map, "app.b", &[]).unwrap()), ["app.b"]);
    assert_eq!(names(select(&map, "front", &[]).unwrap()), ["web", "app.b"]);
    assert_eq!(
        names(select(&map, "workers", &["q2".into()]).unwrap()),
        ["worker.q2"]
    );
    assert_eq!(
        names(select(&map, "__all__", &[]).unwrap()),
        ["web", "app.a", "app.b", "worker.q1", "worker.q2"]
    );
    assert_eq!(
        select(&map, "wbe", &[]).unwrap_err(),
        "map 'm' has no container or group 'wbe'; did you mean 'web'?"
    );
    assert_eq!(
        select(&map, "app.c", &[]).unwrap_err(),
        "'app' of map 'm' has no instance 'c'"
    );
    assert!(
        select(&map, "base", &[]).is_err(),
        "abstract configs are not containers"
    );
}

#[test]
fn domains_and_bad_network_modes() {
    use dfab_core::map::{domain_name, ClientConfig};
    let map = load("default_domain: example.com\nweb: {}\n");
    assert_eq!(domain_name(&map, None), Some(plain("example.com")));
    let silent = ClientConfig {
        domainname: Some(None),
        ..ClientConfig::default()
    };
    assert_eq!(
        domain_name(&map, Some(&silent)),
        None,
        "a null domainname on the client wins"
    );
    // docker-map made an error object the network mode for a wrong-length list (bug 6).
    let error = errors("a: {network_mode: [x]}\n");
    assert!(
        error.contains("a.network_mode: expected [config, instance], found a list"),
        "{error}"
    );
}

#[test]
fn every_cycle_is_reported_at_once() {
    let error =
        errors("a: {links: b}\nb: {links: a}\nc: {links: d}\nd: {links: e}\ne: {links: c}\n");
    assert!(
        error.contains("circular dependency: a -> b -> a"),
        "{error}"
    );
    assert!(
        error.contains("circular dependency: c -> d -> e -> c"),
        "{error}"
    );
    assert_eq!(error.matches("circular dependency").count(), 2, "{error}");
}

#[test]
fn merge_keys_share_settings_between_configurations() {
    let map = load(
        "common: &common\n  abstract: true\n  image: app\n  user: 1000\n  create_options: &opts {environment: {MODE: prod}}\n\
         web:\n  <<: *common\n  abstract: false\n  create_options:\n    <<: *opts\n    command: serve\n",
    );
    let web = map.container("web").expect("web");
    assert_eq!(web.image, Some(plain("app")));
    assert!(!web.abstract_);
    assert_eq!(web.create_options.len(), 2, "{:?}", web.create_options);
}

#[test]
fn registry_logins_are_checked_without_showing_them() {
    use dfab_core::map::load_clients_str;
    let error = load_clients_str(
        "web:\n  fabric_host: web1\n  auth_configs:\n    registry.example.com: {username: deploy, passwrd: SECRET-1}\n\
         \x20   quay.io: {username: [SECRET-2]}\n    ghcr.io: SECRET-3\n\
         db:\n  fabric_host: db1\n  auth_configs: SECRET-4\n",
        "clients.yaml",
        &Env::default(),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "clients.yaml:4:46: web.auth_configs.registry.example.com.passwrd: unknown login key 'passwrd'; did you mean 'password'?\n\
         clients.yaml:5:25: web.auth_configs.quay.io.username: expected a string, found a list\n\
         clients.yaml:6:14: web.auth_configs.ghcr.io: expected a login mapping (username, password, …), found a string\n\
         clients.yaml:9:17: db.auth_configs: expected a mapping of registries to logins, found a string"
    );
    assert!(!error.contains("SECRET"), "{error}");
    let mut env = Env::default();
    env.docker_auth_configs.insert(
        "registry.example.com".into(),
        [("passwrd".to_owned(), "SECRET".to_owned())]
            .into_iter()
            .collect(),
    );
    assert_eq!(
        dfab_core::map::check_env_logins(&env)
            .unwrap_err()
            .to_string(),
        "docker_auth_configs.registry.example.com.passwrd: unknown login key 'passwrd'; did you mean 'password'?"
    );
}

#[test]
fn maps_built_in_code_are_registered_and_checked() {
    use dfab_core::map::{configured_maps, register_map};
    let mut site = load_map_str(
        "name: coded\nweb: {image: busybox:latest}\n",
        None,
        "coded",
        &Env::default(),
    )
    .unwrap()
    .map;
    site.containers[0].1.stop_timeout = Some(2);
    register_map(site.clone()).expect("a valid map registers");
    let maps = configured_maps().expect("maps");
    let coded = maps.iter().find(|m| m.name == "coded").expect("registered");
    assert_eq!(coded.container("web").unwrap().stop_timeout, Some(2));
    // A map made invalid in code gets the same errors as a file, named after the code.
    site.containers[0].1.links = vec![Link {
        container: "db".into(),
        alias: None,
        at: Default::default(),
    }];
    let error = register_map(site).unwrap_err().to_string();
    assert!(error.starts_with("<code: coded>:"), "{error}");
    assert!(error.contains("no container configuration 'db'"), "{error}");
}
