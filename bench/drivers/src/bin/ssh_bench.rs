//! Times dfab's `put`, `get` and sequential `run` next to OpenSSH doing the same, in one run, against the test
//! environment's sshd. Run it through `bench/ssh` (which starts the environment and builds in release mode).
//!
//! Arguments: `[SIZE_MB] [RUNS] [ROUNDS]`, default 512 1000 3.

// A benchmark driver prints its report; that is its job.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::bail;
use dfab_core::env::{hide, Level};
use dfab_core::ssh::{get, put, run, run_with, RunOptions};

use dfab_bench::{median, numbers, random_file, shell, timed, Login};

fn main() -> anyhow::Result<()> {
    let args = numbers()?;
    let size_mb = args.first().copied().unwrap_or(512);
    let runs = args.get(1).copied().unwrap_or(1000);
    let rounds = args.get(2).copied().unwrap_or(3);
    let Login {
        port, key, known, ..
    } = Login::from_test_env()?;
    let work = tempfile::tempdir()?;
    let local = work.path().join("payload.bin");
    random_file(&local, size_mb, 0x2545_f491_4f6c_dd1d)?;
    let bytes = (size_mb * 1024 * 1024) as f64;
    let _quiet = hide(&[Level::Everything]);
    let remote_dir = "/tmp/dfab-bench";
    run(&format!("rm -rf {remote_dir} && mkdir -p {remote_dir}"))?;

    let ssh_opts = |cmd: &mut Command| {
        cmd.args(["-q", "-i", &key, "-o", "BatchMode=yes", "-o"])
            .arg(format!("UserKnownHostsFile={known}"));
    };
    let openssh = |extra: &[&str]| {
        let mut cmd = Command::new("ssh");
        ssh_opts(&mut cmd);
        cmd.args(["-p", &port]).args(extra);
        cmd
    };
    let scp = |from: &str, to: &str| {
        let mut cmd = Command::new("scp");
        ssh_opts(&mut cmd);
        cmd.args(["-P", &port, from, to]);
        cmd
    };
    let local_s = local.display().to_string();
    let back = work.path().join("back.bin");
    let back_s = back.display().to_string();

    let (mut dfab_put, mut scp_put, mut cat_put) = (Vec::new(), Vec::new(), Vec::new());
    let (mut dfab_get, mut scp_get, mut cat_get) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Each round starts with another tool, so no tool always pays for a cold cache or a busy disk.
        for step in 0..3 {
            match (round as usize + step) % 3 {
                0 => dfab_put.push(timed("dfab put", || {
                    put(&local_s, &format!("{remote_dir}/dfab.bin")).map(drop)
                })?),
                1 => scp_put.push(timed("scp upload", || {
                    shell(&mut scp(
                        &local_s,
                        &format!("root@127.0.0.1:{remote_dir}/scp.bin"),
                    ))
                })?),
                _ => cat_put.push(timed("cat | ssh upload", || {
                    let input = std::fs::File::open(&local)?;
                    shell(
                        openssh(&["root@127.0.0.1", &format!("cat > {remote_dir}/cat.bin")])
                            .stdin(input),
                    )
                })?),
            }
        }
        for step in 0..3 {
            match (round as usize + step) % 3 {
                0 => dfab_get.push(timed("dfab get", || {
                    get(&format!("{remote_dir}/dfab.bin"), &back_s).map(drop)
                })?),
                1 => scp_get.push(timed("scp download", || {
                    shell(&mut scp(
                        &format!("root@127.0.0.1:{remote_dir}/scp.bin"),
                        &back_s,
                    ))
                })?),
                _ => cat_get.push(timed("ssh cat download", || {
                    let output = std::fs::File::create(&back)?;
                    let status = openssh(&["root@127.0.0.1", &format!("cat {remote_dir}/cat.bin")])
                        .stdout(output)
                        .status()?;
                    if !status.success() {
                        bail!("ssh cat failed with {status}");
                    }
                    Ok(())
                })?),
            }
            std::fs::remove_file(&back)?;
        }
    }

    let raw = RunOptions {
        shell: Some(false),
        pty: Some(false),
        ..RunOptions::default()
    };
    let dfab_runs = timed("dfab runs", || {
        for _ in 0..runs {
            run_with("true", &raw)?;
        }
        Ok(())
    })?;
    let control = work.path().join("control");
    let control_s = control.display().to_string();
    shell(openssh(&["-M", "-S", &control_s, "-f", "-N", "root@127.0.0.1"]).stdin(Stdio::null()))?;
    for _ in 0..100 {
        if Path::new(&control).exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let ssh_runs = timed("ssh runs over a ControlMaster socket", || {
        for _ in 0..runs {
            shell(openssh(&["-S", &control_s, "root@127.0.0.1", "true"]).stdin(Stdio::null()))?;
        }
        Ok(())
    })?;
    let _ = openssh(&["-S", &control_s, "-O", "exit", "root@127.0.0.1"])
        .stderr(Stdio::null())
        .status();
    run(&format!("rm -rf {remote_dir}"))?;

    let rate = |times: &Vec<f64>| bytes / 1e6 / median(times.clone());
    let ms = |total: f64| total * 1000.0 / runs as f64;
    println!("## SSH, {size_mb} MiB payload, median of {rounds} rounds; {runs} sequential runs");
    println!();
    println!("| operation | dfab | OpenSSH | dfab / OpenSSH |");
    println!("|---|---:|---:|---:|");
    for (what, ours, theirs, label) in [
        ("put (MB/s)", rate(&dfab_put), rate(&scp_put), "scp"),
        (
            "put (MB/s)",
            rate(&dfab_put),
            rate(&cat_put),
            "ssh 'cat > f' < f",
        ),
        ("get (MB/s)", rate(&dfab_get), rate(&scp_get), "scp"),
        (
            "get (MB/s)",
            rate(&dfab_get),
            rate(&cat_get),
            "ssh 'cat f' > f",
        ),
    ] {
        println!(
            "| {what} vs {label} | {ours:.0} | {theirs:.0} | {:.0}% |",
            100.0 * ours / theirs
        );
    }
    println!(
        "| `run(\"true\")` round trip (ms) vs `ssh host true` over ControlMaster | {:.2} | {:.2} | {:.2}x |",
        ms(dfab_runs),
        ms(ssh_runs),
        dfab_runs / ssh_runs
    );
    Ok(())
}
