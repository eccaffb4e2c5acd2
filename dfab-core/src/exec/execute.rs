//! Running one task on its hosts: serially, or in parallel on a bounded pool of threads.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::anyhow;

use super::host_list::{resolve_hosts, HostSource};
use crate::cli::TaskString;
use crate::docker::is_unreachable;
use crate::env::{env, env_mut, replace_env, Env};
use crate::ssh::HostString;
use crate::task::{BoundArgs, ExecMode, Registry, TaskDef, TaskValue};
use crate::term::output;

/// What a task returned, per host string (`<local-only>` when it ran without hosts).
pub type Results = BTreeMap<String, TaskValue>;

/// The key of the result of a task that ran without hosts, as in Fabric.
pub const LOCAL_ONLY: &str = "<local-only>";

/// A task resolved from a task string, its arguments bound and checked.
#[derive(Clone)]
pub struct Invocation {
    /// The name as typed.
    pub name: String,
    /// The task.
    pub def: &'static TaskDef,
    /// The parsed task string.
    pub call: TaskString,
    /// The arguments, bound to the task's parameters.
    pub args: BoundArgs,
}

impl Invocation {
    /// Binds a parsed task string to its task, checking argument count, names, values and host strings.
    pub fn new(def: &'static TaskDef, call: TaskString) -> anyhow::Result<Invocation> {
        let args = BoundArgs::bind(&call.name, def.params, &call.args, &call.kwargs)?;
        let hosts = call.hosts.iter().flatten().map(String::as_str);
        for host in hosts.chain(def.hosts.iter().copied()) {
            HostString::parse(host.trim())?;
        }
        Ok(Invocation {
            name: call.name.clone(),
            def,
            call,
            args,
        })
    }
}

/// The registry of this binary, built once.
pub fn registry() -> anyhow::Result<&'static Registry> {
    static REGISTRY: OnceLock<Result<Registry, crate::task::RegistryError>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| Registry::collect(BUILTINS.get().map(Vec::as_slice)))
        .as_ref()
        .map_err(|e| anyhow!(e.clone()))
}

/// The built-in namespaces a fabfile offers (`Runner::builtins`); all of them when never set.
static BUILTINS: OnceLock<Vec<&'static str>> = OnceLock::new();

/// Chooses the built-in namespaces the registry offers; only before the registry is first used.
pub(crate) fn offer_builtins(namespaces: &[&'static str]) {
    let _first_choice_wins = BUILTINS.set(namespaces.to_vec());
}

/// Runs a task given as a task string (`"deploy:prod,branch=main"`) on `hosts`, or on the hosts its task
/// string, attribute or the env name when `hosts` is empty; returns each host's value, like Fabric's `execute`.
///
/// ```
/// use dfab_core::prelude::*;
///
/// /// Name the release.
/// #[task]
/// fn build(#[arg(default = "fast")] mode: String) -> anyhow::Result<String> {
///     Ok(format!("release-{mode}"))
/// }
///
/// // No hosts anywhere: the task runs once, locally.
/// let results = execute("build:mode=full", &[])?;
/// assert_eq!(results["<local-only>"].to_string(), "release-full");
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn execute(task: &str, hosts: &[&str]) -> anyhow::Result<Results> {
    let mut call = TaskString::parse(task);
    if !hosts.is_empty() {
        call.hosts = Some(hosts.iter().map(|h| h.to_string()).collect());
    }
    let Some(def) = registry()?.resolve(&call.name) else {
        let message = format!("'{}' is not callable or a valid task name", call.name);
        if env().skip_unknown_tasks {
            output::warn(&message);
            return Ok(Results::new());
        }
        anyhow::bail!(message);
    };
    // A task that calls execute() still needs its hosts afterwards: nothing is released during the nested run.
    let last = LAST_TASK.swap(false, Ordering::SeqCst);
    let outcome = Invocation::new(def, call).and_then(|invocation| run(&invocation));
    LAST_TASK.store(last, Ordering::SeqCst);
    outcome
}

/// Results of `runs_once` tasks, by task.
fn once_results() -> &'static Mutex<Vec<(usize, TaskValue)>> {
    static ONCE: OnceLock<Mutex<Vec<(usize, TaskValue)>>> = OnceLock::new();
    ONCE.get_or_init(Mutex::default)
}

fn once_key(def: &'static TaskDef) -> usize {
    def as *const TaskDef as usize
}

/// Runs an invocation on its hosts.
pub fn run(invocation: &Invocation) -> anyhow::Result<Results> {
    let env = env();
    let def = invocation.def;
    let per_task = HostSource {
        hosts: invocation.call.hosts.clone().unwrap_or_default(),
        roles: invocation.call.roles.clone().unwrap_or_default(),
    };
    let attribute = HostSource {
        hosts: def.hosts.iter().map(|h| h.to_string()).collect(),
        roles: def.roles.iter().map(|r| r.to_string()).collect(),
    };
    let list = resolve_hosts(&per_task, &attribute, &invocation.call.exclude_hosts, &env)?;
    for host in &list.hosts {
        HostString::parse(host)?;
    }
    env_mut(|e| {
        e.all_hosts = list.hosts.clone();
        e.effective_roles = list.roles.clone();
    });

    let parallel = !def.runs_once
        && (def.mode == ExecMode::Parallel || (env.parallel && def.mode != ExecMode::Serial));
    if list.hosts.is_empty() {
        let value = run_on(invocation, None)?;
        return Ok(Results::from([(LOCAL_ONLY.to_owned(), value)]));
    }
    if parallel && list.hosts.len() > 1 {
        return run_parallel(invocation, &list.hosts, &env);
    }
    let mut results = Results::new();
    for host in &list.hosts {
        let value = match run_on(invocation, Some(host)) {
            Err(error) if env.skip_bad_hosts && is_unreachable(&error) => skipped(&error),
            other => other?,
        };
        results.insert(host.clone(), value);
    }
    Ok(results)
}

/// Warns about an unreachable host; its result is the error's text, as Fabric keeps the error.
fn skipped(error: &anyhow::Error) -> TaskValue {
    let text = output::error_message(error);
    output::warn(&text);
    TaskValue::new(text)
}

/// Sets the per-host keys (`host_string`, `host`, `user`, `port`, `command`) for one host.
fn host_env(env: &mut Env, name: &str, host: Option<&str>) {
    env.command = name.to_owned();
    env.host_string = host.map(str::to_owned);
    let parsed = host.and_then(|h| HostString::parse(h).ok());
    env.host = parsed.as_ref().map(|p| p.host.clone());
    if let Some(parsed) = parsed {
        if let Some(user) = parsed.user {
            env.user = user;
        }
        if let Some(port) = parsed.port {
            env.port = port.to_string();
        }
    }
}

/// Runs the task once, on `host` or locally; the per-host keys are restored afterwards.
fn run_on(invocation: &Invocation, host: Option<&str>) -> anyhow::Result<TaskValue> {
    let def = invocation.def;
    if def.runs_once {
        let cached = once_results()
            .lock()
            .map_err(|_| anyhow!("a runs_once task panicked earlier"))?
            .iter()
            .find(|(key, _)| *key == once_key(def))
            .map(|(_, value)| value.clone());
        if let Some(value) = cached {
            return Ok(value);
        }
    }
    let saved = env();
    env_mut(|e| host_env(e, &invocation.name, host));
    let set = env();
    if host.is_some() {
        output::running(&format!("Executing task '{}'", invocation.name));
    }
    let result = invoke(invocation);
    if let Some(host) = host {
        disconnect_eagerly(host);
    }
    // The per-host keys revert unless the task changed them itself, as in Fabric: `fab vagrant setup`, whose first
    // task sets `env.user` for the rest of the run, depends on it. Everything else a task sets stays anyway.
    env_mut(|e| {
        if e.command == set.command {
            e.command = saved.command.clone();
        }
        if e.host_string == set.host_string {
            e.host_string = saved.host_string.clone();
        }
        if e.host == set.host {
            e.host = saved.host.clone();
        }
        if e.user == set.user {
            e.user = saved.user.clone();
        }
        if e.port == set.port {
            e.port = saved.port.clone();
        }
    });
    // After the env is the run's again: the `Disconnecting from …` line names users as Fabric does.
    if let Some(host) = host {
        release_after_task(host);
    }
    let value = result?;
    if def.runs_once {
        if let Ok(mut once) = once_results().lock() {
            once.push((once_key(def), value.clone()));
        }
    }
    Ok(value)
}

/// Whether the task now running is the run's last: each host's connection can go as soon as it is done there.
static LAST_TASK: AtomicBool = AtomicBool::new(false);

/// Marks the task about to run as the run's last (the runner knows; `execute()` from a task never is).
pub(crate) fn set_last_task(last: bool) {
    LAST_TASK.store(last, Ordering::SeqCst);
}

/// After a task on `host` with `-e`: disconnect now, with Fabric's line (in the host's env, as Fabric prints it).
fn disconnect_eagerly(host: &str) {
    if env().eagerly_disconnect {
        crate::docker::forget(host);
        crate::ssh::disconnect(host);
    }
}

/// After a task on `host`: its Docker clients go (a later task negotiates again, one request), since their idle
/// HTTP connections hold channels and buffers; after the run's last task its connection goes too, quietly (the
/// line comes at the end), so that a fleet run holds sockets and threads only for the hosts still at work.
fn release_after_task(host: &str) {
    crate::docker::forget(host);
    if LAST_TASK.load(Ordering::SeqCst) {
        crate::ssh::release(host);
    }
}

/// Calls the task function, turning a panic into an error that names the task.
fn invoke(invocation: &Invocation) -> anyhow::Result<TaskValue> {
    let args = invocation.args.clone();
    catch_unwind(AssertUnwindSafe(|| (invocation.def.invoke)(args))).unwrap_or_else(|panic| {
        let text = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(anyhow!("task '{}' panicked: {text}", invocation.name))
    })
}

fn run_parallel(
    invocation: &Invocation,
    hosts: &[String],
    env: &Arc<Env>,
) -> anyhow::Result<Results> {
    let def = invocation.def;
    let pool = match (def.pool_size, env.pool_size) {
        (0, 0) => hosts.len(),
        (0, n) | (n, _) => n,
    }
    .clamp(1, hosts.len());
    for host in hosts {
        if env.output.running {
            output::write(
                output::runner_stream(),
                &format!("[{host}] Executing task '{}'\n", invocation.name),
            );
        }
    }
    let mut worker_env = (**env).clone();
    worker_env.parallel = true;
    worker_env.linewise = true;
    let worker_env = Arc::new(worker_env);
    let outcomes = crate::pool::map_in_order(pool, &worker_env, hosts, |host| {
        env_mut(|e| host_env(e, &invocation.name, Some(host)));
        let outcome = match invoke(invocation) {
            Err(error) if worker_env.skip_bad_hosts && is_unreachable(&error) => {
                Ok(skipped(&error))
            }
            other => other,
        };
        if let Err(error) = &outcome {
            output::abort(&output::error_message(error));
        }
        disconnect_eagerly(host);
        replace_env(Arc::clone(&worker_env));
        release_after_task(host);
        outcome
    });
    let mut results = Results::new();
    let mut failed = false;
    for (host, outcome) in hosts.iter().zip(outcomes) {
        match outcome {
            Ok(Ok(value)) => {
                results.insert(host.clone(), value);
            }
            Ok(Err(_)) => failed = true,
            Err(panicked) => {
                output::abort(&format!("a parallel worker panicked: {}", panicked.0));
                failed = true;
            }
        }
    }
    if failed {
        let message = format!(
            "One or more hosts failed while executing task '{}'",
            invocation.name
        );
        if !env.warn_only {
            anyhow::bail!(message);
        }
        output::warn(&message);
    }
    Ok(results)
}
