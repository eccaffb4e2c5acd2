//! `run()` and `sudo()` against the test environment's real sshd.

use dfab_core::env::{cd, env_mut, path, prefix, settings, shell_env, warn_only};
use dfab_core::exec::execute;
use dfab_core::ssh::{run, run_with, sudo, sudo_with, RunOptions};
use dfab_core::task;
use dfab_test_support::require_env;

#[test]
fn run_as_root_captures_output_and_status() {
    let t = require_env!();
    t.as_root();
    let result = run("echo hello; echo second").unwrap();
    assert_eq!(result.stdout, "hello\r\nsecond");
    assert_eq!(result.return_code, 0);
    assert!(result.succeeded());
    assert_eq!(run("whoami").unwrap().stdout, "root");
}

#[test]
fn run_as_the_unprivileged_user_and_sudo_with_its_password() {
    let t = require_env!();
    t.as_user();
    assert_eq!(run("whoami").unwrap().stdout, t.user);
    let password = t.password.clone();
    env_mut(move |e| e.sudo_password = Some(password));
    let root = sudo("whoami").unwrap();
    assert_eq!(
        root.stdout, "root",
        "the sudo prompt is answered and removed from the output"
    );
    let as_user = sudo_with(
        "whoami",
        &RunOptions {
            user: Some(t.user.clone()),
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(as_user.stdout, t.user);
}

#[test]
fn a_wrong_sudo_password_is_reported() {
    let t = require_env!();
    t.as_user();
    env_mut(|e| e.sudo_password = Some("not-the-password".into()));
    let error = sudo("true").unwrap_err().to_string();
    assert!(
        error.starts_with(
            "Needed to prompt for a connection or sudo password (host: dfabtest@127.0.0.1:"
        ),
        "{error}"
    );
    assert!(
        error.ends_with("but abort-on-prompts was set to True"),
        "{error}"
    );
}

#[test]
fn sudo_as_root_needs_no_password() {
    let t = require_env!();
    t.as_root();
    assert_eq!(sudo("id -u").unwrap().stdout, "0");
}

#[test]
fn failures_abort_or_warn() {
    let t = require_env!();
    t.as_root();
    let error = run("no-such-command-here").unwrap_err().to_string();
    assert_eq!(
        error,
        "run() received nonzero return code 127 while executing!\n\nRequested: no-such-command-here\n\
         Executed: /bin/bash -l -c \"no-such-command-here\""
    );
    let error = run("exit 2").unwrap_err().to_string();
    assert!(error.starts_with("run() received nonzero return code 2 while executing!"));
    let _w = warn_only();
    let result = run("echo partial; exit 2").unwrap();
    assert_eq!((result.return_code, result.failed), (2, true));
    assert_eq!(result.stdout, "partial");
    let missing = run("no-such-command-here").unwrap();
    assert_eq!(missing.return_code, 127);
}

#[test]
fn ok_ret_codes_decide_success() {
    let t = require_env!();
    t.as_root();
    let _g = settings([("ok_ret_codes", serde_yaml::Value::from(vec![0, 3]))]).unwrap();
    assert!(run("exit 3").unwrap().succeeded());
}

#[test]
fn guards_compose_into_the_command() {
    let t = require_env!();
    t.as_root();
    run("mkdir -p /tmp/dfab-guards/inner").unwrap();
    let _cd = cd("/tmp/dfab-guards");
    let _cd2 = cd("inner");
    let _prefix = prefix("export FROM_PREFIX=yes");
    let _env = shell_env([("GREETING", "hello \"world\" $HOME")]);
    let _path = path("/opt/dfab-bin", "append");
    let result = run("pwd; echo $FROM_PREFIX; echo \"$GREETING\"; echo $PATH").unwrap();
    let lines: Vec<&str> = result.stdout.lines().map(str::trim_end).collect();
    assert_eq!(lines[0], "/tmp/dfab-guards/inner");
    assert_eq!(lines[1], "yes");
    assert_eq!(lines[2], "hello \"world\" $HOME");
    assert!(lines[3].ends_with(":/opt/dfab-bin"), "{}", lines[3]);
}

#[test]
fn without_pty_stderr_is_separate() {
    let t = require_env!();
    t.as_root();
    let options = RunOptions {
        pty: Some(false),
        combine_stderr: Some(false),
        ..RunOptions::default()
    };
    let result = run_with("echo out; echo err >&2", &options).unwrap();
    assert_eq!(
        (result.stdout.as_str(), result.stderr.as_str()),
        ("out", "err")
    );
    let merged = run_with(
        "echo out; echo err >&2",
        &RunOptions {
            pty: Some(false),
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert!(merged.stdout.contains("out") && merged.stdout.contains("err"));
    assert_eq!(merged.stderr, "");
}

#[test]
fn standard_input_and_timeouts() {
    let t = require_env!();
    t.as_root();
    let options = RunOptions {
        pty: Some(false),
        stdin: Some(b"line one\nline two\n".to_vec()),
        ..RunOptions::default()
    };
    assert_eq!(run_with("wc -l", &options).unwrap().stdout, "2");
    let slow = RunOptions {
        timeout: Some(1),
        ..RunOptions::default()
    };
    assert_eq!(
        run_with("sleep 5", &slow).unwrap_err().to_string(),
        "Command failed to finish in 1 seconds"
    );
}

#[task(name = "hostname_of")]
fn hostname_of() -> anyhow::Result<String> {
    Ok(run("echo $SSH_CONNECTION | cut -d' ' -f3")?.stdout)
}

#[test]
fn parallel_run_on_several_host_strings() {
    let t = require_env!();
    t.as_root();
    let mut hosts = vec![
        format!("root@127.0.0.1:{}", t.port),
        format!("root@localhost:{}", t.port),
    ];
    if t.ipv6 {
        hosts.push(format!("root@[::1]:{}", t.port));
    }
    env_mut(|e| {
        e.host_string = None;
        e.parallel = true;
    });
    let hosts_ref: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let results = execute("ssh_run.hostname_of", &hosts_ref).unwrap();
    assert_eq!(results.len(), hosts.len());
    for host in &hosts {
        let seen = results[host].to_string();
        assert!(seen == "127.0.0.1" || seen == "::1", "{host}: {seen}");
    }
}

#[test]
fn quiet_returns_failures_instead_of_aborting() {
    let t = require_env!();
    t.as_root();
    let options = RunOptions {
        quiet: true,
        ..RunOptions::default()
    };
    let result = run_with("echo hidden; exit 5", &options).unwrap();
    assert_eq!((result.stdout.as_str(), result.return_code), ("hidden", 5));
}
