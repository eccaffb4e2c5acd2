//! The `docker.*` tasks end to end: the local engine and a host's engine through the real sshd, over every tunnel
//! kind, with their output and their errors.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};

use dfab_test_support::{abort, cut_at, strs, Cut, TestEnv};

use crate::dfab;

/// The tests share one engine (and `reset_socat` kills dfab's socat processes), so they take turns.
fn engine() -> Option<(TestEnv, MutexGuard<'static, ()>)> {
    static ENGINE: Mutex<()> = Mutex::new(());
    let t = dfab_test_support::test_env()?;
    let guard = ENGINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Some((t, guard))
}

fn docker(args: &[&str]) -> String {
    dfab_test_support::docker(None, args).1
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Key login options for `user` on `port`.
fn login(t: &TestEnv, user: &str, key: &str, port: u16) -> Vec<String> {
    t.cli_login(user, key, port)
}

/// An engine TCP port on 127.0.0.1 (socat in front of the socket), for the `tcp` tunnel kind.
struct TcpEngine {
    port: u16,
    socat: Child,
}

impl TcpEngine {
    fn start() -> TcpEngine {
        let port = free_port();
        let socat = Command::new("socat")
            .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"))
            .arg("UNIX-CONNECT:/var/run/docker.sock")
            .stdout(Stdio::null())
            .spawn()
            .expect("socat");
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        TcpEngine { port, socat }
    }
}

impl Drop for TcpEngine {
    fn drop(&mut self) {
        let _ = self.socat.kill();
        let _ = self.socat.wait();
    }
}

/// Containers and a volume for the listings: one running with two published ports, one exited.
fn fixtures(t: &TestEnv) {
    docker(&["rm", "-f", "dfab-fixture-running", "dfab-fixture-exited"]);
    docker(&[
        "run",
        "-d",
        "--name",
        "dfab-fixture-running",
        "-p",
        "127.0.0.1:18080:80",
        "-p",
        "127.0.0.1:18443:443",
        &t.image,
        "sleep",
        "600",
    ]);
    docker(&["create", "--name", "dfab-fixture-exited", &t.image, "true"]);
    docker(&["start", "-a", "dfab-fixture-exited"]);
    docker(&["volume", "create", "dfab-fixture-volume"]);
}

/// Every route to the engine: local, then through sshd with each tunnel kind (the default `auto`, which takes a
/// direct channel here, and socat where the server refuses those).
fn routes(t: &TestEnv, tcp: &TcpEngine) -> Vec<(&'static str, Vec<String>)> {
    let mut socat = t.root_login();
    socat.extend(["--set".into(), "docker_tunnel=socat".into()]);
    let mut refused = login(t, "root", &t.root_key, t.nostream_port);
    refused.extend(["--set".into(), "docker_tunnel=auto".into()]);
    let mut streamlocal = t.root_login();
    streamlocal.extend(["--set".into(), "docker_tunnel=streamlocal".into()]);
    let mut over_tcp = t.root_login();
    over_tcp.extend([
        "--set".into(),
        format!(
            "docker_tunnel=tcp,docker_base_url=tcp://127.0.0.1:{}",
            tcp.port
        ),
    ]);
    vec![
        ("local", Vec::new()),
        ("auto", t.root_login()),
        ("auto, streamlocal refused", refused),
        ("socat", socat),
        ("streamlocal", streamlocal),
        ("tcp", over_tcp),
    ]
}

#[test]
fn version_and_listings_on_every_route() {
    let Some((t, _engine)) = engine() else { return };
    fixtures(&t);
    let tcp = TcpEngine::start();
    for (route, args) in routes(&t, &tcp) {
        let out = dfab()
            .args(&strs(&args))
            .args(&[
                "docker.version",
                "docker.list_images",
                "docker.list_containers",
                "docker.list_networks",
                "docker.list_volumes",
            ])
            .stdout_has("\nApiVersion:    1.")
            .stdout_has("\nMinAPIVersion: 1.")
            .stdout_has(&t.image)
            .stdout_has("dfab-fixture-running")
            .stdout_has("dfab-fixture-exited")
            .stdout_has("dfab-fixture-volume")
            .stdout_has("\nId  ")
            .run();
        let lines: Vec<&str> = out.lines().collect();
        let header = lines
            .iter()
            .find(|l| l.starts_with("Id") && l.contains("RepoTags"))
            .unwrap_or_else(|| panic!("{route}: no image table in {out}"));
        assert!(
            header.contains("ParentId") && header.contains("Created"),
            "{route}: {header}"
        );
        // Ports break into one line each.
        let first = lines
            .iter()
            .position(|l| l.contains("127.0.0.1:18080->80/tcp"));
        let second = lines
            .iter()
            .position(|l| l.contains("127.0.0.1:18443->443/tcp"));
        assert!(
            matches!((first, second), (Some(a), Some(b)) if a != b),
            "{route}: ports not on separate lines in {out}"
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with("Id") && l.contains("Name") && l.contains("Driver")),
            "{route}: no network table in {out}"
        );
        assert!(out.contains("bridge"), "{route}: {out}");
    }
}

#[test]
fn listings_as_json_and_filters() {
    let Some((t, _engine)) = engine() else { return };
    fixtures(&t);
    // With format=json stdout holds nothing but JSON: one line per host, `{"host": …, "containers": […]}`, the
    // runner's own lines on stderr; locally and with two hosts.
    let two_hosts = format!("root@127.0.0.1:{p},root@localhost:{p}", p = t.port);
    let mut remote = t.root_login();
    remote[1] = two_hosts;
    for (args, hosts) in [
        (Vec::new(), vec!["localhost".to_owned()]),
        (
            remote,
            vec![
                format!("root@127.0.0.1:{}", t.port),
                format!("root@localhost:{}", t.port),
            ],
        ),
    ] {
        let out = dfab()
            .args(&strs(&args))
            .args(&["docker.list_containers:format=json"])
            .run();
        let documents: Vec<serde_json::Value> = out
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
            .collect();
        let seen: Vec<&str> = documents
            .iter()
            .filter_map(|d| d["host"].as_str())
            .collect();
        assert_eq!(seen, hosts, "{out}");
        let names: Vec<String> = documents[0]["containers"]
            .as_array()
            .expect("an array")
            .iter()
            .flat_map(|c| c["Names"].as_array().cloned().unwrap_or_default())
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect();
        assert!(
            names.contains(&"/dfab-fixture-running".to_owned()),
            "{names:?}"
        );
    }
    // An empty first argument lists running containers only, as in docker-fabric.
    let running = dfab()
        .args(&["docker.list_containers:"])
        .stdout_has("dfab-fixture-running")
        .run();
    assert!(!running.contains("dfab-fixture-exited"), "{running}");
    let full = dfab()
        .args(&["docker.list_containers:full_ids=true,short_image=false"])
        .run();
    let id = docker(&["inspect", "-f", "{{.Id}}", "dfab-fixture-running"]);
    assert!(full.contains(&id), "{full}");
    dfab()
        .args(&["docker.list_images:format=yaml"])
        .stderr(&abort(
            "format 'yaml' is not a listing format: expected table or json",
        ))
        .status(1)
        .run();
}

#[test]
fn interface_addresses() {
    let Some((t, _engine)) = engine() else { return };
    let host = format!("root@127.0.0.1:{}", t.port);
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["docker.get_ip:lo"])
        .stdout_has(&format!("[{host}] 127.0.0.1\n"))
        .run();
    let docker0 = Command::new("ip")
        .args(["-o", "-4", "addr", "show", "dev", "docker0"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if let Some(address) = docker0
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next())
    {
        dfab()
            .args(&strs(&t.root_login()))
            .args(&["docker.get_ip"])
            .stdout_has(&format!("[{host}] {address}\n"))
            .run();
    }
    if t.ipv6 {
        dfab()
            .args(&strs(&t.root_login()))
            .args(&["docker.get_ipv6:lo", "docker.get_ipv6:lo,expand=true"])
            .stdout_has(&format!("[{host}] ::1\n"))
            .stdout_has(&format!(
                "[{host}] 0000:0000:0000:0000:0000:0000:0000:0001\n"
            ))
            .run();
    }
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["docker.get_ip:nope0"])
        .stderr_has(&abort(&format!(
            "interface 'nope0' does not exist on {host}"
        )))
        .status(1)
        .run();
    // docker-fabric's guide writes `get_ipv6:eth0:True`: read as the comma form when unambiguous, with a note;
    // otherwise an error that shows the comma form. Never a value dropped silently.
    if t.ipv6 {
        dfab()
            .args(&["docker.get_ipv6:lo:True"])
            .stdout("0000:0000:0000:0000:0000:0000:0000:0001\n\nDone.\n")
            .stderr(
                "\nWarning: read docker.get_ipv6:lo:True as docker.get_ipv6:lo,true: arguments are separated \
                 by commas\n\n",
            )
            .run();
    }
    dfab()
        .args(&["docker.get_ipv6:lo:maybe"])
        .stderr(&abort(
            "interface 'lo:maybe' does not exist on localhost; arguments are separated by commas: \
             docker.get_ipv6:lo,maybe",
        ))
        .status(1)
        .run();
    // Without a host, the local machine's interfaces, as the other docker tasks use the local engine.
    dfab()
        .args(&["docker.get_ip:lo"])
        .stdout("127.0.0.1\n\nDone.\n")
        .run();
    dfab()
        .args(&["docker.get_ip:nope0"])
        .stderr_has(&abort("interface 'nope0' does not exist on localhost"))
        .status(1)
        .run();
}

#[test]
fn reset_socat_kills_only_dfabs_socat() {
    let Some((t, _engine)) = engine() else { return };
    let spawn = |marked: bool| {
        let mut command = Command::new("socat");
        if marked {
            command.args(["-lp", "dfab-tunnel"]);
        }
        command
            .arg(format!("TCP-LISTEN:{},bind=127.0.0.1", free_port()))
            .arg("/dev/null")
            .spawn()
            .expect("socat")
    };
    let mut ours = spawn(true);
    let mut unrelated = spawn(false);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = dfab()
        .args(&strs(&t.root_login()))
        .args(&["docker.reset_socat"])
        .stdout_has("Removing process(es) with id(s) ")
        .run();
    let removed = out
        .lines()
        .find(|l| l.contains("Removing process(es)"))
        .unwrap_or_default()
        .to_owned();
    assert!(removed.contains(&ours.id().to_string()), "{out}");
    assert!(!removed.contains(&unrelated.id().to_string()), "{out}");
    let status = ours.wait().expect("socat ends");
    assert!(!status.success(), "dfab's socat was killed: {status:?}");
    assert!(
        unrelated.try_wait().expect("socat").is_none(),
        "another tool's socat survives"
    );
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["docker.reset_socat:use_sudo=true"])
        .stdout_has("No socat processes of dfab found.\n")
        .run();
    let _ = unrelated.kill();
    let _ = unrelated.wait();
}

#[test]
fn maintenance_tasks() {
    let Some((t, _engine)) = engine() else { return };
    // The listing must show exactly this test's untagged image: untagged images other suites left behind go first,
    // on an engine the test environment started (never on a developer's).
    if t.owns_engine() {
        docker(&["image", "prune", "-f"]);
    }
    fixtures(&t);
    let untagged = {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("marker"), "untagged").expect("marker file");
        let tar = dir.path().join("layer.tar");
        Command::new("tar")
            .arg("-cf")
            .arg(&tar)
            .arg("-C")
            .arg(dir.path())
            .arg("marker")
            .status()
            .expect("tar");
        docker(&["import", &tar.display().to_string()])
    };
    let listed = dfab()
        .args(&strs(&t.root_login()))
        .args(&[
            "docker.cleanup_containers:list_only=true",
            "docker.cleanup_images:list_only=true",
            "docker.remove_all_containers:list_only=true",
        ])
        .stdout_has("Existing containers:\n")
        .stdout_has("  dfab-fixture-exited\n")
        .stdout_has(&format!("Unused images:\n{untagged}\n"))
        .stdout_has("Running containers:\n")
        .run();
    assert!(!listed.contains("  dfab-fixture-running\n"), "{listed}");
    let excluded = dfab()
        .args(&["docker.cleanup_containers:exclude=dfab-fixture-exited;other,list_only=true"])
        .run();
    assert!(!excluded.contains("dfab-fixture-exited"), "{excluded}");
    if !t.owns_engine() {
        eprintln!("skipping the removals: the engine was not started by scripts/test-env");
        return;
    }
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["docker.cleanup_containers", "docker.cleanup_images"])
        .stdout_has("Removed containers:\ndfab-fixture-exited\n")
        .stdout_has(&format!("Removed images:\n{untagged}\n"))
        .stdout_has("docker: remove_container dfab-fixture-exited\n")
        .run();
    assert_eq!(
        docker(&["ps", "-aq", "--filter", "name=dfab-fixture-exited"]),
        ""
    );
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["docker.remove_all_containers:stop_timeout=1"])
        .stdout_has("Stopped containers:\n")
        .stdout_has("Removed containers:\n")
        .run();
    assert_eq!(docker(&["ps", "-aq"]), "");
}

#[test]
fn images_are_saved_and_loaded() {
    let Some((t, _engine)) = engine() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("image.tar.gz");
    let file = file.display().to_string();
    let host = format!("root@127.0.0.1:{}", t.port);
    dfab()
        .args(&strs(&t.root_login()))
        .args(&[&format!("docker.save_image:{},{file}", t.image)])
        .stdout_has(&format!("[{host}] Saved {} to {file}.\n", t.image))
        .run();
    let bytes = std::fs::read(&file).expect("the saved image");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip");
    for (route, args) in [("socat", t.root_login()), ("local", Vec::new())] {
        dfab()
            .args(&strs(&args))
            .args(&[&format!("docker.load_image:{file}")])
            .stdout_has(&format!("Loaded image: {}", t.image))
            .run();
        eprintln!("{route}: loaded");
    }
    // docker-fabric's guide writes `load_image:new_image.tar.gz:600`: the comma form, with a note.
    dfab()
        .args(&[&format!("docker.load_image:{file}:600")])
        .stdout_has(&format!("Loaded image: {}", t.image))
        .stderr_has(&format!(
            "Warning: read docker.load_image:{file}:600 as docker.load_image:{file},600: arguments are \
             separated by commas\n"
        ))
        .run();
    dfab()
        .args(&[&format!("docker.load_image:{file}:600,timeout=5")])
        .stderr_has(&abort(&format!(
            "cannot read '{file}:600', and a timeout is given twice: write docker.load_image:{file},600"
        )))
        .status(1)
        .run();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not an image").expect("a text file");
    dfab()
        .args(&strs(&t.root_login()))
        .args(&[&format!("docker.load_image:{}", text.display())])
        .stderr_has(&abort(&format!(
            "'{}' is not an image tarball: expected a tar archive, plain or gzip-compressed",
            text.display()
        )))
        .status(1)
        .run();
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["docker.load_image:/nonexistent/image.tar"])
        .stderr_has("Fatal error: cannot read '/nonexistent/image.tar': No such file or directory")
        .status(1)
        .run();
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["docker.save_image:dfab-missing:1"])
        .stderr_has(&abort(&format!(
            "image 'dfab-missing:1' does not exist on {host}"
        )))
        .status(1)
        .run();
    let leftovers = Command::new("sh")
        .args(["-c", "ls /tmp | grep dfab-save || true"])
        .output()
        .expect("ls");
    assert!(
        leftovers.stdout.is_empty(),
        "the remote temporary file is removed"
    );
}

#[test]
fn tunnel_errors_say_what_to_do() {
    let Some((t, _engine)) = engine() else { return };
    let nosocat = login(&t, "root", &t.root_key, t.nosocat_port);
    dfab()
        .args(&strs(&nosocat))
        .args(&["--set", "docker_tunnel=socat", "docker.version"])
        .stderr_has(&abort(&format!(
            "socat is not installed on root@127.0.0.1:{}: install it there, or set docker_tunnel=streamlocal to reach the socket without it",
            t.nosocat_port
        )))
        .status(1)
        .run();
    for tunnel in ["streamlocal", "auto"] {
        dfab()
            .args(&strs(&nosocat))
            .args(&[
                "--set",
                &format!("docker_tunnel={tunnel}"),
                "docker.list_images",
            ])
            .stdout_has(&t.image)
            .run();
    }
    for tunnel in ["socat", "streamlocal"] {
        dfab()
            .args(&strs(&login(&t, &t.plain_user, &t.user_key, t.port)))
            .args(&["--set", &format!("docker_tunnel={tunnel}"), "docker.version"])
            .stderr_has(&abort(&format!(
                "permission denied on /var/run/docker.sock on {u}@127.0.0.1:{p}: add {u} to the docker group (or connect as a user in it)",
                u = t.plain_user,
                p = t.port
            )))
            .status(1)
            .run();
    }
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["--set", "docker_base_url=/run/dfab-no-engine.sock", "docker.version"])
        .stderr_has(&abort(&format!(
            "the Docker engine on root@127.0.0.1:{} is not running: nothing listens on /run/dfab-no-engine.sock (start it: systemctl start docker)",
            t.port
        )))
        .status(1)
        .run();
    dfab()
        .args(&["--set", "docker_base_url=/run/dfab-no-engine.sock", "docker.version"])
        .stderr(&abort(
            "the Docker engine on localhost is not running: nothing listens on /run/dfab-no-engine.sock (start it: systemctl start docker)",
        ))
        .status(1)
        .run();
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["--set", "docker_tunnel=ftp", "docker.version"])
        .stderr_has(&abort(
            "docker_tunnel 'ftp' is not a tunnel kind: expected auto, socat, streamlocal or tcp",
        ))
        .status(1)
        .run();
    dfab()
        .args(&["--set", "docker_api_version=latest", "docker.version"])
        .stderr(&abort(
            "docker_api_version 'latest' is not an API version such as 1.41",
        ))
        .status(1)
        .run();
    dfab()
        .args(&["--set", "docker_api_version=1.19", "docker.version"])
        .stderr(&abort(
            "docker_api_version 1.19 is older than API 1.24, the oldest dfab speaks",
        ))
        .status(1)
        .run();
}

/// Through socat on the host, with the version pinned: the command line is shown, and every request that reaches
/// the engine (through a recording proxy in front of its socket) carries the pinned version.
#[test]
fn socat_command_lines_and_a_pinned_api_version() {
    let Some((t, _engine)) = engine() else { return };
    let host = format!("root@127.0.0.1:{}", t.port);
    let proxy = dfab_test_support::RecordingProxy::start(&t.matrix[0].url);
    let socket = proxy.url().trim_start_matches("unix://").to_owned();
    dfab()
        .args(&strs(&t.root_login()))
        .args(&[
            "--set",
            &format!(
                "docker_tunnel=socat,socat_quiet=false,docker_api_version=1.30,docker_base_url={}",
                proxy.url()
            ),
            "docker.version",
        ])
        .stdout_has(&format!(
            "[{host}] socat: socat -lp dfab-tunnel -b 262144 STDIO UNIX-CONNECT:{socket}\n"
        ))
        .stdout_has("\nApiVersion:")
        .run();
    let requests = proxy.requests();
    assert!(requests.len() >= 2, "{requests:?}");
    for request in &requests {
        assert!(
            request.starts_with("GET /v1.30/"),
            "{request} without /v1.30/ among {requests:?}"
        );
    }
}

/// `auto` asks for a direct channel; a server that forbids them (`AllowStreamLocalForwarding no`) gets socat, with
/// one debug line for the run, and the task works the same. A server that allows them never runs socat.
#[test]
fn auto_falls_back_to_socat_where_direct_channels_are_refused() {
    let Some((t, _engine)) = engine() else { return };
    let refused = format!("root@127.0.0.1:{}", t.nostream_port);
    let stdout = dfab()
        .args(&strs(&login(&t, "root", &t.root_key, t.nostream_port)))
        .args(&[
            "--set",
            "socat_quiet=false",
            "--show",
            "debug",
            "docker.version",
            "docker.list_images",
        ])
        .stdout_has("\nApiVersion:")
        .stdout_has(&t.image)
        .run();
    let fallbacks = stdout
        .matches(&format!(
            "[{refused}] the server refused a direct channel to the engine"
        ))
        .count();
    assert_eq!(fallbacks, 1, "one debug line per run:\n{stdout}");
    assert!(
        stdout.contains(&format!("[{refused}] socat: socat -lp dfab-tunnel")),
        "{stdout}"
    );
    let direct = dfab()
        .args(&strs(&t.root_login()))
        .args(&["--set", "socat_quiet=false", "docker.version"])
        .stdout_has("\nApiVersion:")
        .run();
    assert!(!direct.contains("socat:"), "{direct}");
}

#[test]
fn a_local_tunnel_serves_the_docker_command_line() {
    let Some((t, _engine)) = engine() else { return };
    let port = free_port();
    dfab()
        .args(&strs(&t.root_login()))
        .args(&[
            "--set",
            &format!("docker_tunnel_local_port={port}"),
            "docker_cli:images",
            "count_containers",
        ])
        .stdout_has(&format!("local: docker -H tcp://127.0.0.1:{port} images\n"))
        .stdout_has("REPOSITORY")
        .stdout_has("running container(s)\n")
        .run();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the endpoint closes with the task"
    );
}

/// A connection lost after the engine loaded (some of) a tarball's images: dfab reconnects and says which images
/// the engine has, instead of an error that reads as if nothing happened.
#[test]
fn a_load_cut_short_says_what_the_engine_has() {
    let Some((t, _turn)) = engine() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("two.tar");
    let file = file.display().to_string();
    // A small image first, then one with a 60 MB layer, which takes the engine a while to register.
    docker(&["rm", "-f", "dfabtest-big-maker"]);
    docker(&[
        "run",
        "--name",
        "dfabtest-big-maker",
        &t.image,
        "sh",
        "-c",
        "head -c 62914560 /dev/urandom > /big",
    ]);
    let big = docker(&["commit", "dfabtest-big-maker", "dfabtest-big:latest"]);
    docker(&["rm", "dfabtest-big-maker"]);
    docker(&["tag", &t.image, "dfabtest-small:latest"]);
    docker(&[
        "save",
        "-o",
        &file,
        "dfabtest-small:latest",
        "dfabtest-big:latest",
    ]);
    let small = docker(&["image", "inspect", "-f", "{{.Id}}", &t.image]);
    let partial = "; on reconnecting, the engine has dfabtest-small:latest but lacks dfabtest-big:latest: run load_image again";
    let whole = format!("; on reconnecting, the engine has loaded every image of {file}: dfabtest-big:latest, dfabtest-small:latest");
    // The engine may or may not have registered the big image when the connection drops, and the reply may even
    // beat the cut; each drop must say what the engine has, and succeed only when it has everything.
    let mut dropped = false;
    for _ in 0..3 {
        docker(&["rmi", "dfabtest-small:latest", "dfabtest-big:latest"]);
        let mut stderr = String::new();
        let status = cut_at(t.port, None, ("image", "load", &small), Cut::Once, |host| {
            let (_, err, status) = dfab()
                .args(&[
                    "-H",
                    host,
                    "-i",
                    &t.root_key,
                    "-k",
                    "-a",
                    "--system-known-hosts",
                    &t.known_hosts,
                    "--abort-on-prompts",
                    &format!("docker.load_image:{file}"),
                ])
                .run_any();
            stderr = err;
            status
        });
        if !stderr.contains("dropped during loading") {
            assert_eq!(status, 0, "{stderr}");
            continue;
        }
        dropped = true;
        match status {
            1 => assert!(stderr.contains(partial), "{stderr}"),
            0 => assert!(stderr.contains(&whole), "{stderr}"),
            other => panic!("status {other}: {stderr}"),
        }
        break;
    }
    assert!(dropped, "the cut never landed before the engine's reply");
    // By its ID: a load cut short may have left the image without its tag, which other tests would count.
    docker(&["rmi", "dfabtest-small:latest"]);
    docker(&["rmi", "-f", &big]);
}

/// The `docker.*` tasks through sshd on every kind of engine (Docker 20.10, and 28 with the classic store and with
/// containerd's), each named with `docker_base_url`: the version, listings and their JSON (an untagged image has no
/// tags on every engine), the maintenance tasks, a save and a load, and a build, each on that engine alone.
#[test]
fn docker_tasks_work_alike_on_every_engine() {
    let Some((t, _engine)) = engine() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let context = dir.path().join("context");
    std::fs::create_dir(&context).expect("build context");
    std::fs::write(
        context.join("Dockerfile"),
        format!("FROM {}\nRUN echo built > /built\n", t.image),
    )
    .expect("Dockerfile");
    const BUILT: &str = "dfab-matrix-built:1";
    for engine in &t.matrix {
        let label = engine.label;
        let on = |args: &[&str]| dfab_test_support::docker(Some(&engine.url), args).1;
        let mut opts = t.root_login();
        opts.extend(["--set".into(), format!("docker_base_url={}", engine.url)]);
        let opts = strs(&opts);
        on(&["rm", "-f", "dfab-matrix-exited"]);
        on(&["rmi", "-f", BUILT]);
        on(&["create", "--name", "dfab-matrix-exited", &t.image, "true"]);
        on(&["start", "-a", "dfab-matrix-exited"]);
        // An untagged image: `<none>:<none>` before API 1.43, no tags after; dfab's JSON gives none on every engine.
        let marker = dir.path().join("marker.tar");
        if !marker.exists() {
            let status = Command::new("tar")
                .arg("-cf")
                .arg(&marker)
                .arg("-C")
                .arg(&context)
                .arg("Dockerfile")
                .status()
                .expect("tar");
            assert!(status.success());
        }
        let untagged = on(&["import", &marker.display().to_string()]);
        let api = if label == "20.10" { "1.41" } else { "1.51" };
        dfab()
            .args(&opts)
            .args(&["docker.version"])
            .stdout_has(&format!("ApiVersion:    {api}\n"))
            .run();
        let containers = dfab()
            .args(&opts)
            .args(&["docker.list_containers:format=json"])
            .run();
        assert!(
            containers.contains("\"/dfab-matrix-exited\""),
            "{label}: {containers}"
        );
        let images = dfab()
            .args(&opts)
            .args(&["docker.list_images:list_all=true,format=json"])
            .run();
        let images: serde_json::Value = serde_json::from_str(images.trim()).expect("JSON");
        let images = images["images"].as_array().expect("a list");
        assert!(
            images.iter().any(|i| i["RepoTags"]
                .as_array()
                .is_some_and(|tags| tags.contains(&serde_json::json!(t.image)))),
            "{label}: {images:?}"
        );
        let listed = images
            .iter()
            .find(|i| i["Id"] == serde_json::json!(untagged))
            .unwrap_or_else(|| panic!("{label}: the untagged image {untagged} in {images:?}"));
        assert_eq!(
            listed["RepoTags"],
            serde_json::json!([]),
            "{label}: {listed}"
        );
        on(&["rmi", &untagged]);
        dfab()
            .args(&opts)
            .args(&["docker.cleanup_containers:list_only=true"])
            .stdout_has("  dfab-matrix-exited\n")
            .run();
        dfab()
            .args(&opts)
            .args(&["docker.cleanup_containers:exclude=other"])
            .stdout_has("Removed containers:\ndfab-matrix-exited\n")
            .run();
        assert_eq!(
            on(&["ps", "-aq", "--filter", "name=dfab-matrix-exited"]),
            "",
            "{label}"
        );
        let built = dfab()
            .args(&opts)
            .args(&[&format!(
                "docker.build_image:{},tag={BUILT}",
                context.display()
            )])
            .run();
        assert!(built.contains("out: "), "{label}: {built}");
        for other in t.matrix.iter().filter(|o| o.label != label) {
            assert_eq!(
                dfab_test_support::image_content(Some(&other.url), BUILT),
                None,
                "{label}: built on {} too",
                other.label
            );
        }
        // The built image, on that engine alone: saved from it (not from the host's default engine), removed, and
        // loaded back into it.
        let file = dir
            .path()
            .join(format!("{}.tar.gz", label.replace(' ', "-")));
        let file = file.display().to_string();
        dfab()
            .args(&opts)
            .args(&[&format!("docker.save_image:{BUILT},{file}")])
            .stdout_has(&format!("Saved {BUILT} to {file}.\n"))
            .run();
        on(&["rmi", "-f", BUILT]);
        dfab()
            .args(&opts)
            .args(&[&format!("docker.load_image:{file}")])
            .stdout_has(&format!("Loaded image: {BUILT}"))
            .run();
        assert_eq!(
            on(&["run", "--rm", BUILT, "cat", "/built"]),
            "built",
            "{label}"
        );
        on(&["rmi", "-f", BUILT]);
    }
}
