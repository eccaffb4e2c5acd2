//! `actions.script` and `actions.single_cmd`: run a script or a command in a fresh container of a configuration,
//! with its dependencies up, then report the exit code and the log, and clean up
//! (docs/docker-map-semantics.md#scripts-and-single-commands).

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bollard::query_parameters::{
    CreateContainerOptions, LogsOptions, RemoveContainerOptions, StartContainerOptions,
    WaitContainerOptions,
};
use futures_util::StreamExt;

use super::engine::run_on_engine;
use super::{create_body, Action, Observed, PlanOptions};
use crate::docker::docker_client;
use crate::env::env;
use crate::map::{container_name, ContainerMap, Graph, Item};
use crate::ssh::{get_with, put_with, quote, run_with, GetOptions, PutOptions, RunOptions};
use crate::term::output;

/// Where the uploaded files appear inside the container.
const SCRIPT_DIR: &str = "/tmp/script_run";

/// What to run in the container.
pub(crate) enum Job<'a> {
    /// A local script file, or its whole directory with `upload_dir`.
    Script { path: &'a Path, upload_dir: bool },
    /// A command line, run by `/bin/sh -c` in the script directory.
    Command(&'a str),
}

/// How the container ended.
pub(crate) struct Outcome {
    pub(crate) exit_code: i64,
    pub(crate) log: String,
}

fn quiet() -> RunOptions {
    RunOptions {
        quiet: true,
        pty: Some(false),
        ..RunOptions::default()
    }
}

/// Runs `job` in a new container of `target` (its dependencies started first); downloads the files the job left
/// in the script directory into `download_to` when given.
pub(crate) fn run_job(
    map: &ContainerMap,
    target: &Item,
    job: Job<'_>,
    wait: Duration,
    download_to: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let Item::Container { config, instance } = target else {
        bail!("a script runs in a container configuration");
    };
    let env = env();
    let graph = Graph::new(map, &env)?;
    let client = docker_client()?;
    let name = container_name(&map.name, config, instance.as_deref());
    if Observed::load(&client)?.state(map, target).presence != super::Presence::Absent {
        bail!("container '{name}' already exists; shut it down first (actions.shutdown) to run a script in it");
    }
    // Dependencies come up as for startup, with its checks; the target itself is made here with the job's mount
    // and command.
    run_on_engine(
        Action::Startup,
        (map, &graph),
        graph.direct(target),
        None,
        false,
        &PlanOptions::default(),
    )?;

    // A directory on the engine's host for the files, local or remote.
    let remote = env.host_string.is_some();
    let work = if remote {
        run_with("mktemp -d /tmp/dfab-script.XXXXXX", &quiet())?
            .stdout
            .trim()
            .to_owned()
    } else {
        // Made exclusively under an unpredictable name with mode 0700, so that nothing planted in the temporary
        // directory beforehand (a symlink, say) can redirect the script. Kept until the removal below.
        let dir = tempfile::Builder::new()
            .prefix("dfab-script.")
            .tempdir()
            .context("cannot create a temporary directory for the script")?
            .keep();
        dir.display().to_string()
    };
    let result = (|| -> anyhow::Result<Outcome> {
        let command = match &job {
            Job::Script { path, upload_dir } => {
                let file = path
                    .file_name()
                    .ok_or_else(|| anyhow!("'{}' is not a script file", path.display()))?
                    .to_string_lossy()
                    .into_owned();
                let source = if *upload_dir {
                    path.parent()
                        .filter(|p| !p.as_os_str().is_empty())
                        .unwrap_or(Path::new("."))
                } else {
                    path
                };
                crate::input::check_regular(path, "script")?;
                let pattern = if *upload_dir {
                    format!("{}/*", source.display())
                } else {
                    source.display().to_string()
                };
                if remote {
                    put_with(&pattern, &format!("{work}/"), &PutOptions::default())?;
                } else {
                    copy_into(source, *upload_dir, Path::new(&work))?;
                }
                vec!["/bin/sh".to_owned(), format!("{SCRIPT_DIR}/{file}")]
            }
            Job::Command(line) => vec!["/bin/sh".to_owned(), "-c".to_owned(), (*line).to_owned()],
        };
        let image = graph.image(target);
        let mut body = create_body(map, config, instance.as_deref(), &image, None, &env)?;
        let (shown, limit) = (command.join(" "), env.capture_limit);
        body.cmd = Some(command);
        body.entrypoint = Some(Vec::new());
        body.working_dir = Some(SCRIPT_DIR.to_owned());
        // The job's output is read back from its logs, multiplexed: without a terminal, so that the framing is the
        // same whatever the configuration says (a TTY's raw text read as frames would lose bytes).
        body.tty = Some(false);
        let host = body.host_config.get_or_insert_with(Default::default);
        host.binds
            .get_or_insert_with(Vec::new)
            .push(format!("{work}:{SCRIPT_DIR}:rw"));
        output::running(&format!("docker: Running the job in container '{name}'."));
        let container = name.clone();
        let docker = client.docker();
        let outcome = client.block_on(async move {
            docker
                .create_container(
                    Some(CreateContainerOptions {
                        name: Some(container.clone()),
                        ..Default::default()
                    }),
                    body,
                )
                .await?;
            let ran = async {
                docker
                    .start_container(&container, None::<StartContainerOptions>)
                    .await?;
                let mut waiting = docker.wait_container(&container, None::<WaitContainerOptions>);
                let mut code = 0;
                let waited = tokio::time::timeout(wait, async {
                    while let Some(status) = waiting.next().await {
                        match status {
                            Ok(status) => code = status.status_code,
                            Err(bollard::errors::Error::DockerContainerWaitError {
                                code: c,
                                ..
                            }) => code = c,
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(())
                })
                .await;
                // Kept to the capture limit, as run() keeps a command's output: a job may print without end.
                let mut log = String::new();
                let mut over = false;
                let mut lines = docker.logs(
                    &container,
                    Some(LogsOptions {
                        stdout: true,
                        stderr: true,
                        tail: "all".into(),
                        ..Default::default()
                    }),
                );
                while let Some(chunk) = lines.next().await {
                    let chunk = chunk?.to_string();
                    if (log.len() + chunk.len()) as u64 > limit {
                        over = true;
                        break;
                    }
                    log.push_str(&chunk);
                }
                Ok::<_, bollard::errors::Error>((waited.map(|r| r.map(|()| code)), log, over))
            }
            .await;
            let _ = docker
                .remove_container(
                    &container,
                    Some(RemoveContainerOptions {
                        force: true,
                        ..super::execute::without_leftovers()
                    }),
                )
                .await;
            ran
        })?;
        let (waited, log, over) =
            outcome.map_err(|e| anyhow!(client.explain("running the job", e)))?;
        if over {
            return Err(crate::command::CaptureLimit {
                host: client.host().to_owned(),
                command: shown,
                stream: "its log",
                limit,
            }
            .into());
        }
        let exit_code = match waited {
            Ok(Ok(code)) => code,
            Ok(Err(e)) => return Err(anyhow!(client.explain("running the job", e))),
            Err(_) => bail!(
                "the job in '{name}' did not finish within {} s",
                wait.as_secs()
            ),
        };
        if let Some(local) = download_to {
            if remote {
                get_with(
                    &format!("{work}/*"),
                    &format!("{}/%(basename)s", local.display()),
                    &GetOptions::default(),
                )?;
            } else {
                copy_into(Path::new(&work), true, local)?;
            }
        }
        Ok(Outcome { exit_code, log })
    })();
    if remote {
        let _ = run_with(&format!("rm -rf {}", quote(&work)), &quiet());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

/// Copies a file, or every file of a directory (`whole_dir`), into `to`.
fn copy_into(from: &Path, whole_dir: bool, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let files: Vec<std::path::PathBuf> = if whole_dir {
        std::fs::read_dir(from)
            .with_context(|| format!("cannot read {}", from.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect()
    } else {
        vec![from.to_path_buf()]
    };
    for file in files {
        let target = to.join(file.file_name().unwrap_or_default());
        std::fs::copy(&file, &target)
            .with_context(|| format!("cannot copy {} to {}", file.display(), target.display()))?;
    }
    Ok(())
}
