//! The example fabfile: tasks in the style of a small deployment, run with `cargo run -- <tasks>`.

use dfab_core::prelude::*;

mod db;

/// Greet someone from the current host.
///
/// Shows how a task takes a defaulted argument: `hello`, `hello:Ada` or `hello:name=Ada`.
#[task(alias = "hi")]
fn hello(#[arg(default = "world")] name: String) {
    puts(&format!("Hello, {name}!"));
}

/// Ship a branch: `deploy:main,restart=yes,replicas=3`.
#[task]
fn deploy(
    #[arg(default = "main")] branch: String,
    #[arg(default = false)] restart: bool,
    #[arg(default = 1)] replicas: u32,
    tag: Option<String>,
) -> anyhow::Result<String> {
    let _dir = lcd(&std::env::temp_dir().display().to_string());
    // The branch is user input: quoted, `deploy:'main;touch /tmp/x'` stays one word and runs nothing else.
    let built = local_capture(&format!("echo built {}", shell_quote(&branch)))?;
    let tag = tag.unwrap_or_else(|| "latest".into());
    puts(&format!(
        "{built} as {tag}, {replicas} replica(s), restart={restart}"
    ));
    Ok(format!("{branch}@{tag}"))
}

/// Announce the release on each host, all hosts at once (locally, for a dry run).
#[task(parallel)]
fn announce() -> anyhow::Result<()> {
    local("echo \"release ready\"; echo \"load: 0.00\"")?;
    Ok(())
}

/// Show how long each host has been up, all hosts at once.
#[task(parallel)]
fn uptime() -> anyhow::Result<CommandResult> {
    run("uptime")
}

/// Upload files: `upload:dist/*.tar.gz,/srv/releases`.
#[task]
fn upload(
    local: String,
    remote: String,
    #[arg(default = false)] use_sudo: bool,
) -> anyhow::Result<Transferred> {
    put_with(
        &local,
        &remote,
        &PutOptions {
            use_sudo,
            ..PutOptions::default()
        },
    )
}

/// Download files into `HOST/PATH` (or a template): `fetch:/var/log/app.log`.
#[task]
fn fetch(remote: String, #[arg(default = "")] local: String) -> anyhow::Result<Transferred> {
    get(&remote, &local)
}

/// Open an interactive shell on each host.
#[task]
fn shell() -> anyhow::Result<()> {
    open_shell(None)
}

/// Ask for a release name and show it.
#[task]
fn ask() -> anyhow::Result<String> {
    let name = prompt_with("Release name?", "r1", |answer| {
        if answer.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(answer.to_owned())
        } else {
            Err(format!("'{answer}' is not alphanumeric"))
        }
    })?;
    puts(&format!("releasing {name}"));
    Ok(name)
}

/// Build the release once, however many hosts the run has.
#[task(runs_once)]
fn build() -> anyhow::Result<String> {
    puts("building the release");
    Ok("release-1".into())
}

/// Show env keys named as arguments: `show_env:user,port,deploy_env`.
#[task]
fn show_env(keys: Args) {
    let env = env();
    for key in keys.iter() {
        let value = env
            .get(key)
            .map(|v| serde_value(&v))
            .unwrap_or_else(|| "<unset>".into());
        puts(&format!("{key} = {value}"));
    }
}

fn serde_value(value: &dfab_core::env::Value) -> String {
    match value {
        dfab_core::env::Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// Run `build` on every host through `execute` and report the results.
#[task]
fn release() -> anyhow::Result<()> {
    let results = execute("build", &[])?;
    for (host, value) in &results {
        puts(&format!("{host}: {value}"));
    }
    Ok(())
}

/// Pass keyword options through to a tool: `tool:a,b,verbose=yes`.
#[task]
fn tool(first: String, rest: Args, options: Kwargs) {
    puts(&format!(
        "first={first} rest={:?} options={:?}",
        rest.as_slice(),
        options.0
    ));
}

/// Fail on purpose, to show the abort output.
#[task]
fn fail() -> anyhow::Result<()> {
    local("exit 3")?;
    Ok(())
}

/// Run the Docker command line against each host's engine through a local tunnel: `docker_cli:ps`.
///
/// dfab's own tasks never need a local port; this is for tools that only speak to a TCP address.
#[task]
fn docker_cli(command: String) -> anyhow::Result<CommandResult> {
    let tunnel = dfab_core::docker::local_tunnel()?;
    local(&format!("docker -H {} {command}", tunnel.url()))
}

/// Count the containers on each host through the Docker API, as fabfile code does with `docker_client()`.
#[task]
fn count_containers() -> anyhow::Result<usize> {
    let client = dfab_core::docker::docker_client()?;
    let containers = client.call("listing containers", |docker| async move {
        docker.list_containers(None).await
    })?;
    puts(&format!("{} running container(s)", containers.len()));
    Ok(containers.len())
}

/// Publish web content to the example map's host directory and start its web server: `publish:site/`.
///
/// On a host (`-H`) the files go up with `put` through a temporary path and `sudo`; locally they are copied.
#[task]
fn publish(content: String) -> anyhow::Result<()> {
    let root = match env().get("example_root") {
        Some(dfab_core::env::Value::String(root)) => root,
        _ => anyhow::bail!("example_root is not set: --set example_root=/srv/example"),
    };
    let www = format!("{root}/www");
    if env().host_string.is_some() {
        sudo(&format!("mkdir -p {www}"))?;
        let sent = put_with(
            &format!("{content}/*"),
            &www,
            &PutOptions {
                use_sudo: true,
                ..PutOptions::default()
            },
        )?;
        puts(&format!("{} file(s) published", sent.paths.len()));
    } else {
        let _from = lcd(&content);
        local(&format!("mkdir -p {www} && cp -R . {www}/"))?;
    }
    dfab_core::actions::container_fabric().startup("example_map.web_server")
}

fn main() -> std::process::ExitCode {
    // The counterpart of a Python fabfile's module-level `env.roledefs = {...}`.
    Runner::new()
        .doc("Example tasks for dfab.")
        .setup(|env| {
            env.roledefs
                .insert("web".into(), vec!["web1".into(), "web2".into()]);
            env.roledefs.insert("db".into(), vec!["db1".into()]);
            // `env.docker_maps = …` and the values the map's `!env` tags read; `--set` still wins.
            if env.docker_maps.is_empty() {
                env.docker_maps =
                    vec![concat!(env!("CARGO_MANIFEST_DIR"), "/example_map.yaml").into()];
            }
            if env.docker_clients.is_none() {
                env.docker_clients =
                    Some(concat!(env!("CARGO_MANIFEST_DIR"), "/example_clients.yaml").into());
            }
            for (key, value) in [("example_root", "/tmp/dfab-example"), ("app_mode", "demo")] {
                if env.get(key).is_none() {
                    env.set_str(key, value)
                        .expect("a free env key takes any string");
                }
            }
        })
        .run()
}
