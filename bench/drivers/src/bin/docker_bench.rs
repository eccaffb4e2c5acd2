//! Times `load_image` through dfab's SSH tunnel next to `ssh host docker load < file` and `docker -H ssh://host
//! load`, and sequential `inspect` calls through the tunnel next to the local socket, in one run against the test
//! environment: its 20.10 engine, then each current engine (Docker 28, the classic store and containerd's) through
//! the same sshd with `docker_base_url` naming that engine's socket. Run it through `bench/docker` (which starts the
//! environment and builds in release mode).
//!
//! Arguments: `[SIZE_MB] [INSPECTS] [ROUNDS]`, default 500 200 3. DFAB_BENCH_CURRENT names the current engines
//! (`classic28 containerd28` when unset, none when empty).

// A benchmark driver prints its report; that is its job.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::bail;

use dfab_core::docker::docker_client;
use dfab_core::env::{env_mut, hide, Level};
use dfab_core::tasks::load_image_file;

use dfab_bench::{median, numbers, random_file, shell, timed, var, Login};

const IMAGE: &str = "dfab-bench:latest";

fn main() -> anyhow::Result<()> {
    let args = numbers()?;
    let size_mb = args.first().copied().unwrap_or(500);
    let inspects = args.get(1).copied().unwrap_or(200);
    let rounds = args.get(2).copied().unwrap_or(3);
    let Login {
        port,
        key,
        known,
        host,
    } = Login::from_test_env()?;
    let work = tempfile::tempdir()?;

    // An image of one random layer, saved to a plain tarball.
    let layer_dir = work.path().join("layer");
    std::fs::create_dir(&layer_dir)?;
    random_file(
        &layer_dir.join("payload.bin"),
        size_mb,
        0x9e37_79b9_7f4a_7c15,
    )?;
    let layer = work.path().join("layer.tar");
    shell(
        Command::new("tar")
            .arg("-cf")
            .arg(&layer)
            .arg("-C")
            .arg(&layer_dir)
            .arg("."),
    )?;
    std::fs::remove_dir_all(&layer_dir)?;
    shell(Command::new("docker").arg("import").arg(&layer).arg(IMAGE))?;
    std::fs::remove_file(&layer)?;
    let tarball = work.path().join("image.tar");
    shell(
        Command::new("docker")
            .args(["save", "-o"])
            .arg(&tarball)
            .arg(IMAGE),
    )?;
    let bytes = std::fs::metadata(&tarball)?.len() as f64;

    // The docker command line's ssh:// transport runs plain `ssh`, which reads its configuration from the
    // passwd home directory; a wrapper first on PATH gives it the key and known hosts, and sends DOCKER_HOST (from
    // DFAB_BENCH_DOCKER_HOST) so that `docker system dial-stdio` on the host talks to the engine measured.
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin)?;
    let config = work.path().join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host 127.0.0.1\n  IdentityFile {key}\n  UserKnownHostsFile {known}\n  BatchMode yes\n"
        ),
    )?;
    std::fs::write(
        bin.join("ssh"),
        format!(
            "#!/bin/sh\nexec /usr/bin/ssh -F {} ${{DFAB_BENCH_DOCKER_HOST:+-o \"SetEnv DOCKER_HOST=$DFAB_BENCH_DOCKER_HOST\"}} \"$@\"\n",
            config.display()
        ),
    )?;
    shell(Command::new("chmod").arg("755").arg(bin.join("ssh")))?;
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let _quiet = hide(&[Level::Everything]);
    let tools = Tools {
        tarball: &tarball,
        key: &key,
        known: &known,
        port: &port,
        path: &path,
        host: &host,
        rounds,
        inspects,
    };
    let (mut results, mut python) = (Vec::new(), None);
    for engine in engines()? {
        let result = measure(&tools, &engine)?;
        // docker-fabric talks to the host's default engine, the 20.10 one, which still holds the image.
        if engine.url.is_none() {
            python = python_inspects(&key, &known, &port, inspects)?;
        }
        results.push((engine, result));
    }
    shell(Command::new("docker").args(["rmi", "-f", IMAGE]))?;

    let rate = |times: &Vec<f64>| bytes / 1e6 / median(times.clone());
    let ms = |total: f64| total * 1000.0 / inspects as f64;
    println!(
        "## Docker, a {:.0} MB image, median of {rounds} rounds; {inspects} sequential inspects",
        bytes / 1e6
    );
    println!();
    println!("| operation | engine | dfab | other | dfab / other |");
    println!("|---|---|---:|---:|---:|");
    for (engine, r) in &results {
        for (label, theirs) in [
            ("`ssh host docker load < file`", rate(&r.ssh)),
            ("`docker -H ssh://host load`", rate(&r.cli)),
        ] {
            println!(
                "| load_image (MB/s) vs {label} | {} | {:.0} | {theirs:.0} | {:.2}x |",
                engine.label,
                rate(&r.dfab),
                rate(&r.dfab) / theirs
            );
        }
        println!(
            "| inspect (ms) through the tunnel vs the local socket | {} | {:.2} | {:.2} | {:.2}x |",
            engine.label,
            ms(r.through_tunnel),
            ms(r.on_socket),
            r.through_tunnel / r.on_socket
        );
    }
    if let Some((engine, r)) = results.first() {
        match python {
            Some(seconds) => println!(
                "| inspect (ms) through the tunnel vs docker-fabric 0.5 (Python) | {} | {:.2} | {:.2} | {:.2}x |",
                engine.label,
                ms(r.through_tunnel),
                ms(seconds),
                r.through_tunnel / seconds
            ),
            None => println!("| inspect vs docker-fabric (Python) | | | not installed here | |"),
        }
    }
    Ok(())
}

/// What every engine's measurement shares: the saved image, the login, the wrapped `ssh` and the counts.
struct Tools<'a> {
    tarball: &'a Path,
    key: &'a str,
    known: &'a str,
    port: &'a str,
    path: &'a str,
    host: &'a str,
    rounds: u64,
    inspects: u64,
}

/// An engine measured: the test environment's 20.10 engine (`url` None, the host's default socket) or a current one.
struct Engine {
    url: Option<String>,
    label: String,
}

/// One engine's timings: the loads (seconds per round) and the inspects (seconds for all of them).
struct Timings {
    dfab: Vec<f64>,
    ssh: Vec<f64>,
    cli: Vec<f64>,
    through_tunnel: f64,
    on_socket: f64,
}

/// The engines to measure: the 20.10 engine, then the current engines DFAB_BENCH_CURRENT names ("classic28
/// containerd28" when unset, none when empty).
fn engines() -> anyhow::Result<Vec<Engine>> {
    let mut all = vec![Engine {
        label: describe(None)?,
        url: None,
    }];
    let names =
        std::env::var("DFAB_BENCH_CURRENT").unwrap_or_else(|_| "classic28 containerd28".to_owned());
    for name in names.split_whitespace() {
        let url = match name {
            "classic28" => var("DFAB_TEST_ENGINE_CLASSIC28")?,
            "containerd28" => var("DFAB_TEST_ENGINE_CONTAINERD28")?,
            other => bail!("unknown current engine '{other}' (classic28, containerd28)"),
        };
        all.push(Engine {
            label: describe(Some(&url))?,
            url: Some(url),
        });
    }
    Ok(all)
}

/// The local docker command line, talking to `url` (the default engine when None).
fn docker(url: Option<&str>) -> Command {
    let mut command = Command::new("docker");
    if let Some(url) = url {
        command.args(["-H", url]);
    }
    command
}

/// An engine's version and image store, for the table.
fn describe(url: Option<&str>) -> anyhow::Result<String> {
    let text = |args: &[&str]| -> anyhow::Result<String> {
        let output = docker(url).args(args).output()?;
        if !output.status.success() {
            bail!(
                "docker {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let version = text(&["version", "-f", "{{.Server.Version}}"])?;
    let version = version.split('+').next().unwrap_or_default();
    let store = if text(&["info", "-f", "{{.DriverStatus}}"])?.contains("containerd") {
        "containerd store"
    } else {
        "classic store"
    };
    Ok(format!("{version}, {store}"))
}

/// The loads (the image removed from the engine before each, the tools taking turns to go first) and the inspects
/// through the tunnel and on the engine's own socket.
fn measure(tools: &Tools<'_>, engine: &Engine) -> anyhow::Result<Timings> {
    let url = engine.url.as_deref();
    let host = tools.host.to_owned();
    let base_url = engine.url.clone();
    env_mut(move |e| {
        e.host_string = Some(host);
        e.docker_base_url = base_url;
    });
    // Quiet: the engine may not hold the image yet.
    let remove = || shell(docker(url).args(["rmi", "-f", IMAGE]).stderr(Stdio::null()));
    let remote_load = match url {
        Some(url) => format!("docker -H {url} load"),
        None => "docker load".to_owned(),
    };
    let (mut dfab, mut ssh, mut cli) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..tools.rounds {
        for step in 0..3 {
            remove()?;
            match (round as usize + step) % 3 {
                0 => dfab.push(timed("dfab load_image", || {
                    load_image_file(tools.tarball, Duration::from_secs(600)).map(drop)
                })?),
                1 => ssh.push(timed("ssh host docker load", || {
                    shell(
                        Command::new("ssh")
                            .args(["-q", "-i", tools.key, "-o", "BatchMode=yes", "-o"])
                            .arg(format!("UserKnownHostsFile={}", tools.known))
                            .args(["-p", tools.port, "root@127.0.0.1", &remote_load])
                            .stdin(std::fs::File::open(tools.tarball)?),
                    )
                })?),
                _ => cli.push(timed("docker -H ssh:// load", || {
                    let mut command = Command::new("docker");
                    command
                        .env("PATH", tools.path)
                        .args([
                            "-H",
                            &format!("ssh://root@127.0.0.1:{}", tools.port),
                            "load",
                            "-i",
                        ])
                        .arg(tools.tarball);
                    match url {
                        Some(url) => command.env("DFAB_BENCH_DOCKER_HOST", url),
                        None => command.env_remove("DFAB_BENCH_DOCKER_HOST"),
                    };
                    shell(&mut command)
                })?),
            }
        }
    }

    let inspects = tools.inspects;
    let inspect_all = |client: &dfab_core::docker::DockerClient| {
        for _ in 0..inspects {
            client.call("inspect", |d| async move { d.inspect_image(IMAGE).await })?;
        }
        Ok(())
    };
    let tunnel = docker_client()?;
    inspect_all(&tunnel)?;
    let through_tunnel = timed("inspects through the tunnel", || inspect_all(&tunnel))?;
    env_mut(|e| e.host_string = None);
    let local = docker_client()?;
    inspect_all(&local)?;
    let on_socket = timed("inspects on the local socket", || inspect_all(&local))?;
    // The image stays on the 20.10 engine for docker-fabric's inspects; a current engine's copy goes now.
    if url.is_some() {
        remove()?;
    }
    Ok(Timings {
        dfab,
        ssh,
        cli,
        through_tunnel,
        on_socket,
    })
}

/// Seconds docker-fabric takes for `count` sequential inspects, when `bench/docker` could install it.
fn python_inspects(key: &str, known: &str, port: &str, count: u64) -> anyhow::Result<Option<f64>> {
    let (Ok(fab), Ok(fabfile)) = (var("DFAB_BENCH_FAB"), var("DFAB_BENCH_FABFILE")) else {
        return Ok(None);
    };
    let output = Command::new(fab)
        .args(["-f", &fabfile, "-i", key, "-H"])
        .arg(format!("root@127.0.0.1:{port}"))
        .arg(format!("--system-known-hosts={known}"))
        .arg(format!("timed_inspects:{count},{IMAGE}"))
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("elapsed "))
        .and_then(|s| s.trim().parse().ok()))
}
