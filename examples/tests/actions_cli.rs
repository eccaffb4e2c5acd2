//! `actions.*` end to end on the real engine, locally and through sshd: a dry run that the real run then
//! follows, a second startup that changes nothing, kill/stop/restart, shutdown.

use std::process::Command;

use dfab_test_support::{abort, cut_at, Cut, Engine, TestEnv};

use crate::dfab;

const MAP: &str = "name: dfabtest\n\
volumes:\n  sock: {default_path: /var/run/app, user: 1000, permissions: \"0750\"}\n  log: /var/log/web\n  data: /data\n\
host:\n  data: {default: HOST/data, a: HOST/data-a, b: HOST/data-b}\n\
networks:\n  back: {}\n\
app:\n  image: /busybox:latest\n  instances: [a, b]\n  attaches: sock\n  binds: {data: ro}\n  stop_timeout: 1\n\
\x20 create_options: {command: \"/bin/sleep 600\", environment: {MODE: prod}}\n  networks: [back]\n\
web:\n  image: /dfabtest-web:latest\n  uses: sock\n  links: app.a\n  attaches: log\n  stop_timeout: 1\n\
\x20 create_options: {command: \"/bin/sleep 600\"}\n  networks: [back]\n";

fn docker(args: &[&str]) -> String {
    dfab_test_support::docker(None, args).1
}

/// Options for running as root through the test sshd with `set` as the `--set` value.
fn over_ssh(t: &TestEnv, host: &str, set: &str) -> Vec<String> {
    [
        "-H",
        host,
        "-i",
        &t.root_key,
        "--system-known-hosts",
        &t.known_hosts,
        "--set",
        set,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// A map file in a temporary directory, and the `--set` value that loads it.
struct MapFile {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    set: String,
}

impl MapFile {
    /// `file` in a new temporary directory, holding `yaml`.
    fn new(file: &str, yaml: &str) -> MapFile {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join(file);
        let set = format!("docker_maps={}", path.display());
        let map = MapFile {
            _dir: dir,
            path,
            set,
        };
        map.write(yaml);
        map
    }

    /// Replaces the map's text.
    fn write(&self, yaml: &str) {
        std::fs::write(&self.path, yaml).expect("map file");
    }
}

fn clean(engine: Option<&str>) {
    let docker = |args: &[&str]| dfab_test_support::docker(engine, args).1;
    docker(&[
        "rm",
        "-f",
        "dfabtest.web",
        "dfabtest.app.a",
        "dfabtest.app.b",
    ]);
    docker(&["volume", "rm", "dfabtest.sock", "dfabtest.log"]);
    docker(&["network", "rm", "dfabtest.back"]);
}

/// The `docker: …` lines of a run, without host prefixes and without the dry-run marker and summary.
fn steps(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once("docker: ").map(|(_, s)| s))
        // The dry run's marker names where each step would happen: `(dry run on client c1, host engine) `.
        .map(|s| match s.strip_prefix("(dry run") {
            Some(rest) => rest
                .split_once(") ")
                .map_or(rest, |(_, step)| step)
                .to_owned(),
            None => s.to_owned(),
        })
        // Steps end with a full stop; summaries end with the time taken.
        .filter(|s| s.ends_with('.'))
        .collect()
}

#[test]
fn startup_follows_its_dry_run_and_shutdown_removes_the_containers() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    for engine in &t.matrix {
        startup_update_and_shutdown_on(&t, engine);
    }
}

/// The dry run, startup, update and shutdown of [`MAP`] on `engine`, locally and through sshd.
fn startup_update_and_shutdown_on(t: &TestEnv, engine: &Engine) {
    let on = |args: &[&str]| dfab_test_support::docker(engine.host(), args).1;
    let run = || dfab().env("DOCKER_HOST", &engine.url);
    let dir = tempfile::tempdir().expect("temporary directory");
    for sub in ["data", "data-a", "data-b"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("host directory");
    }
    let map = dir.path().join("dfabtest.yaml");
    std::fs::write(&map, MAP.replace("HOST", &dir.path().display().to_string())).expect("map file");
    let maps = format!("docker_maps={}", map.display());
    clean(engine.host());
    // The web server has an image of its own, so that retagging it later concerns that container alone.
    on(&["tag", "busybox:latest", "dfabtest-web:latest"]);
    let nopasswd = std::process::Command::new("docker")
        .args(engine.host().map(|h| vec!["-H", h]).unwrap_or_default())
        .args(["build", "-q", "-t", "dfabtest-nopasswd:latest", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut build| {
            use std::io::Write;
            build
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"FROM busybox:latest\nRUN rm /etc/passwd /etc/group\n")?;
            build.wait()
        })
        .expect("docker build");
    assert!(
        nopasswd.success(),
        "an image without /etc/passwd on {}",
        engine.label
    );

    let planned = run()
        .args(&["--set", &maps, "actions.startup:dfabtest,web,dry_run=true"])
        .run();
    // The volume is prepared from an image without /etc/passwd: the helper runs as 0:0, not as a user name.
    let done = run()
        .args(&["--set", &maps, "actions.startup:dfabtest,web"])
        .args(&["--set", "docker_prepare_image=dfabtest-nopasswd:latest"])
        .stdout_has("docker: 6 created, 1 prepared, 3 started in ")
        .run();
    // Items of one dependency level run in parallel, so their lines may interleave; the steps are the same.
    let (mut planned_steps, mut done_steps) = (steps(&planned), steps(&done));
    planned_steps.sort();
    done_steps.sort();
    assert_eq!(
        planned_steps, done_steps,
        "the real run follows the dry run"
    );
    let sequential = run()
        .args(&[
            "--set",
            &maps,
            "actions.shutdown:dfabtest,__all__",
            "actions.startup:dfabtest,web",
        ])
        .args(&["--set", "docker_parallel=1"])
        .run();
    let after_shutdown = &sequential[sequential.find("docker: Creating container").unwrap_or(0)..];
    let containers_planned: Vec<String> = steps(&planned)
        .into_iter()
        .filter(|s| s.contains("container"))
        .collect();
    let containers_done: Vec<String> = steps(after_shutdown)
        .into_iter()
        .filter(|s| s.contains("container"))
        .collect();
    assert_eq!(
        containers_planned, containers_done,
        "with one worker the run takes the dry run's order"
    );
    assert_eq!(steps(&done).len(), 10, "{done}");
    assert_eq!(
        on(&["exec", "dfabtest.app.a", "sh", "-c", "echo $MODE"]),
        "prod"
    );
    assert_eq!(
        on(&[
            "exec",
            "dfabtest.web",
            "stat",
            "-c",
            "%u %a",
            "/var/run/app"
        ]),
        "1000 750",
        "the attached volume was prepared and is shared"
    );
    run()
        .args(&["--set", &maps, "actions.startup:dfabtest.web"])
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .run();

    // Update: nothing changed, then an environment value in the map changes; the containers that use or link
    // the recreated ones follow.
    run()
        .args(&["--set", &maps, "actions.update:dfabtest,web"])
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .run();
    std::fs::write(
        &map,
        MAP.replace("HOST", &dir.path().display().to_string())
            .replace("MODE: prod", "MODE: dev"),
    )
    .expect("map file");
    // startup leaves a changed container as it is, and says so.
    run()
        .args(&["--set", &maps, "actions.startup:dfabtest,web"])
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .stderr_has(
            "Warning: 'dfabtest.app.a' differs from its configuration (environment MODE differs); startup leaves \
             it as it is, actions.update replaces it\n",
        )
        .run();
    let updated = run()
        .args(&["--set", &maps, "actions.update:dfabtest,web"])
        .stdout_has("docker: 'dfabtest.app.a' is out of date: environment MODE differs.\n")
        .stdout_has("docker: Creating container 'dfabtest.web' from image 'dfabtest-web:latest'.\n")
        .stdout_has("docker: 3 created, 3 started, 3 stopped, 3 removed in ")
        .run();
    assert!(!updated.contains("Creating volume"), "{updated}");
    assert_eq!(
        on(&["exec", "dfabtest.app.a", "sh", "-c", "echo $MODE"]),
        "dev"
    );
    run()
        .args(&["--set", &maps, "actions.update:dfabtest,web"])
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .run();

    // Update after the web server's tag moves to a new image: only that container is recreated.
    on(&[
        "commit",
        "--change",
        "ENV REVISION=2",
        "dfabtest.web",
        "dfabtest-web:latest",
    ]);
    let retagged = run()
        .args(&["--set", &maps, "actions.update:dfabtest,web"])
        .stdout_has("docker: 'dfabtest.web' is out of date: the image changed.\n")
        .stdout_has("docker: 1 created, 1 started, 1 stopped, 1 removed in ")
        .run();
    assert!(!retagged.contains("dfabtest.app"), "{retagged}");
    assert_eq!(
        on(&["exec", "dfabtest.web", "sh", "-c", "echo $REVISION"]),
        "2"
    );

    // Through sshd: a signal, a stop that walks dependents first, a start, and a shutdown of everything.
    let host = format!("root@127.0.0.1:{}", t.port);
    let ssh = over_ssh(t, &host, &format!("{maps},docker_base_url={}", engine.url));
    let ssh: Vec<&str> = ssh.iter().map(String::as_str).collect();
    let out = run()
        .args(&ssh)
        .args(&[
            "actions.kill:dfabtest,app.b,signal=SIGKILL",
            "actions.stop:dfabtest.app.a",
        ])
        .stdout_has(&format!(
            "[{host}] docker: Sending SIGKILL to container 'dfabtest.app.b'.\n"
        ))
        .run();
    let stop_web = out
        .find("Stopping container 'dfabtest.web'")
        .expect("web stopped");
    let stop_app = out
        .find("Stopping container 'dfabtest.app.a'")
        .expect("app.a stopped");
    assert!(stop_web < stop_app, "dependents stop first:\n{out}");
    run()
        .args(&ssh)
        .args(&["actions.start:dfabtest,web"])
        .stdout_has("Starting container 'dfabtest.app.a'.")
        .stdout_has("Starting container 'dfabtest.web'.")
        .run();
    run()
        .args(&ssh)
        .args(&["actions.shutdown:dfabtest,__all__,remove_attached=true"])
        .stdout_has("docker: Removing volume 'dfabtest.sock'.\n")
        .stdout_has("docker: Removing network 'dfabtest.back'.\n")
        .stdout_has("docker: 3 stopped, 6 removed in ")
        .run();
    assert_eq!(on(&["ps", "-aq", "--filter", "name=dfabtest."]), "");
    assert_eq!(
        on(&["volume", "ls", "-q", "--filter", "name=dfabtest."]),
        "",
        "nothing left behind"
    );
    assert_eq!(
        on(&["network", "ls", "-q", "--filter", "name=dfabtest."]),
        "",
        "nothing left behind"
    );
    clean(engine.host());
    on(&["rmi", "dfabtest-web:latest", "dfabtest-nopasswd:latest"]);
}

/// The README's main job: the example fabfile's own map, with no `--set`, locally and through sshd.
#[test]
fn the_example_map_starts_up_with_the_readmes_command() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let root = tempfile::tempdir().expect("temporary directory");
    let set = format!("example_root={}", root.path().display());
    let names = [
        "example_map.web_server",
        "example_map.app_server.instance1",
        "example_map.app_server.instance2",
    ];
    let remove = || {
        docker(&[&["rm", "-f"][..], &names[..]].concat());
        docker(&[
            "volume",
            "rm",
            "example_map.app_server_socket",
            "example_map.app_log",
            "example_map.web_log",
        ]);
    };
    remove();
    dfab()
        .args(&["--set", &set, "actions.startup:example_map,web_server"])
        .stdout_has(
            "docker: Creating container 'example_map.web_server' from image 'busybox:latest'.\n",
        )
        .stdout_has("docker: 6 created, 2 prepared, 3 started in ")
        .run();
    for name in names {
        assert_eq!(
            docker(&["inspect", "-f", "{{.State.Running}}", name]),
            "true",
            "{name}"
        );
    }
    assert_eq!(
        docker(&[
            "exec",
            "example_map.app_server.instance2",
            "sh",
            "-c",
            "echo $APP_MODE; id -u; ls -d /var/lib/app/config"
        ]),
        "demo\n2000\n/var/lib/app/config",
        "the fabfile's !env values and the map's user and binds"
    );
    assert!(
        root.path().join("config/app2").is_dir(),
        "per-instance host binds under the fabfile's host root"
    );
    assert_eq!(
        http_get(8080),
        "<h1>dfab example</h1>",
        "the web server's port is published on the host, as the README says"
    );
    docker(&[
        "exec",
        "example_map.app_server.instance1",
        "touch",
        "/var/lib/app/socket/app.sock",
    ]);
    assert_eq!(
        docker(&[
            "exec",
            "example_map.web_server",
            "ls",
            "/var/lib/app/socket"
        ]),
        "app.sock",
        "the web server uses the app servers' socket volume"
    );

    // The project task: content into the host directory the web server serves, the server already up.
    let site = tempfile::tempdir().expect("content directory");
    std::fs::write(site.path().join("index.html"), "<h1>example</h1>\n").expect("page");
    dfab()
        .args(&["--set", &set, &format!("publish:{}", site.path().display())])
        .stdout_has("docker: nothing to do in 0.0 s\n")
        .run();
    assert_eq!(
        docker(&[
            "exec",
            "example_map.web_server",
            "wget",
            "-qO-",
            "http://localhost/"
        ]),
        "<h1>example</h1>"
    );

    let host = format!("root@127.0.0.1:{}", t.port);
    let ssh = over_ssh(&t, &host, &set);
    let ssh: Vec<&str> = ssh.iter().map(String::as_str).collect();
    dfab()
        .args(&ssh)
        .args(&["actions.startup:example_map,web_server"])
        .stdout(&format!(
            "[{host}] Executing task 'actions.startup'\n[{host}] docker: nothing to do in 0.0 s\n\nDone.\nDisconnecting from {host}... done.\n"
        ))
        .run();
    // restart, stop, remove, create and start through sshd.
    let started = |name: &str| docker(&["inspect", "-f", "{{.State.StartedAt}}", name]);
    let before = started("example_map.app_server.instance1");
    dfab()
        .args(&ssh)
        .args(&["actions.restart:example_map,app_server,instances=instance1"])
        .stdout_has("docker: Stopping container 'example_map.app_server.instance1'.\n")
        .stdout_has("docker: Starting container 'example_map.app_server.instance1'.\n")
        .stdout_has("docker: 1 started, 1 stopped in ")
        .run();
    assert_ne!(before, started("example_map.app_server.instance1"));
    dfab()
        .args(&ssh)
        .args(&[
            "actions.stop:example_map,web_server",
            "actions.remove:example_map,web_server",
        ])
        .stdout_has("docker: Stopping container 'example_map.web_server'.\n")
        .stdout_has("docker: Removing container 'example_map.web_server'.\n")
        .run();
    dfab()
        .args(&ssh)
        .args(&["actions.create:example_map,web_server"])
        .stdout_has(
            "docker: Creating container 'example_map.web_server' from image 'busybox:latest'.\n",
        )
        .stdout_has("docker: 1 created in ")
        .run();
    let status = |name: &str| docker(&["inspect", "-f", "{{.State.Status}}", name]);
    assert_eq!(status("example_map.web_server"), "created");
    dfab()
        .args(&ssh)
        .args(&["actions.start:example_map,web_server"])
        .stdout_has("docker: Starting container 'example_map.web_server'.\n")
        .stdout_has("docker: 1 started in ")
        .run();
    assert_eq!(status("example_map.web_server"), "running");

    // The README's "and away again" leaves nothing behind.
    dfab()
        .args(&ssh)
        .args(&["actions.shutdown:example_map,__all__,remove_attached=true"])
        .stdout_has("docker: 3 stopped, 6 removed in ")
        .run();
    assert_eq!(docker(&["ps", "-aq", "--filter", "name=example_map."]), "");
    assert_eq!(
        docker(&["volume", "ls", "-q", "--filter", "name=example_map."]),
        ""
    );
    remove();
}

/// The body of `GET /` on a local port, read with a deadline.
fn http_get(port: u16) -> String {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let answer = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
            stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
            stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
            let mut text = String::new();
            stream.read_to_string(&mut text)?;
            Ok(text)
        });
        match answer {
            Ok(text) if text.contains("\r\n\r\n") => {
                return text
                    .split_once("\r\n\r\n")
                    .map(|(_, body)| body.trim().to_owned())
                    .unwrap_or_default()
            }
            _ if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(200))
            }
            other => panic!("no answer on port {port}: {other:?}"),
        }
    }
}

#[test]
fn selectors_and_maps_are_checked() {
    let Some(_t) = dfab_test_support::test_env() else {
        return;
    };
    let map = MapFile::new("m.yaml", "name: m\nweb: {image: /busybox:latest}\n");
    let maps = map.set.clone();
    dfab()
        .args(&["--set", &maps, "actions.startup:m,wbe"])
        .stderr(&abort(
            "map 'm' has no container or group 'wbe'; did you mean 'web'?",
        ))
        .status(1)
        .run();
    dfab()
        .args(&["--set", &maps, "actions.startup:other,web"])
        .stderr(&abort("no container map 'other' (loaded: m)"))
        .status(1)
        .run();
    dfab()
        .args(&["actions.startup:m,web"])
        .stderr(&abort("no container map 'm' (loaded: example_map)"))
        .status(1)
        .run();
    dfab()
        .args(&[
            "--set",
            &maps,
            "actions.perform:create,m,web,dry_run=true",
            "actions.pull_images:m.web,dry_run=true",
            "actions.startup:web,map_name=m,dry_run=true",
        ])
        .stdout_has("docker: (dry run on localhost /var/run/docker.sock) Creating container 'm.web' from image 'busybox:latest'.\n")
        .stdout_has("docker: (dry run on localhost /var/run/docker.sock) Starting container 'm.web'.\n")
        .stdout_has("docker: (dry run on localhost /var/run/docker.sock) Pulling image 'busybox:latest'.\n")
        .run();
    dfab()
        .args(&["--set", &maps, "actions.startup:m,web,map_name=m"])
        .stderr(&abort(
            "map_name=m names the map, so give only the configuration before it: actions.startup:web,map_name=m",
        ))
        .status(1)
        .run();
    dfab()
        .args(&["--set", &maps, "actions.perform:boot,m,web"])
        .stderr(&abort(
            "'boot' is not an action: expected one of create, start, restart, stop, remove, startup, shutdown, kill, update, pull_images",
        ))
        .status(1)
        .run();
    map.write("name: m\nweb: {links: db}\n");
    dfab()
        .args(&["--set", &maps, "actions.startup:m,web"])
        .stderr_has(&format!("{}:2:14: ", map.path.display()))
        .stderr_has("web.links: no container configuration 'db'")
        .status(1)
        .run();
}

/// What exists on one engine of the objects whose names start with `prefix`: containers, volumes and networks,
/// each sorted.
fn on_engine(engine: &str, prefix: &str) -> [Vec<String>; 3] {
    let names = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = docker(&[&["-H", engine][..], args].concat())
            .lines()
            .filter(|n| n.starts_with(prefix))
            .map(str::to_owned)
            .collect();
        all.sort();
        all
    };
    [
        names(&["ps", "-a", "--format", "{{.Names}}"]),
        names(&["volume", "ls", "--format", "{{.Name}}"]),
        names(&["network", "ls", "--format", "{{.Name}}"]),
    ]
}

fn list(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// Removes everything of map `multi` from the given engines.
fn clean_engines(engines: &[&str]) {
    for engine in engines {
        let [containers, volumes, networks] = on_engine(engine, "multi.");
        for container in containers {
            docker(&["-H", engine, "rm", "-f", "-v", &container]);
        }
        for volume in volumes {
            docker(&["-H", engine, "volume", "rm", &volume]);
        }
        for network in networks {
            docker(&["-H", engine, "network", "rm", &network]);
        }
    }
}

#[test]
fn configurations_run_only_on_their_own_clients_engines() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    // A 20.10 engine and Docker 28 with containerd's store: the routing holds across engine versions.
    let [e1, e2] = [t.engines[0].as_str(), t.matrix[2].url.as_str()];
    let local = "unix:///var/run/docker.sock";
    clean_engines(&[e1, e2, local]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let map = dir.path().join("multi.yaml");
    let clients = dir.path().join("clients.yaml");
    // Map-level clients for `shared`; alpha and beta each on their own client's engine.
    std::fs::write(
        &map,
        "name: multi\nclients: [c1, c2]\nnetworks: {net: {}}\nvolumes: {data: /data, logs: /logs}\n\
         shared: {image: /busybox:latest, stop_timeout: 1, shares: /scratch, create_options: {command: sleep 600}, \
         networks: [net]}\n\
         alpha: {image: /busybox:latest, clients: c1, attaches: data, links: shared, stop_timeout: 1, \
         create_options: {command: sleep 600, environment: {V: one}}, networks: [net]}\n\
         beta: {image: /busybox:latest, clients: [c2], attaches: logs, links: shared, stop_timeout: 1, \
         create_options: {command: sleep 600, environment: {V: one}}, networks: [net]}\n",
    )
    .expect("map");
    let write_clients = |second: &str| {
        std::fs::write(
            &clients,
            format!(
                "c1: {{fabric_host: \"root@127.0.0.1:{p}\", base_url: \"{e1}\"}}\n\
                 c2: {{fabric_host: \"root@localhost:{p}\", base_url: \"{second}\", version: auto, timeout: 30}}\n",
                p = t.port
            ),
        )
        .expect("clients");
    };
    write_clients(e2);
    let set = format!(
        "docker_maps={},docker_clients={}",
        map.display(),
        clients.display()
    );
    let login = [
        "-i",
        &t.root_key,
        "--system-known-hosts",
        &t.known_hosts,
        "--set",
        &set,
    ];
    let socket = |engine: &str| engine.trim_start_matches("unix://").to_owned();
    // The dry run names the client, its host and its engine on every step.
    dfab()
        .args(&login)
        .args(&["actions.startup:multi,alpha,dry_run=true"])
        .stdout_has(&format!(
            "[root@127.0.0.1:{p}] docker: (dry run on client c1, root@127.0.0.1:{p} {}) Creating container 'multi.alpha' from image 'busybox:latest'.\n",
            socket(e1),
            p = t.port
        ))
        .run();
    let after = |engine: &str| on_engine(engine, "multi.");
    let alpha_side = [
        list(&["multi.alpha", "multi.shared"]),
        list(&["multi.data"]),
        list(&["multi.net"]),
    ];
    let beta_side = [
        list(&["multi.beta", "multi.shared"]),
        list(&["multi.logs"]),
        list(&["multi.net"]),
    ];
    let nothing: [Vec<String>; 3] = Default::default();
    let shared_only = [list(&["multi.shared"]), Vec::new(), list(&["multi.net"])];
    // `__all__`: each configuration on its own client's engine only; nothing on the default engine.
    dfab()
        .args(&login)
        .args(&["actions.startup:multi,__all__"])
        .run();
    assert_eq!(after(e1), alpha_side, "engine 1 after startup of __all__");
    assert_eq!(after(e2), beta_side, "engine 2 after startup of __all__");
    assert_eq!(after(local), nothing, "the default engine is untouched");
    // `a;b`: shutdown removes each from its own engine and leaves what they link to.
    dfab()
        .args(&login)
        .args(&["actions.shutdown:multi,alpha;beta,remove_attached=true"])
        .run();
    assert_eq!(
        after(e1),
        shared_only,
        "engine 1 after shutdown of alpha;beta"
    );
    assert_eq!(
        after(e2),
        shared_only,
        "engine 2 after shutdown of alpha;beta"
    );
    // The same selection with the clients' hosts at once.
    dfab()
        .args(&login)
        .args(&["-P", "-z", "2", "actions.startup:multi,alpha;beta"])
        .run();
    assert_eq!(after(e1), alpha_side, "engine 1 after startup with -P");
    assert_eq!(after(e2), beta_side, "engine 2 after startup with -P");
    // update recreates beta on its engine only; alpha keeps its container.
    let id = |engine: &str, name: &str| docker(&["-H", engine, "inspect", "-f", "{{.Id}}", name]);
    let (alpha_id, beta_id) = (id(e1, "multi.alpha"), id(e2, "multi.beta"));
    std::fs::write(
        &map,
        std::fs::read_to_string(&map)
            .expect("map")
            .replace("clients: [c2], attaches: logs, links: shared, stop_timeout: 1, create_options: {command: sleep 600, environment: {V: one}}", "clients: [c2], attaches: logs, links: shared, stop_timeout: 1, create_options: {command: sleep 600, environment: {V: two}}"),
    )
    .expect("map");
    dfab()
        .args(&login)
        .args(&["actions.update:multi,__all__"])
        .stdout_has("docker: 'multi.beta' is out of date: environment V differs.")
        .run();
    assert_eq!(id(e1, "multi.alpha"), alpha_id, "alpha is untouched");
    assert_ne!(id(e2, "multi.beta"), beta_id, "beta is recreated");
    assert_eq!(after(e1), alpha_side, "engine 1 after update");
    assert_eq!(after(e2), beta_side, "engine 2 after update");
    // One client's engine down: an abort, or with --skip-bad-hosts a warning while the other goes on.
    write_clients("unix:///nonexistent/docker.sock");
    dfab()
        .args(&login)
        .args(&["actions.shutdown:multi,__all__"])
        .stderr_has("the Docker engine on root@localhost:")
        .status(1)
        .run();
    assert_eq!(
        after(e1),
        alpha_side,
        "an abort on c2 leaves engine 1 as it was"
    );
    for extra in [&["--skip-bad-hosts"][..], &["--skip-bad-hosts", "-P"][..]] {
        dfab()
            .args(&login)
            .args(extra)
            .args(&["actions.shutdown:multi,__all__,remove_attached=true"])
            .stderr_has("Warning: the Docker engine on root@localhost:")
            .run();
        assert_eq!(after(e1), nothing, "engine 1 after shutdown, engine 2 down");
        assert_eq!(after(e2), beta_side, "engine 2 was not reachable");
    }
    write_clients(e2);
    dfab()
        .args(&login)
        .args(&["actions.shutdown:multi,__all__,remove_attached=true"])
        .run();
    assert_eq!(after(e2), nothing, "engine 2 after shutdown");
    assert_eq!(after(local), nothing, "the default engine is untouched");
    for engine in [e1, e2] {
        assert_eq!(
            docker(&[
                "-H",
                engine,
                "volume",
                "ls",
                "-q",
                "--filter",
                "dangling=true"
            ]),
            "",
            "removing a container removes its anonymous volumes (shares) on {engine}"
        );
    }
    // A dependency on another client's configuration is refused before anything changes.
    std::fs::write(
        &map,
        "name: multi\nalpha: {image: /busybox:latest, clients: c1, links: beta}\nbeta: {image: /busybox:latest, clients: c2}\n",
    )
    .expect("map");
    dfab()
        .args(&login)
        .args(&["actions.startup:multi,alpha"])
        .stderr(&abort(
            "configuration 'alpha' (clients: c1) needs 'beta' (clients: c2), which is not assigned to client 'c1': give 'beta' that client too, or run it where 'alpha' runs",
        ))
        .status(1)
        .run();
    assert_eq!(after(e1), nothing, "nothing was created on engine 1");
    assert_eq!(after(e2), nothing, "nothing was created on engine 2");
    // Unknown clients are named with their position.
    std::fs::write(&clients, "c1: {fabric_host: \"root@127.0.0.1:1\"}\n").expect("clients");
    dfab()
        .args(&["--set", &set, "actions.startup:multi,alpha,dry_run=true"])
        .stderr_has(&format!(
            "{}:3:1: beta.clients: client 'c2' is not configured; did you mean 'c1'?",
            map.display()
        ))
        .status(1)
        .run();
}

#[test]
fn scripts_and_single_commands_run_in_fresh_containers() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let map = dir.path().join("jobs.yaml");
    std::fs::write(&map, "name: jobs\nbox: {image: /busybox:latest}\n").expect("map");
    let script = dir.path().join("run.sh");
    std::fs::write(&script, "echo \"hello from $(pwd)\"\nexit 3\n").expect("script");
    let results = dir.path().join("results");
    std::fs::create_dir(&results).expect("results directory");
    docker(&["rm", "-f", "jobs.box"]);
    let set = format!("docker_maps={},lcwd={}", map.display(), results.display());
    let host = format!("root@127.0.0.1:{}", t.port);
    let ssh = over_ssh(&t, &host, &set);
    let ssh: Vec<&str> = ssh.iter().map(String::as_str).collect();
    let script_arg = format!("actions.script:jobs.box,{}", script.display());
    dfab()
        .args(&ssh)
        .args(&[script_arg.as_str()])
        .stdout_has(&format!(
            "[{host}] Exit code: 3\nhello from /tmp/script_run\n"
        ))
        .run();
    dfab()
        .args(&["--set", &set, &format!("{script_arg},fail_nonzero=true")])
        .stdout_has("Exit code: 3\n")
        .stderr(&abort("the job in 'jobs.box' exited with 3"))
        .status(1)
        .run();
    dfab()
        .args(&ssh)
        .args(&["actions.single_cmd:jobs.box,echo result > out.txt,download_result=true"])
        .stdout_has(&format!("[{host}] Exit code: 0\n"))
        .run();
    assert_eq!(
        std::fs::read_to_string(results.join("out.txt")).expect("downloaded result"),
        "result\n"
    );
    // The map,config form every other action takes, and the original's positional flag.
    dfab()
        .args(&[
            "--set",
            &set,
            &format!("actions.script:jobs,box,{},true", script.display()),
        ])
        .stdout_has("Exit code: 3\n")
        .stderr(&abort("the job in 'jobs.box' exited with 3"))
        .status(1)
        .run();
    dfab()
        .args(&[
            "--set",
            &set,
            "actions.single_cmd:jobs,box,exit 0,fail_nonzero=true",
        ])
        .stdout_has("Exit code: 0\n")
        .run();
    dfab()
        .args(&["--set", &set, "actions.single_cmd:jobs.box,true,perhaps"])
        .stderr(&abort(
            "actions.single_cmd: fail_nonzero must be true or false, not 'perhaps'",
        ))
        .status(1)
        .run();
    assert_eq!(
        docker(&["ps", "-aq", "--filter", "name=jobs.box"]),
        "",
        "the job container is removed"
    );
}

#[test]
fn a_failing_step_stops_the_action_and_a_rerun_completes_it() {
    let Some(_t) = dfab_test_support::test_env() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let busy = std::net::TcpListener::bind("0.0.0.0:0").expect("a port to occupy");
    let port = busy.local_addr().expect("address").port();
    let map = dir.path().join("ports.yaml");
    std::fs::write(
        &map,
        format!(
            "name: ports\nfirst: {{image: /busybox:latest, create_options: {{command: \"/bin/sleep 600\"}}, stop_timeout: 1}}\n\
             second: {{image: /busybox:latest, links: first, exposes: [[80, {port}]], create_options: {{command: \"/bin/sleep 600\"}}, stop_timeout: 1}}\n"
        ),
    )
    .expect("map");
    docker(&["rm", "-f", "ports.first", "ports.second"]);
    let set = format!("docker_maps={}", map.display());
    let failed = dfab()
        .args(&["--set", &set, "actions.startup:ports,second"])
        .stdout_has("docker: Starting container 'ports.first'.\n")
        .stdout_has("docker: 2 created, 1 started in ")
        .stderr_has("Fatal error: Starting container 'ports.second' failed: ")
        .status(1)
        .run_stderr();
    assert!(
        failed.contains("address already in use") || failed.contains("port is already allocated"),
        "{failed}"
    );
    drop(busy);
    dfab()
        .args(&["--set", &set, "actions.startup:ports,second"])
        .stdout_has("docker: Starting container 'ports.second'.\ndocker: 1 started in ")
        .run();
    dfab()
        .args(&["--set", &set, "actions.shutdown:ports,first"])
        .stdout_has("docker: 2 stopped, 2 removed in ")
        .run();
    // The engine gone: one line that says so.
    dfab()
        .args(&[
            "--set",
            &format!("{set},docker_base_url=/run/dfab-none.sock"),
            "actions.startup:ports,second",
        ])
        .stderr(&abort(
            "the Docker engine on localhost is not running: nothing listens on /run/dfab-none.sock (start it: systemctl start docker)",
        ))
        .status(1)
        .run();
}

/// A container with the map's name that the map did not make is never stopped, removed or recreated; one that
/// docker-map made (same image, no label) is taken over.
#[test]
fn containers_the_map_does_not_own_are_left_alone() {
    let Some(_t) = dfab_test_support::test_env() else {
        return;
    };
    let map = MapFile::new(
        "own.yaml",
        "name: own\nweb: {image: /busybox:latest, create_options: {command: \"/bin/sleep 600\"}, stop_timeout: 1}\n",
    );
    let set = map.set.clone();
    let squat = |extra: &[&str], image: &str| {
        docker(&["rm", "-f", "own.web"]);
        let args = [
            &["run", "-d", "--name", "own.web"][..],
            extra,
            &[image, "/bin/sleep", "600"],
        ]
        .concat();
        assert!(!docker(&args).is_empty(), "docker run {args:?}");
    };
    docker(&["tag", "busybox:latest", "dfabtest-other:latest"]);
    for (extra, image, reason) in [
        (
            &[][..],
            "dfabtest-other:latest",
            "it was made from image 'dfabtest-other:latest', not 'busybox:latest', and has no dfab.map label",
        ),
        (
            &["--label", "dfab.map=elsewhere"][..],
            "busybox:latest",
            "it belongs to map 'elsewhere'",
        ),
        (
            &["--label", "com.docker.compose.project=shop"][..],
            "busybox:latest",
            "it belongs to the Compose project 'shop'",
        ),
    ] {
        squat(extra, image);
        for action in ["actions.update:own,web", "actions.shutdown:own,web"] {
            dfab()
                .args(&["--set", &set, action])
                .stderr(&abort(&format!(
                    "container 'own.web' is not map 'own''s: {reason}; remove or rename it first"
                )))
                .status(1)
                .run();
        }
        assert_eq!(
            docker(&["inspect", "-f", "{{.State.Running}}", "own.web"]),
            "true",
            "untouched"
        );
    }
    // Made by docker-map: the configured image and no label. It is the map's.
    squat(&[], "busybox:latest");
    dfab()
        .args(&["--set", &set, "actions.startup:own,web"])
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .run();
    dfab()
        .args(&["--set", &set, "actions.shutdown:own,web"])
        .stdout_has("docker: 1 stopped, 1 removed in ")
        .run();
    docker(&["rmi", "dfabtest-other:latest"]);
}

/// `update` changes in place what needs no new container: networks joined and left, limits and the restart
/// policy, exec commands that stopped; `force_update` recreates anyway.
#[test]
fn update_changes_networks_limits_and_exec_commands_in_place() {
    let Some(_t) = dfab_test_support::test_env() else {
        return;
    };
    let map = MapFile::new("inplace.yaml", "");
    let write = |networks: &str, host_config: &str| {
        map.write(&format!(
            "name: inplace\nnetworks: {{front: {{}}, back: {{}}}}\n\
                 web:\n  image: /busybox:latest\n  stop_timeout: 1\n  networks: [{networks}]\n\
                 \x20 exec_commands: [\"sleep 1001\"]\n  host_config: {{{host_config}}}\n\
                 \x20 create_options: {{command: \"/bin/sleep 600\"}}\n"
        ));
    };
    let clean = || {
        docker(&["rm", "-f", "inplace.web"]);
        docker(&["network", "rm", "inplace.front", "inplace.back"]);
    };
    clean();
    write("front", "mem_limit: 64m");
    let set = map.set.clone();
    let update = || dfab().args(&["--set", &set, "actions.update:inplace,web"]);
    dfab()
        .args(&["--set", &set, "actions.startup:inplace,web"])
        .stdout_has("docker: 2 created, 1 started, 1 exec'd in ")
        .run();
    let id = docker(&["inspect", "-f", "{{.Id}}", "inplace.web"]);

    write(
        "front, back",
        "mem_limit: 96m, restart_policy: {Name: always}",
    );
    update()
        .stdout_has("docker: Connecting container 'inplace.web' to network 'inplace.back'.\n")
        .stdout_has(
            "docker: Updating container 'inplace.web' in place (memory, memory swap, restart policy).\n",
        )
        .stdout_has("docker: 1 created, 1 connected, 1 updated in ")
        .run();
    assert_eq!(
        docker(&[
            "inspect",
            "-f",
            "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}",
            "inplace.web"
        ]),
        "100663296 always"
    );
    update()
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .run();

    write("front", "mem_limit: 96m, restart_policy: {Name: always}");
    update()
        .stdout_has("docker: Disconnecting container 'inplace.web' from network 'inplace.back'.\n")
        .stdout_has("docker: 1 disconnected in ")
        .run();

    // An exec command that ended runs again; the process list is compared by arguments (and numeric user).
    let top = docker(&["top", "inplace.web", "-eo", "pid,args"]);
    let pid = top
        .lines()
        .find(|l| l.ends_with("sleep 1001"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the exec command runs")
        .to_owned();
    assert!(Command::new("kill")
        .arg(&pid)
        .status()
        .expect("kill")
        .success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    update()
        .stdout_has("docker: Running 1 missing exec command(s) in container 'inplace.web'.\n")
        .run();
    update()
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .run();
    assert_eq!(
        docker(&["inspect", "-f", "{{.Id}}", "inplace.web"]),
        id,
        "the same container throughout"
    );

    dfab()
        .args(&[
            "--set",
            &set,
            "actions.update:inplace,web,force_update=web,check_exec_commands=partial",
        ])
        .stdout_has("docker: 'inplace.web' is out of date: forced by force_update.\n")
        .stdout_has("docker: 1 created, 1 started, 1 exec'd, 1 stopped, 1 removed in ")
        .run();
    clean();
}

/// An image the engine lacks and cannot pull stops the action at the pull, with the engine's reason, before
/// anything is created.
#[test]
fn a_missing_image_with_no_registry_stops_at_the_pull() {
    let Some(_t) = dfab_test_support::test_env() else {
        return;
    };
    let map = MapFile::new(
        "gone.yaml",
        "name: gone\nnetworks: {net: {}}\nweb: {image: /dfabtest-missing:1, networks: [net]}\n",
    );
    let set = map.set.clone();
    let stderr = dfab()
        .args(&["--set", &set, "actions.startup:gone,web"])
        .stdout_has("docker: Pulling image 'dfabtest-missing:1'.\n")
        .stderr_has("Fatal error: Pulling image 'dfabtest-missing:1' failed: ")
        .status(1)
        .run_stderr();
    assert_eq!(
        stderr.lines().filter(|l| !l.is_empty()).count(),
        2,
        "{stderr}"
    );
    assert_eq!(docker(&["ps", "-aq", "--filter", "name=gone.web"]), "");
    docker(&["network", "rm", "gone.net"]);
}

/// The originals' update-check bugs (31–33 and 35, docs/docker-map-semantics.md#bugs-dfab-does-not-repeat): none makes a container that did
/// not change look changed, and a stopped container is started, not recreated.
#[test]
fn update_checks_do_not_repeat_the_originals_bugs() {
    let Some(_t) = dfab_test_support::test_env() else {
        return;
    };
    let map = MapFile::new("bugs.yaml", "");
    let write = |web_networks: &str| {
        map.write(&format!(
                "name: bugs\nnetworks: {{front: {{}}, back: {{}}}}\n\
                 store: {{image: /busybox:latest, shares: [/data], stop_timeout: 1, create_options: {{command: \"/bin/sleep 600\"}}}}\n\
                 web:\n  image: /busybox:latest\n  uses: store\n  stop_timeout: 1\n  networks: [{web_networks}]\n\
                 \x20 exposes: [[8080, 18083]]\n\
                 \x20 create_options:\n    entrypoint: /bin/sh -c\n    command: \"exec /bin/sleep 600\"\n\
                 \x20   environment: {{PORT: 8080, DEBUG: false, RATIO: 1.5}}\n\
                 worker:\n  image: /busybox:latest\n  stop_timeout: 1\n\
                 \x20 create_options: {{command: \"/bin/sleep 600\", environment: [\"MODE=batch\", \"LEVEL=3\"]}}\n"
        ));
    };
    let clean = || {
        docker(&["rm", "-f", "bugs.web", "bugs.store", "bugs.worker"]);
        docker(&["network", "rm", "bugs.front", "bugs.back"]);
    };
    clean();
    write("front");
    let set = map.set.clone();
    dfab()
        .args(&["--set", &set, "actions.startup:bugs,web;worker"])
        .run();
    // 31: `uses` of a container with shares; 32: numbers and booleans in the environment, a list-form
    // environment, a multi-word entrypoint string; 33: a published port.
    dfab()
        .args(&["--set", &set, "actions.update:bugs,web;worker"])
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .run();
    // 33: a stopped container with published ports is started, not recreated; 35: a stopped container missing
    // a network is connected with its full name.
    docker(&["stop", "-t", "1", "bugs.web"]);
    write("front, back");
    let out = dfab()
        .args(&["--set", &set, "actions.update:bugs,web"])
        .stdout_has("docker: Connecting container 'bugs.web' to network 'bugs.back'.\n")
        .stdout_has("docker: Starting container 'bugs.web'.\n")
        .run();
    assert!(!out.contains("Removing container"), "{out}");
    dfab()
        .args(&["--set", &set, "actions.update:bugs,web;worker"])
        .stdout("docker: nothing to do in 0.0 s\n\nDone.\n")
        .run();
    clean();
}

/// `network_mode` naming another configuration: the map's computed host name is left out, as `docker run
/// --network container:x` does, so the engine accepts the request; what the map sets explicitly is refused at load.
#[test]
fn a_container_on_another_containers_network_starts() {
    let Some(_t) = dfab_test_support::test_env() else {
        return;
    };
    let names = ["netmode.web", "netmode.sidecar"];
    let remove = || docker(&[&["rm", "-f"][..], &names[..]].concat());
    remove();
    let map = MapFile::new(
        "netmode.yaml",
        "name: netmode\nweb: {image: /busybox:latest, stop_timeout: 1, create_options: {command: sleep 600}}\n\
         sidecar: {image: /busybox:latest, network_mode: web, stop_timeout: 1, create_options: {command: sleep 600}}\n",
    );
    dfab()
        .args(&["--set", &map.set, "actions.startup:netmode,sidecar"])
        .stdout_has("docker: 2 created, 2 started in ")
        .run();
    assert_eq!(
        docker(&[
            "inspect",
            "-f",
            "{{.HostConfig.NetworkMode}}",
            "netmode.sidecar"
        ]),
        format!(
            "container:{}",
            docker(&["inspect", "-f", "{{.Id}}", "netmode.web"])
        )
    );
    dfab()
        .args(&["--set", &map.set, "actions.shutdown:netmode,__all__"])
        .stdout_has("docker: 2 stopped, 2 removed in ")
        .run();
    map.write(
        "name: netmode\nweb: {image: /busybox:latest}\n\
         sidecar: {image: /busybox:latest, network_mode: web, exposes: {80: 8081}, host_config: {dns: [10.0.0.2]}}\n",
    );
    dfab()
        .args(&["--set", &map.set, "actions.startup:netmode,sidecar,dry_run=true"])
        .stderr_has(&format!(
            "{}:3:1: sidecar.exposes: cannot be used with network_mode 'web': the container shares that container's network",
            map.path.display()
        ))
        .stderr_has("sidecar.host_config.dns: cannot be used with network_mode 'web'")
        .status(1)
        .run();
    remove();
}

/// What `engine` (the default for `None`) has of map `converge`: its containers with their state, its volumes and networks, dfab's helper
/// containers, the prepared volume's owner and mode, and whether the exec command runs.
fn converge_state(engine: Option<&str>) -> Vec<String> {
    let docker = |args: &[&str]| dfab_test_support::docker(engine, args).1;
    let mut state: Vec<String> = docker(&[
        "ps",
        "-a",
        "--filter",
        "label=dfab.map=converge",
        "--format",
        "container {{.Names}} {{.State}} helper={{.Label \"dfab.helper\"}}",
    ])
    .lines()
    .map(str::to_owned)
    .collect();
    for kind in ["volume", "network"] {
        let names = docker(&[
            kind,
            "ls",
            "--filter",
            "name=converge.",
            "--format",
            "{{.Name}}",
        ]);
        state.extend(names.lines().map(|n| format!("{kind} {n}")));
    }
    if docker(&["volume", "ls", "-q", "--filter", "name=converge.data"]) == "converge.data" {
        state.push(format!(
            "converge.data root {}",
            docker(&[
                "run",
                "--rm",
                "-v",
                "converge.data:/v",
                "busybox:latest",
                "stat",
                "-c",
                "%u:%g %a",
                "/v"
            ])
        ));
    }
    let top = docker(&["top", "converge.app"]);
    state.push(format!("exec command runs: {}", top.contains("sleep 500")));
    state.sort();
    state
}

/// A run cut short at any step, followed by the same command, leaves exactly what an uninterrupted run leaves: the
/// volume prepared, the exec command running, no helper container behind.
#[test]
fn an_interrupted_startup_update_or_shutdown_converges_on_the_next_run() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    for engine in &t.matrix {
        converge_on(&t, engine);
    }
}

/// The cuts and reruns of [`an_interrupted_startup_update_or_shutdown_converges_on_the_next_run`] on `engine`.
fn converge_on(t: &TestEnv, engine: &Engine) {
    let on = |args: &[&str]| dfab_test_support::docker(engine.host(), args).1;
    let map = MapFile::new(
        "converge.yaml",
        "name: converge\nvolumes: {data: {default_path: /data, user: 1000, permissions: \"0750\"}}\n\
         networks: {net: {}}\n\
         app: {image: /busybox:latest, attaches: data, networks: [net], stop_timeout: 1, \
         create_options: {command: sleep 600}, exec_commands: [\"sleep 500\"]}\n\
         web: {image: /busybox:latest, links: app, uses: data, networks: [net], stop_timeout: 1, \
         create_options: {command: sleep 600}}\n",
    );
    let set = format!(
        "{},docker_parallel=1,docker_base_url={}",
        map.set, engine.url
    );
    let direct = format!("root@127.0.0.1:{}", t.port);
    let login = |host: &str| over_ssh(t, host, &set);
    let run = |host: &str, task: &str| {
        let args = login(host);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        dfab().args(&args).args(&[task])
    };
    let teardown = || {
        run(
            &direct,
            "actions.shutdown:converge,__all__,remove_attached=true",
        )
        .run();
        assert_eq!(
            converge_state(engine.host()),
            ["exec command runs: false"],
            "teardown leaves nothing"
        );
    };
    on(&[
        "rm",
        "-f",
        "converge.web",
        "converge.app",
        "converge.data.dfab-unprepared",
        "converge.data.dfab-prepare",
    ]);
    on(&["volume", "rm", "converge.data"]);
    on(&["network", "rm", "converge.net"]);
    run(&direct, "actions.startup:converge,web").run();
    let reference = converge_state(engine.host());
    assert!(
        reference.contains(&"converge.data root 1000:1000 750".to_owned()),
        "{reference:?}"
    );
    assert!(
        reference.contains(&"exec command runs: true".to_owned()),
        "{reference:?}"
    );
    teardown();

    // Each engine event at which the connection is cut: (event type, action prefix, the object's name).
    let cuts = [
        ("network", "create", "converge.net"),
        ("volume", "create", "converge.data"),
        ("container", "create", "converge.data.dfab-prepare"),
        ("container", "start", "converge.data.dfab-prepare"),
        ("container", "create", "converge.app"),
        ("container", "start", "converge.app"),
        ("container", "exec_create", "converge.app"),
        ("container", "create", "converge.web"),
    ];
    let startup = "actions.startup:converge,web";
    for event in cuts {
        let status = cut_at(t.port, engine.host(), event, Cut::ForGood, |through| {
            run(through, startup).run_any_status()
        });
        assert_ne!(status, 0, "the run cut at {event:?} fails");
        let rerun = run(&direct, startup).run();
        assert_eq!(
            converge_state(engine.host()),
            reference,
            "after a cut at {event:?} and a rerun:\n{rerun}"
        );
        if event.2.ends_with(".dfab-prepare") {
            assert!(
                rerun.contains(" repaired"),
                "the rerun says what it repaired:\n{rerun}"
            );
        }
        teardown();
    }
    // update and shutdown cut short: the rerun finishes what they began.
    run(&direct, startup).run();
    let original = std::fs::read_to_string(&map.path).expect("map");
    for (event, seconds) in [
        (("container", "destroy", "converge.app"), "601"),
        (("container", "create", "converge.app"), "602"),
    ] {
        // Each update has a changed command to apply.
        map.write(&original.replace("sleep 600}, exec", &format!("sleep {seconds}}}, exec")));
        let update = "actions.update:converge,web";
        let status = cut_at(t.port, engine.host(), event, Cut::ForGood, |through| {
            run(through, update).run_any_status()
        });
        assert_ne!(status, 0, "the update cut at {event:?} fails");
        run(&direct, update).run();
        assert_eq!(
            converge_state(engine.host()),
            reference,
            "after an update cut at {event:?} and a rerun"
        );
        assert!(on(&["inspect", "-f", "{{.Config.Cmd}}", "converge.app"]).contains(seconds));
    }
    for event in [
        ("container", "stop", "converge.web"),
        ("container", "destroy", "converge.app"),
    ] {
        let shutdown = "actions.shutdown:converge,__all__,remove_attached=true";
        let status = cut_at(t.port, engine.host(), event, Cut::ForGood, |through| {
            run(through, shutdown).run_any_status()
        });
        assert_ne!(status, 0, "the shutdown cut at {event:?} fails");
        teardown();
        run(&direct, startup).run();
    }
    teardown();
}

/// Every way a map can make a create request the engine cannot take is found when the map loads or, for what only
/// the run's env or client settles, before the first step (also by the dry run), each with its position; nothing
/// is created.
#[test]
fn every_rejection_of_a_create_request_is_found_before_anything_changes() {
    let Some(_t) = dfab_test_support::test_env() else {
        return;
    };
    let cases = [
        (
            "host: {data: {a: /srv/a}}\nvolumes: {data: /data}\napp: {image: /busybox:latest, instances: [a, b], binds: [data]}\n",
            ":4:",
            "app.binds: host volume 'data' has no path for instance 'b' (nor a default)",
        ),
        (
            "volumes: {logs: {}}\napp: {image: /busybox:latest, attaches: logs}\n",
            ":3:",
            "app.attaches: volume 'logs' has no path: give it a path in the volumes section",
        ),
        (
            "app: {image: !env_lazy missing_key}\n",
            ":2:1:",
            "app: 'rej.app' cannot be created: image: !env_lazy at 2:24: env key 'missing_key' is not set",
        ),
        (
            "app: {image: /busybox:latest, exposes: [[80, 8080, private]]}\n",
            ":2:1:",
            "app: 'rej.app' cannot be created: port 80 is published on interface 'private', which the client does not define",
        ),
        (
            "app: {image: /busybox:latest, shares: [!env_lazy nokey]}\n",
            ":2:1:",
            "app: 'rej.app' cannot be created: !env_lazy at 2:50: env key 'nokey' is not set",
        ),
        (
            "app: {image: /busybox:latest, host_config: {restart_policy: {Name: sometimes}}}\n",
            ":2:61:",
            "app.host_config.restart_policy: expected a restart policy",
        ),
    ];
    docker(&["rm", "-f", "rej.app", "rej.app.a", "rej.app.b"]);
    for (yaml, at, message) in cases {
        let map = MapFile::new("rej.yaml", &format!("name: rej\n{yaml}"));
        for dry_run in ["true", "false"] {
            dfab()
                .args(&[
                    "--set",
                    &map.set,
                    &format!("actions.startup:rej,app,dry_run={dry_run}"),
                ])
                .stderr_has(&format!("{}{at}", map.path.display()))
                .stderr_has(message)
                .status(1)
                .run();
        }
        assert_eq!(
            docker(&["ps", "-aq", "--filter", "label=dfab.map=rej"]),
            "",
            "nothing is created for {yaml}"
        );
    }
}
