//! Properties of container maps over generated documents in every input shape: normalising is idempotent (a
//! map written back and read again is the same map), and a dependency order never lists anything before what it
//! needs.

use dfab_core::env::Env;
use dfab_core::map::{load_map_str, to_yaml, Graph, Item};
use proptest::prelude::*;

/// One config's keys, each in a randomly chosen input shape; references only point at earlier configs, so the
/// document is valid and acyclic by construction.
fn config(index: usize) -> impl Strategy<Value = String> {
    let earlier = index.max(1);
    (
        prop::sample::select(vec!["", "  instances: [a, b]\n", "  instances: one\n"]),
        prop::collection::vec((0..earlier, 0..3usize, any::<bool>()), 0..3),
        prop::collection::vec((0..earlier, 0..4usize), 0..3),
        prop::collection::vec((1000..1100u32, 0..5usize), 0..3),
        prop::collection::vec(0..3usize, 0..3),
        (0..4usize, 0..3usize),
    )
        .prop_map(
            move |(instances, links, uses, ports, binds, (exec, health))| {
                let mut yaml =
                    format!("c{index}:\n  image: app{index}\n  attaches: v{index}\n{instances}");
                if index > 0 {
                    let links: Vec<String> = links
                        .iter()
                        .map(|(j, shape, _)| match shape {
                            0 => format!("c{j}"),
                            1 => format!("[c{j}, l{j}]"),
                            _ => format!("{{container: c{j}, alias: x{j}}}"),
                        })
                        .collect();
                    if !links.is_empty() {
                        yaml.push_str(&format!("  links: [{}]\n", links.join(", ")));
                    }
                    let uses: Vec<String> = uses
                        .iter()
                        .map(|(j, shape)| match shape {
                            0 => format!("v{j}"),
                            1 => format!("[v{j}, ro]"),
                            2 => format!("[v{j}, /mnt/v{j}]"),
                            _ => format!("{{name: v{j}, readonly: true}}"),
                        })
                        .collect();
                    if !uses.is_empty() {
                        yaml.push_str(&format!("  uses: [{}]\n", uses.join(", ")));
                    }
                }
                let ports: Vec<String> = ports
                    .iter()
                    .map(|(p, shape)| match shape {
                        0 => format!("{p}"),
                        1 => format!("[{p}, {}]", p + 1),
                        2 => format!("[{p}, [{}, private]]", p + 1),
                        3 => format!("[{p}, {}, private, true]", p + 1),
                        _ => format!("{{{p}: {}}}", p + 1),
                    })
                    .collect();
                if !ports.is_empty() {
                    yaml.push_str(&format!("  exposes: [{}]\n", ports.join(", ")));
                }
                let binds: Vec<String> = binds
                    .iter()
                    .map(|shape| match shape {
                        0 => "[shared, ro]".to_owned(),
                        1 => "[/data, /srv/data]".to_owned(),
                        _ => "{/conf: [/srv/conf, ro]}".to_owned(),
                    })
                    .collect();
                if !binds.is_empty() {
                    yaml.push_str(&format!("  binds: [{}]\n", binds.join(", ")));
                }
                yaml.push_str(match exec {
                    0 => "",
                    1 => "  exec_commands: \"run.sh\"\n",
                    2 => "  exec_commands: [[run.sh, app, initial]]\n",
                    _ => "  exec_commands: [[[/bin/sh, -c, x], root]]\n",
                });
                yaml.push_str(match health {
                    0 => "",
                    1 => "  healthcheck: \"curl -f x\"\n",
                    _ => "  healthcheck: {test: [curl, x], interval: 30s, retries: 3}\n",
                });
                yaml
            },
        )
}

fn document() -> impl Strategy<Value = String> {
    (1..8usize).prop_flat_map(|count| {
        (0..count)
            .map(config)
            .collect::<Vec<_>>()
            .prop_map(move |configs| {
                let mut yaml = String::from("name: gen\nrepository: reg.example.com\nhost: {shared: /srv/shared}\nvolumes:\n  shared: /shared\n");
                for i in 0..count {
                    yaml.push_str(&format!("  v{i}: /v{i}\n"));
                }
                yaml.extend(configs);
                yaml
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn normalising_is_idempotent(yaml in document()) {
        let env = Env::default();
        let first = load_map_str(&yaml, None, "gen.yaml", &env)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        let written = to_yaml(&first.map);
        let second = load_map_str(&written, None, "written.yaml", &env)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{written}")))?;
        prop_assert_eq!(to_yaml(&second.map), written);
    }

    #[test]
    fn nothing_comes_before_what_it_needs(yaml in document()) {
        let env = Env::default();
        let map = load_map_str(&yaml, None, "gen.yaml", &env)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?
            .map;
        let graph = Graph::new(&map, &env).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let order = graph.start_order(graph.containers());
        for (position, item) in order.iter().enumerate() {
            if matches!(item, Item::Container { .. }) {
                for needed in graph.dependencies(item) {
                    let at = order.iter().position(|i| *i == needed);
                    prop_assert!(at.is_some_and(|at| at < position), "{} before {}", needed, item);
                }
            }
        }
        for level in graph.levels(&order).windows(2) {
            for item in &level[1] {
                prop_assert!(!graph.direct(item).iter().any(|d| level[1].contains(d)));
            }
        }
    }
}
