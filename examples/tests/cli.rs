//! End-to-end tests of the runner through the example fabfile binary.

use dfab_test_support::{abort, assert_snapshot};

use crate::dfab;

/// The task list in each format, against `tests/snapshots/` (rewritten by `DFAB_SNAPSHOTS=overwrite`, so that a new
/// task changes one reviewed file instead of three hand-copied lists).
#[test]
fn list_formats() {
    let formats: [(&[&str], &str); 4] = [
        (&["--list"], "list.txt"),
        (&["-l", "-F", "short"], "list_short.txt"),
        (&["--shortlist"], "list_short.txt"),
        (&["-F", "nested", "-l"], "list_nested.txt"),
    ];
    for (args, file) in formats {
        let listed = dfab().args(args).stderr("").run();
        assert_snapshot(&snapshots().join(file), &listed);
    }
}

fn snapshots() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// A task list as the snapshot holds it.
fn listed(file: &str) -> String {
    std::fs::read_to_string(snapshots().join(file)).expect("the snapshot is readable")
}

#[test]
fn display_a_task() {
    dfab()
        .args(&["-d", "hello"])
        .stdout(
            "Displaying detailed information for task 'hello':\n\n    Greet someone from the current host.\n    \n    \
             Shows how a task takes a defaulted argument: `hello`, `hello:Ada` or `hello:name=Ada`.\n    \n    \
             Arguments: name='world'\n\n",
        )
        .run();
    dfab()
        .args(&["-d", "deploy"])
        .stdout_has("    Arguments: branch='main', restart=False, replicas=1, tag=None\n")
        .run();
    // A one-line docstring is followed by the arguments directly; Args and Kwargs show as *args and **kwargs.
    dfab()
        .args(&["-d", "tool"])
        .stdout(
            "Displaying detailed information for task 'tool':\n\n    Pass keyword options through to a tool: \
             `tool:a,b,verbose=yes`.\n    Arguments: first, *rest, **options\n\n",
        )
        .run();
    dfab()
        .args(&["-d", "nope"])
        .stderr(&abort(&format!(
            "Task 'nope' does not appear to exist. Valid task names:\n{}",
            listed("list_short.txt")
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )))
        .status(1)
        .run();
}

#[test]
fn version_help_and_nothing_to_do() {
    dfab()
        .args(&["-V"])
        .stdout(&format!("dfab {}\n", env!("CARGO_PKG_VERSION")))
        .run();
    dfab()
        .args(&["--help"])
        .stdout_has("Usage: dfab [options] <command>[:arg1,arg2=val2,host=foo,hosts='h1;h2',...] ...\n\nOptions:\n")
        .stdout_has("  -P, --parallel        default to parallel execution method\n")
        .run();
    dfab().stdout_has("Options:\n").status(1).run();
}

#[test]
fn several_tasks_run_in_order() {
    dfab()
        .args(&["hello", "hi:Ada", "db", "db.seed", "hello:name=Bo"])
        .stdout("Hello, world!\nHello, Ada!\nmigrating to head\nseeding\nHello, Bo!\n\nDone.\n")
        .stderr("")
        .run();
}

#[test]
fn typed_arguments_and_leftovers() {
    dfab()
        .args(&["deploy:dev,restart=yes,replicas=3,tag=v2"])
        .stdout_has("built dev as v2, 3 replica(s), restart=true\n")
        .run();
    // A task argument never runs as a command: the example quotes it for the shell.
    let marker = std::env::temp_dir().join(format!("dfab-injected-{}", std::process::id()));
    dfab()
        .args(&[&format!("deploy:main;touch {}", marker.display())])
        .stdout_has(&format!("built main;touch {} as latest", marker.display()))
        .run();
    assert!(!marker.exists(), "the argument ran as a command");
    dfab()
        .args(&["tool:eth0,True,a\\,b,k=a=b,v=x\\=y"])
        .stdout_has(
            "first=eth0 rest=[\"True\", \"a,b\"] options=[(\"k\", \"a=b\"), (\"v\", \"x=y\")]\n",
        )
        .run();
}

#[test]
fn host_lists_from_every_source() {
    let executing = |hosts: &[&str]| -> String {
        hosts
            .iter()
            .map(|h| format!("[{h}] Executing task 'hello'\n[{h}] Hello, world!\n"))
            .collect::<String>()
            + "\nDone.\n"
    };
    dfab()
        .args(&["-H", "a,b", "hello"])
        .stdout(&executing(&["a", "b"]))
        .run();
    dfab()
        .args(&["hello", "-H", "a,b,a", "-x", "b"])
        .stdout(&executing(&["a"]))
        .run();
    dfab()
        .args(&["-H", "a", "hello:host=c"])
        .stdout(&executing(&["c"]))
        .run();
    dfab()
        .args(&["hello:hosts=a;b;c,exclude_hosts=b"])
        .stdout(&executing(&["a", "c"]))
        .run();
    dfab()
        .args(&["hello:roles=web;db"])
        .stdout(&executing(&["web1", "web2", "db1"]))
        .run();
    dfab()
        .args(&["-R", "db", "-H", "x", "hello"])
        .stdout(&executing(&["x", "db1"]))
        .run();
    dfab()
        .args(&["-H", "deploy@[::1]:2222,user@web1:22", "show_env:host,user,port"])
        .stdout_has("[deploy@[::1]:2222] host = ::1\n[deploy@[::1]:2222] user = deploy\n[deploy@[::1]:2222] port = 2222\n")
        .stdout_has("[user@web1:22] host = web1\n[user@web1:22] user = user\n")
        .run();
    dfab()
        .args(&["hello:roles=cache"])
        .stderr(&abort(
            "The following specified roles do not exist:\n    cache",
        ))
        .status(1)
        .run();
}

#[test]
fn env_precedence_rc_then_set_then_options() {
    dfab()
        .rcfile("user = fromrc\n# comment\ndeploy_env = rc\ntimeout = 30\n")
        .args(&["show_env:user,deploy_env,timeout"])
        .stdout_has("user = fromrc\ndeploy_env = rc\ntimeout = Number(30)\n")
        .run();
    dfab()
        .rcfile("user = fromrc\n")
        .args(&[
            "--set",
            "user=fromset,deploy_env=staging,dry_run",
            "show_env:user,deploy_env,dry_run",
        ])
        .stdout_has("user = fromset\ndeploy_env = staging\ndry_run = Bool(true)\n")
        .run();
    dfab()
        .rcfile("user = fromrc\n")
        .args(&["--set", "user=fromset", "-u", "fromcli", "show_env:user"])
        .stdout_has("user = fromcli\n")
        .run();
}

#[test]
fn unknown_tasks() {
    dfab()
        .args(&["hello", "nope", "db.nope"])
        .stderr("\nWarning: Command(s) not found:\n    nope\n    db.nope\n\n")
        .stdout(listed("list.txt").trim_start_matches("Example tasks for dfab.\n\n"))
        .status(1)
        .run();
    dfab()
        .args(&["--skip-unknown-tasks", "nope", "hello"])
        .stderr("\nWarning: 'nope' is not callable or a valid task name\n\n")
        .stdout("Hello, world!\n\nDone.\n")
        .run();
}

#[test]
fn every_task_string_is_checked_before_the_first_runs() {
    let cases: &[(&str, &str)] = &[
        ("deploy:a,b,c,d,e", "task 'deploy' takes at most 4 arguments (5 given)"),
        (
            "deploy:colour=red",
            "task 'deploy' got an unexpected keyword argument 'colour' (it takes: branch, restart, replicas, tag)",
        ),
        ("deploy:x,branch=y", "task 'deploy' got multiple values for argument 'branch'"),
        (
            "deploy:replicas=many",
            "task 'deploy': invalid value 'many' for argument 'replicas': expected a whole number (0 to 4294967295)",
        ),
        (
            "deploy:restart=perhaps",
            "task 'deploy': invalid value 'perhaps' for argument 'restart': expected a boolean (true/false, yes/no, on/off, 1/0)",
        ),
        ("tool", "task 'tool' is missing its required argument 'first'"),
        ("hello:host=web1:x", "bad host string 'web1:x': the port must be a number from 1 to 65535"),
    ];
    for (task, message) in cases {
        dfab()
            .args(&["hello", task])
            .stdout("")
            .stderr(&abort(message))
            .status(1)
            .run();
    }
}

#[test]
fn bad_settings_and_options() {
    dfab()
        .args(&["-H", "web1:abc", "hello"])
        .stderr(&abort(
            "in the global host list (-H, -x, env.hosts): bad host string 'web1:abc': the port must be a number from 1 to 65535",
        ))
        .status(1)
        .run();
    dfab()
        .args(&["--set", "timeout=soon", "hello"])
        .stderr(&abort(
            "in --set 'timeout=soon': env key 'timeout' expects a whole number (0 to 18446744073709551615), not 'soon'",
        ))
        .status(1)
        .run();
    dfab()
        .args(&["-c", "/nonexistent/rc", "hello"])
        .stderr(&abort(
            "cannot read the rc file '/nonexistent/rc': No such file or directory (os error 2)",
        ))
        .status(1)
        .run();
    dfab()
        .rcfile("timeout = never\n")
        .args(&["hello"])
        .stderr_has("/.fabricrc:1: env key 'timeout' expects a whole number")
        .status(1)
        .run();
    dfab()
        .args(&["--hide", "loud", "hello"])
        .stderr(&abort(
            "unknown output level 'loud' (expected one of: status, aborts, warnings, running, stdout, stderr, user, \
             exceptions, debug, output, commands, everything)",
        ))
        .status(1)
        .run();
    let usage =
        "Usage: dfab [options] <command>[:arg1,arg2=val2,host=foo,hosts='h1;h2',...] ...\n\n";
    for (args, reason) in [
        (&["--foo"][..], "no such option: --foo"),
        (&["hello", "-H"][..], "-H option requires an argument"),
        (&["-t", "x"][..], "option -t: invalid integer value: 'x'"),
        (
            &["-F", "wide", "-l"][..],
            "option -F: invalid choice: 'wide' (choose from 'short', 'normal', 'nested')",
        ),
    ] {
        dfab()
            .args(args)
            .stdout("")
            .stderr(&format!("{usage}dfab: error: {reason}\n"))
            .status(2)
            .run();
    }
}

#[test]
fn failures_abort_or_warn() {
    dfab()
        .args(&["fail", "hello"])
        .stdout("[localhost] local: exit 3\n")
        .stderr(&abort(
            "local() encountered an error (return code 3) while executing 'exit 3'",
        ))
        .status(1)
        .run();
    dfab()
        .args(&["-w", "fail", "hello"])
        .stdout("[localhost] local: exit 3\nHello, world!\n\nDone.\n")
        .stderr(
            "\nWarning: local() encountered an error (return code 3) while executing 'exit 3'\n\n",
        )
        .run();
    dfab()
        .args(&["--hide", "running,aborts", "fail"])
        .stdout("")
        .stderr("")
        .status(1)
        .run();
}

#[test]
fn runs_once_and_execute_results() {
    dfab()
        .args(&["-H", "a,b", "release"])
        .stdout(
            "[a] Executing task 'release'\n[a] Executing task 'build'\n[a] building the release\n[a] a: release-1\n\
             [a] b: release-1\n[b] Executing task 'release'\n[b] a: release-1\n[b] b: release-1\n\nDone.\n",
        )
        .run();
}

#[test]
fn parallel_output_lines_are_whole_and_prefixed() {
    let hosts: Vec<String> = (0..24).map(|i| format!("h{i}")).collect();
    let stdout = dfab()
        .args(&["-z", "8", "-H", &hosts.join(","), "announce"])
        .stderr("")
        .run();
    let body = stdout.strip_suffix("\nDone.\n").expect("ends with Done.");
    let mut per_host = std::collections::BTreeMap::<&str, Vec<&str>>::new();
    for line in body.lines() {
        if line.starts_with("[localhost] local: ") {
            continue;
        }
        let (host, rest) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once("] "))
            .unwrap_or_else(|| panic!("unprefixed line {line:?}"));
        assert!(
            [
                "Executing task 'announce'",
                "out: release ready",
                "out: load: 0.00"
            ]
            .contains(&rest),
            "mixed line {line:?}"
        );
        per_host.entry(host).or_default().push(rest);
    }
    assert_eq!(per_host.len(), hosts.len());
    for (host, lines) in per_host {
        assert_eq!(
            lines,
            [
                "Executing task 'announce'",
                "out: release ready",
                "out: load: 0.00"
            ],
            "{host}"
        );
    }
}

/// `--completions bash` gives a script that completes the fabfile's task names (asked of the binary) and options.
#[test]
fn bash_completes_task_names_and_options() {
    let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_dfab-example"));
    let dir = binary.parent().expect("the binary's directory");
    let complete = |word: &str| {
        let script = format!(
            "eval \"$(dfab-example --completions bash)\"; COMP_WORDS=(dfab-example {word}); COMP_CWORD=1; \
             _dfab_example; echo \"${{COMPREPLY[@]}}\""
        );
        let output = std::process::Command::new("bash")
            .args(["-c", &script])
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .expect("bash");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    assert_eq!(complete("dep"), "deploy");
    assert_eq!(complete("actions.shut"), "actions.shutdown");
    assert_eq!(complete("--skip-b"), "--skip-bad-hosts");
    dfab()
        .args(&["--completions", "fish"])
        .stdout_has("complete -c dfab-example -f -a '(dfab-example --shortlist 2>/dev/null)'\n")
        .run();
    dfab()
        .args(&["--completions", "zsh"])
        .stdout_has("#compdef dfab-example\n")
        .run();
}

/// Secret values never appear in messages: passwords in `--set`, whatever else in it is wrong.
#[test]
fn secrets_stay_hidden() {
    for set in [
        "password=MARKER-1,timeout=bad",
        "sudo_password=MARKER-2,timeout=x",
        "sudo_passwords=MARKER-3",
        "docker_auth_configs=MARKER-4",
    ] {
        let stderr = dfab()
            .args(&["--set", set, "--list"])
            .status(1)
            .run_stderr();
        assert!(stderr.contains("Fatal error: in --set '"), "{stderr}");
        assert!(!stderr.contains("MARKER"), "{set}: {stderr}");
    }
}
