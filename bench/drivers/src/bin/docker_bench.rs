//! Times `load_image` through dfab's SSH tunnel next to `ssh host docker load < file` and `docker -H ssh://host
//! load`, and sequential `inspect` calls through the tunnel next to the local socket, in one run against the test
//! environment. Run it through `bench/docker` (which starts the environment and builds in release mode).
//!
//! Arguments: `[SIZE_MB] [INSPECTS] [ROUNDS]`, default 500 200 3.

// A benchmark driver prints its report; that is its job.
#![allow(clippy::print_stdout)]

use std::process::Command;
use std::time::Duration;

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
        port, key, known, ..
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
    // passwd home directory; a wrapper first on PATH gives it the key and known hosts.
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
            "#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n",
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
    let remove = || shell(Command::new("docker").args(["rmi", "-f", IMAGE]));

    let (mut dfab, mut ssh, mut cli) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        for step in 0..3 {
            remove()?;
            match (round as usize + step) % 3 {
                0 => dfab.push(timed("dfab load_image", || {
                    load_image_file(&tarball, Duration::from_secs(600)).map(drop)
                })?),
                1 => ssh.push(timed("ssh host docker load", || {
                    shell(
                        Command::new("ssh")
                            .args(["-q", "-i", &key, "-o", "BatchMode=yes", "-o"])
                            .arg(format!("UserKnownHostsFile={known}"))
                            .args(["-p", &port, "root@127.0.0.1", "docker load"])
                            .stdin(std::fs::File::open(&tarball)?),
                    )
                })?),
                _ => cli.push(timed("docker -H ssh:// load", || {
                    shell(
                        Command::new("docker")
                            .env("PATH", &path)
                            .args(["-H", &format!("ssh://root@127.0.0.1:{port}"), "load", "-i"])
                            .arg(&tarball),
                    )
                })?),
            }
        }
    }

    let tunnel = docker_client()?;
    let inspect_all = |client: &dfab_core::docker::DockerClient| {
        for _ in 0..inspects {
            client.call("inspect", |d| async move { d.inspect_image(IMAGE).await })?;
        }
        Ok(())
    };
    inspect_all(&tunnel)?;
    let through_tunnel = timed("inspects through the tunnel", || inspect_all(&tunnel))?;
    env_mut(|e| e.host_string = None);
    let local = docker_client()?;
    inspect_all(&local)?;
    let on_socket = timed("inspects on the local socket", || inspect_all(&local))?;
    let python = python_inspects(&key, &known, &port, inspects)?;
    remove()?;

    let rate = |times: &Vec<f64>| bytes / 1e6 / median(times.clone());
    let ms = |total: f64| total * 1000.0 / inspects as f64;
    println!(
        "## Docker, a {:.0} MB image, median of {rounds} rounds; {inspects} sequential inspects",
        bytes / 1e6
    );
    println!();
    println!("| operation | dfab | other | dfab / other |");
    println!("|---|---:|---:|---:|");
    for (label, theirs) in [
        ("`ssh host docker load < file`", rate(&ssh)),
        ("`docker -H ssh://host load`", rate(&cli)),
    ] {
        println!(
            "| load_image (MB/s) vs {label} | {:.0} | {theirs:.0} | {:.2}x |",
            rate(&dfab),
            rate(&dfab) / theirs
        );
    }
    println!(
        "| inspect (ms) through the tunnel vs the local socket | {:.2} | {:.2} | {:.2}x |",
        ms(through_tunnel),
        ms(on_socket),
        through_tunnel / on_socket
    );
    match python {
        Some(seconds) => println!(
            "| inspect (ms) through the tunnel vs docker-fabric 0.5 (Python) | {:.2} | {:.2} | {:.2}x |",
            ms(through_tunnel),
            ms(seconds),
            through_tunnel / seconds
        ),
        None => println!("| inspect vs docker-fabric (Python) | | not installed here | |"),
    }
    Ok(())
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
