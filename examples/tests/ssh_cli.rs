//! The runner against the test environment's real sshd: authentication, host keys, faults, gateways.

use std::net::TcpListener;

use dfab_test_support::{abort, strs, TestEnv};

use crate::dfab;

fn env() -> Option<TestEnv> {
    dfab_test_support::test_env()
}

#[test]
fn key_login_runs_the_remainder_and_disconnects() {
    let Some(t) = env() else { return };
    let host = format!("root@127.0.0.1:{}", t.port);
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["--", "whoami"])
        .stdout(&format!(
            "[{host}] Executing task '<remainder>'\n[{host}] run: whoami\n[{host}] out: root\n[{host}] out: \n\n\n\
             Done.\nDisconnecting from {host}... done.\n"
        ))
        .stderr("")
        .run();
}

#[test]
fn agent_login() {
    let Some(t) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("agent.sock");
    let agent = std::process::Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent");
    for _ in 0..50 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(&t.root_key)
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .expect("ssh-add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let sock = socket.display().to_string();
    dfab()
        .env("SSH_AUTH_SOCK", &sock)
        .args(&[
            "-H",
            &format!("root@127.0.0.1:{}", t.port),
            "-k",
            "--abort-on-prompts",
            "--",
            "echo via-agent",
        ])
        .stdout_has("out: via-agent\n")
        .run();
    dfab()
        .env("SSH_AUTH_SOCK", &sock)
        .args(&["-a", "-H", &format!("root@127.0.0.1:{}", t.port), "-k", "--abort-on-prompts", "--", "true"])
        .stderr_has(&format!(
            "Fatal error: Authentication failed for root@127.0.0.1:{}: no key, agent identity or password was available",
            t.port
        ))
        .status(1)
        .run();
    dfab()
        .env("SSH_AUTH_SOCK", &sock)
        .args(&[
            "-A",
            "--keepalive",
            "1",
            "-H",
            &format!("root@127.0.0.1:{}", t.port),
            "-k",
            "--abort-on-prompts",
            "--",
            // The hop from the remote host on to the next needs the forwarded agent to sign.
            &format!(
                "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=no \
                 -o IdentityFile=/nonexistent -p {} root@127.0.0.1 echo hop with the forwarded agent",
                t.port
            ),
        ])
        .stdout_has("out: hop with the forwarded agent\n")
        .run();
    // Forwarding asked for but no local agent: the remote side sees an agent that answers nothing, and the
    // command still ends.
    dfab()
        .args(&[
            "-A",
            "-i",
            &t.root_key,
            "-H",
            &format!("root@127.0.0.1:{}", t.port),
            "--abort-on-prompts",
            "--",
            "ssh-add -l >/dev/null 2>&1 || echo no keys",
        ])
        .stdout_has("out: no keys\n")
        .stderr_has("Warning: -A: there is no local ssh-agent to forward")
        .run();
    let mut agent = agent;
    let _ = agent.kill();
    let _ = agent.wait();
}

#[test]
fn password_login_and_wrong_password() {
    let Some(t) = env() else { return };
    let host = format!("{}@127.0.0.1:{}", t.user, t.password_port);
    dfab()
        .args(&[
            "-H",
            &host,
            "-p",
            &t.password,
            "-k",
            "-a",
            "--abort-on-prompts",
            "--",
            "whoami",
        ])
        .stdout_has(&format!("[{host}] out: {}\n", t.user))
        .run();
    dfab()
        .args(&["-H", &host, "-p", "wrong", "-k", "-a", "--abort-on-prompts", "--", "whoami"])
        .stderr(&abort(&format!(
            "Needed to prompt for a connection or sudo password (host: {host}), but abort-on-prompts was set to True"
        )))
        .status(1)
        .run();
}

#[test]
fn encrypted_key_takes_the_password_as_passphrase() {
    let Some(t) = env() else { return };
    let host = format!("root@127.0.0.1:{}", t.port);
    dfab()
        .args(&[
            "-H",
            &host,
            "-i",
            &t.encrypted_key,
            "-p",
            &t.passphrase,
            "-k",
            "-a",
            "--",
            "echo unlocked",
        ])
        .stdout_has("out: unlocked\n")
        .run();
    dfab()
        .args(&["-H", &host, "-i", &t.encrypted_key, "-k", "-a", "--abort-on-prompts", "--", "true"])
        .stderr(&abort(&format!(
            "Needed to prompt for a connection or sudo password (host: {host}), but abort-on-prompts was set to True"
        )))
        .status(1)
        .run();
}

#[test]
fn no_acceptable_key() {
    let Some(t) = env() else { return };
    dfab()
        .args(&["-H", &format!("root@127.0.0.1:{}", t.port), "-i", &t.user_key, "-k", "-a", "--", "true"])
        .stderr(&abort(&format!(
            "Authentication failed for root@127.0.0.1:{p}: tried key {k}; give a key with -i, load it into ssh-agent, \
             or a password with -p",
            p = t.port,
            k = t.user_key
        )))
        .status(1)
        .run();
}

#[test]
fn host_keys_changed_unknown_and_disabled() {
    let Some(t) = env() else { return };
    let user_pub = std::fs::read_to_string(format!("{}.pub", t.user_key)).unwrap();
    let fake_key: Vec<&str> = user_pub.split_whitespace().take(2).collect();
    let known = format!("[127.0.0.1]:{} {}\n", t.port, fake_key.join(" "));
    let base = [
        "-H",
        &format!("root@127.0.0.1:{}", t.port),
        "-i",
        &t.root_key,
        "-k",
        "-a",
    ]
    .map(String::from);
    let stderr = dfab()
        .home_file(".ssh/known_hosts", &known)
        .args(&strs(&base))
        .args(&["--", "true"])
        .status(1)
        .run_stderr();
    assert!(
        stderr.contains(&format!(
            "Fatal error: Host key for [127.0.0.1]:{} did not match pre-existing key in ",
            t.port
        )) && stderr.contains("/.ssh/known_hosts! Server's key was changed recently, or possible man-in-the-middle attack."),
        "{stderr}"
    );
    dfab()
        .home_file(".ssh/known_hosts", &known)
        .args(&strs(&base))
        .args(&["-D", "--", "echo accepted"])
        .stdout_has("out: accepted\n")
        .run();
    // A garbage line first (and other damaged lines) hides nothing: the changed key is still refused, and each bad
    // line is named.
    let damaged = format!("garbage\n|1|bad|hash ssh-ed25519 AAAA\nbare-host-name\n{known}");
    let stderr = dfab()
        .home_file(".ssh/known_hosts", &damaged)
        .args(&strs(&base))
        .args(&["--", "true"])
        .status(1)
        .run_stderr();
    assert!(
        stderr.contains(&format!(
            "Fatal error: Host key for [127.0.0.1]:{} did not match pre-existing key in ",
            t.port
        )) && stderr.contains("/.ssh/known_hosts:1: no key after the host names; line skipped")
            && stderr.contains("/.ssh/known_hosts:3: no key after the host names; line skipped"),
        "{stderr}"
    );
    // A revoked key is refused even where another line records it.
    let real = std::fs::read_to_string(&t.host_key).unwrap();
    let real: Vec<&str> = real.split_whitespace().take(2).collect();
    let stderr = dfab()
        .home_file(
            ".ssh/known_hosts",
            &format!("@revoked * {}\n", real.join(" ")),
        )
        .args(&strs(&base))
        .args(&["--system-known-hosts", &t.known_hosts, "--", "true"])
        .status(1)
        .run_stderr();
    assert!(
        stderr.contains(&format!(
            "Fatal error: Host key for [127.0.0.1]:{} is revoked in ",
            t.port
        )) && stderr.contains("/.ssh/known_hosts:1: refusing to connect"),
        "{stderr}"
    );
    dfab()
        .args(&strs(&base))
        .args(&["-r", "--", "true"])
        .stderr(&abort(&format!(
            "Server '[127.0.0.1]:{p}' not found in known_hosts; after checking its key, add it with: \
             ssh-keyscan -p {p} 127.0.0.1 >> ~/.ssh/known_hosts",
            p = t.port
        )))
        .status(1)
        .run();
    dfab()
        .args(&strs(&base))
        .args(&[
            "-r",
            "--system-known-hosts",
            &t.known_hosts,
            "--",
            "echo known",
        ])
        .stdout_has("out: known\n")
        .run();
}

#[test]
fn refused_silent_and_skipped_hosts() {
    let Some(t) = env() else { return };
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    dfab()
        .args(&["-H", &format!("root@127.0.0.1:{refused}"), "-t", "1", "-n", "2", "--", "true"])
        .stderr(&abort(&format!(
            "Low level socket error connecting to host 127.0.0.1 on port {refused}: Connection refused (tried 2 times)"
        )))
        .status(1)
        .run();
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let _held: Vec<_> = silent.incoming().take(4).collect();
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    dfab()
        .args(&[
            "-H",
            &format!("root@127.0.0.1:{silent_port}"),
            "-t",
            "1",
            "-n",
            "2",
            "--",
            "true",
        ])
        // A handshake that times out is tried again, as a refused connection is.
        .stderr(&abort(
            "Timed out trying to connect to 127.0.0.1 (tried 2 times)",
        ))
        .status(1)
        .run();
    let mut args = t.root_login();
    args[1] = format!("root@127.0.0.1:{refused},root@127.0.0.1:{}", t.port);
    dfab()
        .args(&strs(&args))
        .args(&["--skip-bad-hosts", "-t", "1", "--", "echo still-here"])
        .stderr(&format!(
            "\nWarning: Low level socket error connecting to host 127.0.0.1 on port {refused}: Connection refused \
             (tried 1 time)\n\n"
        ))
        .stdout_has("out: still-here\n")
        .run();
}

#[test]
fn command_failures() {
    let Some(t) = env() else { return };
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["--", "no-such-command"])
        .stderr(&abort(
            "run() received nonzero return code 127 while executing!\n\nRequested: no-such-command\n\
             Executed: /bin/bash -l -c \"no-such-command\"",
        ))
        .status(1)
        .run();
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["-w", "--", "exit 4"])
        .stderr("\nWarning: run() received nonzero return code 4 while executing 'exit 4'!\n\n")
        .stdout_has("\nDone.\n")
        .run();
}

/// What `run` keeps of a command's output stops at `capture_limit`: a command printing 200 MB past a 1 MB limit
/// fails at once with one line naming the host, the command, the limit and the key, and dfab holds little; one
/// printing up to the limit is kept whole.
#[test]
fn output_past_the_capture_limit_fails_the_command() {
    let Some(t) = env() else { return };
    let host = format!("root@127.0.0.1:{}", t.port);
    let under = dfab()
        .args(&strs(&t.root_login()))
        .args(&[
            "--set",
            "capture_limit=100000",
            "--",
            "head -c 100000 /dev/zero | tr '\\0' x",
        ])
        .run();
    assert!(
        under.contains(&format!("[{host}] out: {}\n", "x".repeat(100_000))),
        "the output is whole"
    );
    let mut args = t.root_login();
    args.extend(
        [
            "--hide",
            "everything",
            "--set",
            "capture_limit=1000000",
            "--",
            "head -c 200000000 /dev/zero | tr '\\0' x",
        ]
        .map(str::to_owned),
    );
    let run = dfab_test_support::run_measured(
        std::process::Command::new(env!("CARGO_BIN_EXE_dfab-example")).args(&args),
        std::time::Duration::from_secs(60),
    );
    let case = format!("{:.1} s, {} MiB\n{}", run.seconds, run.peak_mib, run.stderr);
    assert_eq!(run.status, 1, "{case}");
    assert!(
        run.stderr.contains(&format!(
            "Fatal error: 'head -c 200000000 /dev/zero | tr '\\0' x' on {host} printed more than 1000000 bytes on \
             stdout: dfab keeps at most capture_limit bytes of each stream of a command for its result (raise \
             capture_limit, or send the output to a file)"
        )),
        "{case}"
    );
    assert!(run.peak_mib < 100, "{case}");
    assert!(run.seconds < 20.0, "{case}");
    // With stderr apart from stdout, on either stream: the command ends too (its channel is shut), nothing waits.
    for (stream, redirect) in [("stdout", ""), ("stderr", " >&2")] {
        let command = format!("head -c 200000000 /dev/zero | tr '\\0' x{redirect}; sleep 600");
        let mut args = t.root_login();
        args.extend(
            [
                "--hide",
                "everything",
                // A terminal would merge the streams.
                "--no-pty",
                "--set",
                "capture_limit=1000000,combine_stderr=false",
                "--",
                &command,
            ]
            .map(str::to_owned),
        );
        let run = dfab_test_support::run_measured(
            std::process::Command::new(env!("CARGO_BIN_EXE_dfab-example")).args(&args),
            std::time::Duration::from_secs(60),
        );
        let case = format!(
            "{stream}: {:.1} s, {} MiB\n{}",
            run.seconds, run.peak_mib, run.stderr
        );
        assert_eq!(run.status, 1, "{case}");
        assert!(
            run.stderr
                .contains(&format!("printed more than 1000000 bytes on {stream}")),
            "{case}"
        );
        assert!(run.seconds < 20.0, "{case}");
    }
}

#[test]
fn eager_disconnects_and_coloured_errors() {
    let Some(t) = env() else { return };
    let mut args = t.root_login();
    args.extend(["-e".into(), "--".into(), "true".into()]);
    let stdout = dfab().args(&strs(&args)).run();
    // Mid-run the user is the host's own, so the line names the host without it, as Fabric's does.
    let disconnect = format!("Disconnecting from 127.0.0.1:{}... done.\n", t.port);
    let done = stdout.find("\nDone.\n").expect("Done.");
    assert!(
        stdout[..done].contains(&disconnect),
        "-e disconnects before Done.:\n{stdout}"
    );
    assert!(!stdout[done..].contains("Disconnecting"), "{stdout}");
    dfab()
        .args(&["--colorize-errors", "fail"])
        .stderr("\n\x1b[31mFatal error: local() encountered an error (return code 3) while executing 'exit 3'\n\x1b[0m\n\x1b[31mAborting.\x1b[0m\n")
        .status(1)
        .run();
}

#[test]
fn parallel_hosts_print_whole_lines() {
    let Some(t) = env() else { return };
    let mut hosts = vec![
        format!("root@127.0.0.1:{}", t.port),
        format!("root@localhost:{}", t.port),
    ];
    if t.ipv6 {
        hosts.push(format!("root@[::1]:{}", t.port));
    }
    let mut args = t.root_login();
    args[1] = hosts.join(",");
    let stdout = dfab()
        .args(&strs(&args))
        .args(&["-P", "--", "for i in 1 2 3 4 5; do echo line-$i; done"])
        .stderr("")
        .run();
    for host in &hosts {
        for i in 1..=5 {
            assert!(
                stdout.contains(&format!("[{host}] out: line-{i}\n")),
                "{host} line {i}:\n{stdout}"
            );
        }
    }
    for line in stdout.lines().filter(|l| !l.is_empty()) {
        assert!(
            line.starts_with('[') || line == "Done." || line.starts_with("Disconnecting from "),
            "mixed line {line:?}"
        );
    }
}

#[test]
fn gateway_and_proxy_jump() {
    let Some(t) = env() else { return };
    let mut args = t.root_login();
    args.extend([
        "-g".into(),
        format!("root@localhost:{}", t.port),
        "--".into(),
        "echo tunnelled".into(),
    ]);
    dfab()
        .args(&strs(&args))
        .stdout_has("out: tunnelled\n")
        .stdout_has(&format!(
            "Disconnecting from root@127.0.0.1:{}... done.\n",
            t.port
        ))
        .stdout_has(&format!(
            "Disconnecting from root@localhost:{}... done.\n",
            t.port
        ))
        .run();
    let config = format!(
        "Host target\n  HostName 127.0.0.1\n  Port {p}\n  User root\n  IdentityFile {k}\n  ProxyJump root@localhost:{p}\n",
        p = t.port,
        k = t.root_key
    );
    dfab()
        .home_file(".ssh/config", &config)
        .args(&[
            "--use-ssh-config",
            "-H",
            "target",
            "-k",
            "-a",
            "-i",
            &t.root_key,
            "--",
            "echo jumped",
        ])
        .stdout_has("[target] out: jumped\n")
        .stdout_has(&format!(
            "Disconnecting from root@localhost:{}... done.\n",
            t.port
        ))
        .run();
}

#[test]
fn interactive_shell_and_prompts() {
    let Some(t) = env() else { return };
    dfab()
        .args(&strs(&t.root_login()))
        .args(&["shell"])
        .stdin("echo from-the-shell\nexit\n")
        .stdout_has("from-the-shell")
        .run();
    dfab()
        .args(&["ask"])
        .stdin("not valid!\nrel2\n")
        .stdout_has("Release name? [r1] Validation failed for the following reason:\n    'not valid!' is not alphanumeric\n")
        .stdout_has("releasing rel2\n")
        .run();
    dfab()
        .args(&["--abort-on-prompts", "ask"])
        .stderr(&abort(
            "Needed to prompt for a user-specified prompt() call (host: None), but abort-on-prompts was set to True",
        ))
        .status(1)
        .run();
}

#[test]
fn transfers_from_the_command_line() {
    let Some(t) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello\n").unwrap();
    let remote = format!("/tmp/dfab-cli-{}.txt", std::process::id());
    let host = format!("root@127.0.0.1:{}", t.port);
    dfab()
        .args(&strs(&t.root_login()))
        .args(&[&format!("upload:{},{remote}", file.display())])
        .stdout_has(&format!("[{host}] put: {} -> {remote}\n", file.display()))
        .run();
    let template = format!("{}/%(host)s/%(basename)s", dir.path().display());
    dfab()
        .args(&strs(&t.root_login()))
        .args(&[&format!("fetch:{remote},{template}")])
        .stdout_has("download: ")
        .run();
    let fetched = dir
        .path()
        .join(host.replace(':', "-"))
        .join(format!("dfab-cli-{}.txt", std::process::id()));
    assert_eq!(std::fs::read_to_string(fetched).unwrap(), "hello\n");
}

/// A key file that cannot be read is named with the reason, not taken for an encrypted key that needs a passphrase.
#[test]
fn a_missing_key_file_is_named() {
    let Some(t) = env() else { return };
    dfab()
        .args(&[
            "-H",
            &format!("root@127.0.0.1:{}", t.port),
            "-i",
            "/missing/key",
            "-k",
            "-a",
            "--system-known-hosts",
            &t.known_hosts,
            "--abort-on-prompts",
            "--",
            "true",
        ])
        .stderr_has(
            "Fatal error: cannot read the key file /missing/key: No such file or directory (os error 2)\n",
        )
        .status(1)
        .run();
}

/// An sshd of this test's own (so that freezing it touches no other test's sessions), on a free port.
struct OwnSshd {
    port: u16,
    pid: u32,
    dir: tempfile::TempDir,
}

impl OwnSshd {
    fn start(t: &TestEnv) -> OwnSshd {
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let base = std::fs::read_to_string(format!("{}/sshd.conf", t.dir)).expect("sshd config");
        let pidfile = dir.path().join("sshd.pid");
        let config: String = base
            .lines()
            .filter(|l| !l.starts_with("ListenAddress ::1"))
            .map(|l| {
                if l.starts_with("Port ") {
                    format!("Port {port}\n")
                } else if l.starts_with("PidFile ") {
                    format!("PidFile {}\n", pidfile.display())
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let path = dir.path().join("sshd.conf");
        std::fs::write(&path, config).expect("config");
        let status = std::process::Command::new("/usr/sbin/sshd")
            .arg("-f")
            .arg(&path)
            .status()
            .expect("sshd");
        assert!(status.success(), "sshd starts");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let pid = loop {
            if let Ok(text) = std::fs::read_to_string(&pidfile) {
                if let Ok(pid) = text.trim().parse() {
                    break pid;
                }
            }
            assert!(std::time::Instant::now() < deadline, "sshd writes its pid");
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        OwnSshd { port, pid, dir }
    }

    /// Sends `signal` to every session process of this sshd (its descendants), not to the listener. All of them
    /// are found first, so that none is orphaned (and missed) when a parent dies of the signal.
    fn signal_sessions(&self, signal: &str) {
        let mut found = Vec::new();
        let mut parents = vec![self.pid.to_string()];
        while let Some(parent) = parents.pop() {
            let children = std::process::Command::new("pgrep")
                .args(["-P", &parent])
                .output()
                .expect("pgrep");
            for child in String::from_utf8_lossy(&children.stdout).split_whitespace() {
                found.push(child.to_owned());
                parents.push(child.to_owned());
            }
        }
        if !found.is_empty() {
            let _ = std::process::Command::new("kill")
                .arg(format!("-{signal}"))
                .args(&found)
                .status();
        }
    }
}

impl Drop for OwnSshd {
    fn drop(&mut self) {
        self.signal_sessions("CONT");
        self.signal_sessions("KILL");
        let _ = std::process::Command::new("kill")
            .arg(self.pid.to_string())
            .status();
        let _ = &self.dir;
    }
}

/// A transfer to a server that stops answering (its session process frozen with SIGSTOP) ends with an error that
/// names the host, the file and the bytes done, instead of waiting for ever.
#[test]
fn a_frozen_server_ends_a_transfer() {
    let Some(t) = env() else { return };
    let sshd = OwnSshd::start(&t);
    let dir = tempfile::tempdir().expect("temporary directory");
    let big = dir.path().join("big");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(2 << 30))
        .expect("a sparse 2 GiB file");
    let remote = format!("/tmp/dfab-frozen-{}", std::process::id());
    for (task, frozen_side) in [
        (format!("upload:{},{remote}", big.display()), "upload"),
        (
            format!("fetch:/dev/zero,{}", dir.path().join("zero").display()),
            "download",
        ),
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dfab-example"))
            .args([
                "-H",
                &format!("root@127.0.0.1:{}", sshd.port),
                "-i",
                &t.root_key,
                "-k",
                "-a",
                "--abort-on-prompts",
                "--keepalive",
                "2",
                &task,
            ])
            .env("HOME", dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dfab-example");
        std::thread::sleep(std::time::Duration::from_millis(1500));
        sshd.signal_sessions("STOP");
        let started = std::time::Instant::now();
        let ended = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if started.elapsed() > std::time::Duration::from_secs(60) {
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        sshd.signal_sessions("CONT");
        let Some(status) = ended else {
            let _ = child.kill();
            panic!("the {frozen_side} to a frozen server did not end within 60 s");
        };
        let mut stderr = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("stderr");
        assert!(!status.success(), "{frozen_side}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "the connection to root@127.0.0.1:{} dropped",
                sshd.port
            )) && stderr.contains("the server answered nothing, not even keepalives, for 8 s")
                && stderr.contains(" bytes of '"),
            "{frozen_side}: {stderr}"
        );
    }
    let _ = std::fs::remove_file(&remote);
    // The frozen upload's partial file (its remote `cat` was killed before it could clean up).
    drop(sshd);
    if let Ok(entries) = std::fs::read_dir("/tmp") {
        let partial = format!("dfab-frozen-{}.dfab-", std::process::id());
        for entry in entries.filter_map(Result::ok) {
            if entry.file_name().to_string_lossy().starts_with(&partial) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// With no file descriptors to spare, each host's error is the real one, never a prompt that cannot be answered.
#[test]
fn fd_pressure_reports_the_real_error() {
    let Some(t) = env() else { return };
    let hosts = format!(
        "{u}@127.0.0.1:{p},{u}@localhost:{p}",
        u = t.user,
        p = t.port
    );
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 16; exec {} -P -i {} -k -a --abort-on-prompts --system-known-hosts {} -H '{hosts}' docker.version -- true",
            env!("CARGO_BIN_EXE_dfab-example"),
            t.user_key,
            t.known_hosts
        ))
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("dfab-example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("Too many open files"), "{stderr}");
    assert!(!stderr.contains("Needed to prompt"), "{stderr}");
}

/// put and get show a bar (bytes, rate, ETA) on a terminal, and none when output is not a terminal or is hidden.
#[test]
fn transfers_show_a_bar_on_a_terminal_only() {
    let Some(t) = env() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let big = dir.path().join("big");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(64 << 20))
        .expect("a sparse file");
    let remote = format!("/tmp/dfab-bar-{}", std::process::id());
    let command = |extra: &str| {
        format!(
            "{} -H root@127.0.0.1:{} -i {} -k -a --system-known-hosts {} {extra} upload:{},{remote}",
            env!("CARGO_BIN_EXE_dfab-example"),
            t.port,
            t.root_key,
            t.known_hosts,
            big.display()
        )
    };
    // `script` gives the run a terminal.
    let on_terminal = |extra: &str| {
        let output = std::process::Command::new("script")
            .args(["-qec", &command(extra), "/dev/null"])
            .env("HOME", dir.path())
            .output()
            .expect("script");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let shown = on_terminal("");
    assert!(
        shown.contains(&format!("put {} [", big.display())) && shown.contains("MiB/64.00 MiB"),
        "{shown}"
    );
    assert!(!on_terminal("--hide running").contains("MiB/64.00 MiB"));
    let piped = std::process::Command::new("sh")
        .args(["-c", &command("")])
        .env("HOME", dir.path())
        .output()
        .expect("sh");
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("MiB"));
    let _ = std::fs::remove_file(&remote);
}
