//! The runner: Fabric's start-up sequence from command line to exit status.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Context};

use super::execute::{registry, run, Invocation};
use crate::cli::{
    apply_rcfile, apply_set, help_text, indented_names, render_display, render_list, Command,
    Options, TaskString, USAGE,
};
use crate::env::{env, env_mut, replace_env, Env, EnvChange, Level};
use crate::task::{
    check_param, BoundArgs, ExecMode, FromArg, ParamKind, ParamSpec, Registry, TaskDef, TaskValue,
};
use crate::term::output::{self, Stream};

/// Runs a fabfile binary: options, env, task list, tasks. Build it in `main`, or use [`crate::main()`].
///
/// ```no_run
/// use dfab_core::prelude::*;
///
/// fn main() -> std::process::ExitCode {
///     Runner::new()
///         .doc("Tasks for the shop backend.")
///         // A Python fabfile's module-level `env.roledefs = {…}`.
///         .setup(|env| {
///             env.roledefs.insert("web".into(), vec!["web1".into(), "web2".into()]);
///         })
///         .run()
/// }
/// ```
#[derive(Default)]
pub struct Runner {
    doc: Option<&'static str>,
    setup: Option<EnvChange>,
    /// The name the program was started under, for `--completions`.
    program: Option<String>,
}

impl Runner {
    /// A runner with no fabfile docstring and no setup.
    pub fn new() -> Runner {
        Runner::default()
    }

    /// The fabfile's docstring, shown at the top of `--list`.
    pub fn doc(mut self, doc: &'static str) -> Runner {
        self.doc = Some(doc);
        self
    }

    /// Offers only these of dfab's built-in task namespaces (`"docker"`, `"actions"`); `&[]` hides them all from
    /// `--list` and the command line. Without this call every built-in task is offered. A fabfile's own task of the
    /// same name as a built-in one replaces it either way.
    pub fn builtins(self, namespaces: &[&'static str]) -> Runner {
        super::execute::offer_builtins(namespaces);
        self
    }

    /// Code that fills the env before tasks run, like a Python fabfile's module-level assignments
    /// (`env.roledefs = …`); it sees, and may override, the command line.
    pub fn setup(mut self, setup: impl FnOnce(&mut Env) + 'static) -> Runner {
        self.setup = Some(Box::new(setup));
        self
    }

    /// Runs with the process's arguments and returns the exit status.
    pub fn run(mut self) -> ExitCode {
        raise_open_file_limit();
        let mut args = std::env::args_os();
        self.program = args
            .next()
            .map(std::path::PathBuf::from)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
        self.run_with(args)
    }

    /// Runs with the given arguments (without the program name) and returns the exit status.
    pub fn run_with(self, args: impl IntoIterator<Item = OsString>) -> ExitCode {
        let status = self.start(args).unwrap_or_else(|error| {
            output::abort(&output::error_message(&error));
            ExitCode::FAILURE
        });
        crate::docker::release_exports();
        crate::ssh::disconnect_all();
        status
    }

    /// Does what the command line asks; an error is the run's abort (exit status 1).
    fn start(mut self, args: impl IntoIterator<Item = OsString>) -> anyhow::Result<ExitCode> {
        let options = match Options::parse(args) {
            Ok(options) => options,
            Err(error) => {
                output::write(
                    Stream::Stderr,
                    &format!("{USAGE}\n\ndfab: error: {error}\n"),
                );
                return Ok(ExitCode::from(2));
            }
        };
        match &options.command {
            Command::Help => output::write(Stream::Stdout, &help_text()),
            Command::Version => output::write(
                Stream::Stdout,
                &format!("dfab {}\n", env!("CARGO_PKG_VERSION")),
            ),
            Command::Completions(shell) => output::write(
                Stream::Stdout,
                &crate::cli::completion_script(
                    *shell,
                    self.program.as_deref().unwrap_or("dfab"),
                    &crate::cli::completed_options(),
                ),
            ),
            Command::List(format) => {
                let registry = self.prepare(&options)?;
                must_have_tasks(registry, &options)?;
                output::write(
                    Stream::Stdout,
                    &render_list(registry, *format, self.doc, list_width()),
                );
            }
            Command::Display(name) => {
                let registry = self.prepare(&options)?;
                must_have_tasks(registry, &options)?;
                output::write(Stream::Stdout, &display(registry, name)?);
            }
            Command::Run => {
                let registry = self.prepare(&options)?;
                if options.tasks.is_empty()
                    && options.remainder.is_empty()
                    && registry.top_default().is_none()
                {
                    output::write(Stream::Stdout, &help_text());
                    return Ok(ExitCode::FAILURE);
                }
                must_have_tasks(registry, &options)?;
                return run_tasks(&options, registry);
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Builds the run's env from the command line and the fabfile's setup, and returns the tasks on offer.
    fn prepare(&mut self, options: &Options) -> anyhow::Result<&'static Registry> {
        replace_env(Arc::new(build_env(options)?));
        let registry = registry()?;
        if let Some(setup) = self.setup.take() {
            env_mut(setup);
        }
        Ok(registry)
    }
}

/// Fabric's abort for a fabfile without tasks (unless only `-- command` is asked for).
fn must_have_tasks(registry: &Registry, options: &Options) -> anyhow::Result<()> {
    if registry.is_empty() && options.remainder.is_empty() {
        anyhow::bail!("Fabfile didn't contain any commands!");
    }
    Ok(())
}

/// `-d NAME`: the task's signature and docstring.
fn display(registry: &Registry, name: &str) -> anyhow::Result<String> {
    let def = registry.resolve(name).ok_or_else(|| {
        anyhow!(
            "Task '{name}' does not appear to exist. Valid task names:\n{}",
            indented_names(registry)
        )
    })?;
    let mut shown = render_display(name, def);
    if registry.replaces_builtin(name) {
        shown.insert_str(
            shown.len() - 1,
            "    (This task replaces dfab's built-in task of the same name.)\n",
        );
    }
    Ok(shown)
}

/// Checks every task string, then runs the tasks in order; `Done.` at the end.
fn run_tasks(options: &Options, registry: &Registry) -> anyhow::Result<ExitCode> {
    let Some(plan) = plan(options, registry)? else {
        return Ok(ExitCode::FAILURE);
    };
    let json = plan.iter().any(|step| {
        matches!(step, Step::Run(invocation)
            if invocation.call.kwargs.0.iter().any(|(k, v)| k == "format" && v == "json"))
    });
    if json {
        output::reserve_stdout_for_json();
    }
    prompt_passwords(options)?;
    let count = plan.len();
    for (index, step) in plan.into_iter().enumerate() {
        match step {
            Step::Run(invocation) => {
                super::execute::set_last_task(index + 1 == count);
                let outcome = run(&invocation);
                super::execute::set_last_task(false);
                outcome?;
            }
            Step::Unknown(name) => {
                output::warn(&format!("'{name}' is not callable or a valid task name"))
            }
        }
    }
    output::status("\nDone.");
    Ok(ExitCode::SUCCESS)
}

/// One entry of the run: a checked invocation, or an unknown name skipped under `--skip-unknown-tasks`.
enum Step {
    Run(Box<Invocation>),
    Unknown(String),
}

/// Resolves and checks every task string before anything runs; `None` when unknown tasks were reported (and the
/// task list shown) instead.
fn plan(options: &Options, registry: &Registry) -> anyhow::Result<Option<Vec<Step>>> {
    let env = env();
    let mut calls: Vec<TaskString> = options.tasks.iter().map(|t| TaskString::parse(t)).collect();
    if calls.is_empty() && options.remainder.is_empty() {
        if let Some(def) = registry.top_default() {
            calls.push(TaskString {
                name: def.name.to_owned(),
                ..TaskString::default()
            });
        }
    }
    let unknown: Vec<&str> = calls
        .iter()
        .filter(|c| registry.resolve(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();
    if !unknown.is_empty() && !env.skip_unknown_tasks {
        let names: String = unknown.iter().map(|n| format!("    {n}\n")).collect();
        output::warn(&format!("Command(s) not found:\n{}", names.trim_end()));
        output::write(
            Stream::Stdout,
            &render_list(registry, options.list_format, None, list_width()),
        );
        return Ok(None);
    }
    for host in env.hosts.iter().chain(&env.exclude_hosts) {
        crate::ssh::HostString::parse(host)
            .with_context(|| "in the global host list (-H, -x, env.hosts)")?;
    }
    let mut steps = calls
        .into_iter()
        .map(|call| match registry.resolve(&call.name) {
            Some(def) => Ok(Step::Run(Box::new(Invocation::new(def, call)?))),
            None => Ok(Step::Unknown(call.name)),
        })
        .collect::<anyhow::Result<Vec<Step>>>()?;
    if !options.remainder.is_empty() {
        let call = TaskString {
            name: REMAINDER.name.to_owned(),
            args: vec![options.remainder.join(" ")],
            ..TaskString::default()
        };
        steps.push(Step::Run(Box::new(Invocation::new(&REMAINDER, call)?)));
    }
    Ok(Some(steps))
}

/// `dfab -- cmd`: the words after `--`, run with `run()` on every host, after the named tasks.
static REMAINDER: TaskDef = TaskDef {
    name: "<remainder>",
    module_path: "dfab",
    namespace: Some(""),
    aliases: &[],
    is_default: false,
    doc: "Runs the words after `--` on every host.",
    params: &[ParamSpec {
        name: "command",
        kind: ParamKind::Named {
            default: None,
            check: check_param::<String>,
            show_default: <String as FromArg>::show_default,
        },
    }],
    hosts: &[],
    roles: &[],
    runs_once: false,
    mode: ExecMode::Default,
    pool_size: 0,
    invoke: run_remainder,
};

fn run_remainder(mut args: BoundArgs) -> anyhow::Result<TaskValue> {
    let command: String = args.named(0)?;
    crate::ssh::run(&command).map(TaskValue::new)
}

/// Defaults, then the rc file, then `--set`, then the options given: the precedence Fabric documents.
fn build_env(options: &Options) -> anyhow::Result<Env> {
    let mut env = Env::default();
    let rcfile = options.rcfile.clone().unwrap_or_else(|| env.rcfile.clone());
    apply_rcfile(
        &crate::input::expand_home(&rcfile),
        options.rcfile.is_some(),
        &mut env,
    )?;
    for set in &options.set {
        apply_set(set, &mut env)
            .with_context(|| format!("in --set '{}'", crate::cli::redacted(set)))?;
    }
    options.apply_to(&mut env)?;
    for (names, on) in [(&options.show, true), (&options.hide, false)] {
        for name in names.iter().filter(|n| !n.is_empty()) {
            let level = Level::from_name(name).ok_or_else(|| {
                anyhow!(
                    "unknown output level '{name}' (expected one of: {})",
                    Level::NAMES.join(", ")
                )
            })?;
            env.output.set(level, on);
        }
    }
    env.tasks = options.tasks.clone();
    env.real_fabfile = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Ok(env)
}

/// `-I` and `--initial-sudo-password-prompt`.
fn prompt_passwords(options: &Options) -> anyhow::Result<()> {
    for (wanted, key, what) in [
        (options.initial_password_prompt, "password", "env.password"),
        (
            options.initial_sudo_password_prompt,
            "sudo_password",
            "env.sudo_password",
        ),
    ] {
        if !wanted {
            continue;
        }
        // Not `prompt::secret`: that refuses in parallel runs, and `-I` exists so that parallel runs have a password.
        if env().abort_on_prompts {
            anyhow::bail!(
                "Needed to prompt for {what} (host: None), but abort-on-prompts was set to True"
            );
        }
        let value = rpassword::prompt_password(format!("Initial value for {what}: "))
            .with_context(|| format!("cannot read {what} from the terminal"))?;
        env_mut(|e| e.set_str(key, &value))?;
    }
    Ok(())
}

/// The terminal's width for `--list`, 80 when stdout is not a terminal.
fn list_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, _)| usize::from(w.0))
        .filter(|w| *w > 0)
        .unwrap_or(80)
}

/// Raises the soft limit on open files to the hard limit, as servers and build tools do: each host of a `-P` run
/// holds a connection, its channels' socket pairs and a Docker client, and the usual soft limit of 1024 ran out
/// near host 117. Left as it is when the system refuses.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let _ignored = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
}
