//! A broken or hostile engine can neither hang dfab nor make it hold much: stand-in engines that answer without end,
//! drip, fall silent, never end their head, stop mid-answer or answer garbage, on a list, an inspection, a load and a build,
//! locally and through sshd; and a parallel run where one client's engine is such a one and the other's is real.

use std::process::Command;
use std::time::Duration;

use dfab_test_support::{run_measured, Measured, Misbehaviour, StandInEngine};

/// The deadlines the runs here are given, in seconds.
const TIMEOUT: u64 = 3;

/// The bound on one answer, in bytes.
const MAX: u64 = 1024 * 1024;

/// How long any run here may take before the test calls it a hang: the deadline and time to say so.
const HANG: Duration = Duration::from_secs(TIMEOUT + 20);

/// The most memory any run here may hold, in MiB.
const MEMORY_MIB: u64 = 200;

fn run(args: &[String]) -> Measured {
    run_measured(
        Command::new(env!("CARGO_BIN_EXE_dfab-example")).args(args),
        HANG,
    )
}

/// What the one-line error says for each misbehaviour, on a request that expects one answer or a stream: any of
/// these.
fn expected(how: Misbehaviour, stream: bool) -> &'static [&'static str] {
    match (how, stream) {
        (Misbehaviour::EndlessBody, _) => {
            &["larger than 1048576 bytes (docker_max_response raises the limit)"]
        }
        (Misbehaviour::Drip | Misbehaviour::Silent, false) => &["was not whole after 3 s"],
        // A stream that moves is not stalled: the task's own deadline ends it.
        (Misbehaviour::Drip, true) => &["timed out after 3 s"],
        // The task's deadline and the stream's idle one are the same here (a load or build given 3 s waits as long
        // for a byte): whichever says so first.
        (Misbehaviour::Silent, true) => &["no byte came or went for 3 s", "timed out after 3 s"],
        (Misbehaviour::EndlessHead, _) => &["is not HTTP: its head is longer than 64 KiB"],
        (Misbehaviour::CutMidJson, _) => &["dropped during"],
        (Misbehaviour::Garbage, _) => &["the engine's answer is not what the API describes"],
    }
}

#[test]
fn hostile_engines_end_in_one_line_within_the_deadline_and_a_memory_bound() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let tarball = dir.path().join("image.tar");
    let (saved, _) =
        dfab_test_support::docker(None, &["save", "-o", &tarball.to_string_lossy(), &t.image]);
    assert!(saved, "docker save");
    let context = dir.path().join("context");
    std::fs::create_dir(&context).expect("build context");
    std::fs::write(context.join("Dockerfile"), "FROM busybox:latest\n").expect("Dockerfile");
    // (what, the path the stand-in misbehaves on, the task, whether the answer is a stream)
    let requests = [
        (
            "a list",
            "/containers/json",
            "docker.list_containers".to_owned(),
            false,
        ),
        (
            "an inspection",
            "/images/busybox",
            format!(
                "docker.save_image:busybox:latest,{}/saved.tar.gz",
                dir.path().display()
            ),
            false,
        ),
        (
            "a load",
            "/images/load",
            format!("docker.load_image:{},{TIMEOUT}", tarball.display()),
            true,
        ),
        (
            "a build",
            "/build",
            format!("docker.build_image:{},timeout={TIMEOUT}", context.display()),
            true,
        ),
    ];
    for how in [
        Misbehaviour::EndlessBody,
        Misbehaviour::Drip,
        Misbehaviour::Silent,
        Misbehaviour::EndlessHead,
        Misbehaviour::CutMidJson,
        Misbehaviour::Garbage,
    ] {
        for (what, path, task, stream) in &requests {
            let engine = StandInEngine::start(path, how);
            for route in ["local", "sshd"] {
                let mut args = vec![
                    "--set".to_owned(),
                    format!(
                        "docker_base_url={},docker_timeout={TIMEOUT},docker_max_response={MAX}",
                        engine.url()
                    ),
                ];
                if route == "sshd" {
                    args.extend(t.cli_login("root", &t.root_key, t.port));
                }
                args.push(task.clone());
                let run = run(&args);
                let case = format!(
                    "{how:?} on {what} ({route}): {:.1} s, {} MiB\n{}",
                    run.seconds, run.peak_mib, run.stderr
                );
                assert_eq!(run.status, 1, "{case}");
                let fatal: Vec<&str> = run
                    .stderr
                    .lines()
                    .filter(|l| l.starts_with("Fatal error: "))
                    .collect();
                assert_eq!(fatal.len(), 1, "{case}");
                assert!(
                    expected(how, *stream).iter().any(|e| fatal[0].contains(e)),
                    "{case}"
                );
                assert!(run.seconds < (TIMEOUT + 10) as f64, "{case}");
                assert!(run.peak_mib < MEMORY_MIB, "{case}");
            }
        }
    }
}

/// One client's engine answers its container list without end, the other's is real: in a parallel run the real one's
/// containers are made, the endless one fails as an unreachable host does (named, exit 1; with --skip-bad-hosts a
/// warning and exit 0), and dfab holds little.
#[test]
fn an_endless_engine_in_a_fleet_fails_alone() {
    let Some(t) = dfab_test_support::test_env() else {
        return;
    };
    let engine = StandInEngine::start("/containers/json", Misbehaviour::EndlessBody);
    let real = &t.engines[0];
    let on_real = |args: &[&str]| dfab_test_support::docker(Some(real), args).1;
    on_real(&["rm", "-f", "fleet.box"]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let map = dir.path().join("fleet.yaml");
    let clients = dir.path().join("clients.yaml");
    std::fs::write(
        &map,
        "name: fleet\nclients: [bad, good]\nbox: {image: busybox:latest, stop_timeout: 1, create_options: {command: sleep 600}}\n",
    )
    .expect("map");
    std::fs::write(
        &clients,
        format!(
            "bad: {{fabric_host: \"root@localhost:{p}\", base_url: \"{}\"}}\n\
             good: {{fabric_host: \"root@127.0.0.1:{p}\", base_url: \"{real}\"}}\n",
            engine.url(),
            p = t.port
        ),
    )
    .expect("clients");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut args = t.cli_login("root", &t.root_key, t.port);
        // The clients name their hosts.
        args.drain(0..2);
        args.extend([
            "--set".to_owned(),
            format!(
                "docker_maps={},docker_clients={},docker_timeout={TIMEOUT},docker_max_response={MAX}",
                map.display(),
                clients.display()
            ),
            "-P".to_owned(),
        ]);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let failed = run(&base(&["actions.startup:fleet,box"]));
    let case = format!(
        "{:.1} s, {} MiB\n{}{}",
        failed.seconds, failed.peak_mib, failed.stdout, failed.stderr
    );
    assert_eq!(failed.status, 1, "{case}");
    assert!(
        failed
            .stderr
            .contains(&format!("root@localhost:{}", t.port)),
        "{case}"
    );
    assert!(
        failed.stderr.contains("larger than 1048576 bytes"),
        "{case}"
    );
    assert!(failed.peak_mib < MEMORY_MIB, "{case}");
    assert_eq!(
        on_real(&["inspect", "-f", "{{.State.Running}}", "fleet.box"]),
        "true",
        "{case}"
    );
    on_real(&["rm", "-f", "fleet.box"]);
    let skipped = run(&base(&["--skip-bad-hosts", "actions.startup:fleet,box"]));
    let case = format!("{}{}", skipped.stdout, skipped.stderr);
    assert_eq!(skipped.status, 0, "{case}");
    assert!(skipped.stderr.contains("Warning: "), "{case}");
    assert_eq!(
        on_real(&["inspect", "-f", "{{.State.Running}}", "fleet.box"]),
        "true",
        "{case}"
    );
    on_real(&["rm", "-f", "fleet.box"]);
}
