//! Fabric's command-line options, parsed with clap and reported in optparse's words.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches};

use super::completion::{CompletedOption, Shell};
use super::Command as Request;
use crate::env::{parse_value, Env, EnvError, EnvValue};

/// The usage line printed by `--help` and before option errors.
pub const USAGE: &str =
    "Usage: dfab [options] <command>[:arg1,arg2=val2,host=foo,hosts='h1;h2',...] ...";

/// What follows an option on the command line; clap checks it before anything runs.
#[derive(Clone, Copy, Debug)]
enum Takes {
    /// Nothing: a flag.
    Nothing,
    /// One word.
    Text,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A whole number in this range (negative numbers are values, so `-t -5` is a bad timeout, not an option).
    Number(u64, u64),
    /// One word, and the option may be given again (`-i`, `--set`).
    Repeated,
}

/// How an option changes the env, or that the runner reads it itself.
#[derive(Clone, Copy, Debug)]
enum Update {
    /// A flag sets its key.
    Flag(fn(&mut Env)),
    /// A value converts to its key's type and sets it, or says what was expected.
    Value(fn(&mut Env, &str) -> Result<(), EnvError>),
    /// Steers the run (help, lists, `--set`, output levels): read from [`Options`], not copied into the env.
    Runner,
}

/// One option: its names, what follows it, how it applies, and its help.
#[derive(Debug)]
struct Spec {
    short: Option<char>,
    long: Option<&'static str>,
    /// clap's id for it: the env key it sets, or the runner's name for it.
    id: &'static str,
    takes: Takes,
    update: Update,
    metavar: &'static str,
    help: &'static str,
}

/// Converts `value` to the type of the env key `key` and stores it in `slot`.
fn set<T: EnvValue>(slot: &mut T, key: &str, value: &str) -> Result<(), EnvError> {
    *slot = parse_value(key, value)?;
    Ok(())
}

use Takes::*;
use Update::*;

/// Every option, in the order of Fabric's `--help`.
const SPECS: &[Spec] = &[
    Spec {
        short: Some('h'),
        long: Some("help"),
        id: "help",
        takes: Nothing,
        update: Runner,
        metavar: "",
        help: "show this help message and exit",
    },
    Spec {
        short: Some('d'),
        long: Some("display"),
        id: "display",
        takes: Text,
        update: Runner,
        metavar: "NAME",
        help: "print detailed info about command NAME",
    },
    Spec {
        short: Some('F'),
        long: Some("list-format"),
        id: "list_format",
        takes: Choice(&["short", "normal", "nested"]),
        update: Runner,
        metavar: "FORMAT",
        help: "formats --list, choices: short, normal, nested",
    },
    Spec {
        short: Some('I'),
        long: Some("initial-password-prompt"),
        id: "initial_password_prompt",
        takes: Nothing,
        update: Runner,
        metavar: "",
        help: "Force password prompt up-front",
    },
    Spec {
        short: None,
        long: Some("initial-sudo-password-prompt"),
        id: "initial_sudo_password_prompt",
        takes: Nothing,
        update: Runner,
        metavar: "",
        help: "Force sudo password prompt up-front",
    },
    Spec {
        short: Some('l'),
        long: Some("list"),
        id: "list",
        takes: Nothing,
        update: Runner,
        metavar: "",
        help: "print list of possible commands and exit",
    },
    Spec {
        short: None,
        long: Some("set"),
        id: "set",
        takes: Repeated,
        update: Runner,
        metavar: "KEY=VALUE,...",
        help: "comma separated KEY=VALUE pairs to set Fab env vars",
    },
    Spec {
        short: None,
        long: Some("shortlist"),
        id: "shortlist",
        takes: Nothing,
        update: Runner,
        metavar: "",
        help: "alias for -F short --list",
    },
    Spec {
        short: Some('V'),
        long: Some("version"),
        id: "version",
        takes: Nothing,
        update: Runner,
        metavar: "",
        help: "show program's version number and exit",
    },
    Spec {
        short: Some('a'),
        long: Some("no_agent"),
        id: "no_agent",
        takes: Nothing,
        update: Flag(|e| e.no_agent = true),
        metavar: "",
        help: "don't use the running SSH agent",
    },
    Spec {
        short: Some('A'),
        long: Some("forward-agent"),
        id: "forward_agent",
        takes: Nothing,
        update: Flag(|e| e.forward_agent = true),
        metavar: "",
        help: "forward local agent to remote end",
    },
    Spec {
        short: None,
        long: Some("abort-on-prompts"),
        id: "abort_on_prompts",
        takes: Nothing,
        update: Flag(|e| e.abort_on_prompts = true),
        metavar: "",
        help: "abort instead of prompting (for password, host, etc)",
    },
    Spec {
        short: Some('c'),
        long: Some("config"),
        id: "rcfile",
        takes: Text,
        update: Value(|e, v| set(&mut e.rcfile, "rcfile", v)),
        metavar: "PATH",
        help: "specify location of config file to use",
    },
    Spec {
        short: None,
        long: Some("colorize-errors"),
        id: "colorize_errors",
        takes: Nothing,
        update: Flag(|e| e.colorize_errors = true),
        metavar: "",
        help: "Color error output",
    },
    Spec {
        short: None,
        long: Some("completions"),
        id: "completions",
        takes: Choice(&["bash", "zsh", "fish"]),
        update: Runner,
        metavar: "SHELL",
        help: "print a completion script for tasks and options, choices: bash, zsh, fish",
    },
    Spec {
        short: Some('D'),
        long: Some("disable-known-hosts"),
        id: "disable_known_hosts",
        takes: Nothing,
        update: Flag(|e| e.disable_known_hosts = true),
        metavar: "",
        help: "do not load user known_hosts file",
    },
    Spec {
        short: Some('e'),
        long: Some("eagerly-disconnect"),
        id: "eagerly_disconnect",
        takes: Nothing,
        update: Flag(|e| e.eagerly_disconnect = true),
        metavar: "",
        help: "disconnect from hosts as soon as possible",
    },
    Spec {
        short: Some('f'),
        long: Some("fabfile"),
        id: "fabfile",
        takes: Text,
        update: Value(|e, v| set(&mut e.fabfile, "fabfile", v)),
        metavar: "PATH",
        help: "fabfile to build and run, e.g. '../other/fabfile.rs' (dfab launcher)",
    },
    Spec {
        short: Some('g'),
        long: Some("gateway"),
        id: "gateway",
        takes: Text,
        update: Value(|e, v| set(&mut e.gateway, "gateway", v)),
        metavar: "HOST",
        help: "gateway host to connect through",
    },
    Spec {
        short: None,
        long: Some("gss-auth"),
        id: "gss_auth",
        takes: Nothing,
        update: Flag(|e| e.gss_auth = true),
        metavar: "",
        help: "Use GSS-API authentication",
    },
    Spec {
        short: None,
        long: Some("gss-deleg"),
        id: "gss_deleg",
        takes: Nothing,
        update: Flag(|e| e.gss_deleg = true),
        metavar: "",
        help: "Delegate GSS-API client credentials or not",
    },
    Spec {
        short: None,
        long: Some("gss-kex"),
        id: "gss_kex",
        takes: Nothing,
        update: Flag(|e| e.gss_kex = true),
        metavar: "",
        help: "Perform GSS-API Key Exchange and user authentication",
    },
    Spec {
        short: None,
        long: Some("hide"),
        id: "hide",
        takes: Text,
        update: Runner,
        metavar: "LEVELS",
        help: "comma-separated list of output levels to hide",
    },
    Spec {
        short: Some('H'),
        long: Some("hosts"),
        id: "hosts",
        takes: Text,
        update: Value(|e, v| set(&mut e.hosts, "hosts", v)),
        metavar: "HOSTS",
        help: "comma-separated list of hosts to operate on",
    },
    Spec {
        short: Some('i'),
        long: None,
        id: "key_filename",
        takes: Repeated,
        update: Value(|e, v| {
            e.key_filename.push(v.to_owned());
            Ok(())
        }),
        metavar: "PATH",
        help: "path to SSH private key file. May be repeated.",
    },
    Spec {
        short: Some('k'),
        long: Some("no-keys"),
        id: "no_keys",
        takes: Nothing,
        update: Flag(|e| e.no_keys = true),
        metavar: "",
        help: "don't load private key files from ~/.ssh/",
    },
    Spec {
        short: None,
        long: Some("keepalive"),
        id: "keepalive",
        takes: Number(0, u64::MAX),
        update: Value(|e, v| set(&mut e.keepalive, "keepalive", v)),
        metavar: "N",
        help: "enables a keepalive every N seconds",
    },
    Spec {
        short: None,
        long: Some("linewise"),
        id: "linewise",
        takes: Nothing,
        update: Flag(|e| e.linewise = true),
        metavar: "",
        help: "print line-by-line instead of byte-by-byte",
    },
    Spec {
        short: Some('n'),
        long: Some("connection-attempts"),
        id: "connection_attempts",
        takes: Number(0, u64::MAX),
        update: Value(|e, v| set(&mut e.connection_attempts, "connection_attempts", v)),
        metavar: "M",
        help: "make M attempts to connect before giving up",
    },
    Spec {
        short: None,
        long: Some("no-pty"),
        id: "always_use_pty",
        takes: Nothing,
        update: Flag(|e| e.always_use_pty = false),
        metavar: "",
        help: "do not use pseudo-terminal in run/sudo",
    },
    Spec {
        short: Some('p'),
        long: Some("password"),
        id: "password",
        takes: Text,
        update: Value(|e, v| set(&mut e.password, "password", v)),
        metavar: "PASSWORD",
        help: "password for use with authentication and/or sudo",
    },
    Spec {
        short: Some('P'),
        long: Some("parallel"),
        id: "parallel",
        takes: Nothing,
        update: Flag(|e| e.parallel = true),
        metavar: "",
        help: "default to parallel execution method",
    },
    Spec {
        short: None,
        long: Some("port"),
        id: "port",
        takes: Number(1, 65535),
        update: Value(|e, v| set(&mut e.port, "port", v)),
        metavar: "PORT",
        help: "SSH connection port",
    },
    Spec {
        short: Some('r'),
        long: Some("reject-unknown-hosts"),
        id: "reject_unknown_hosts",
        takes: Nothing,
        update: Flag(|e| e.reject_unknown_hosts = true),
        metavar: "",
        help: "reject unknown hosts",
    },
    Spec {
        short: None,
        long: Some("sudo-password"),
        id: "sudo_password",
        takes: Text,
        update: Value(|e, v| set(&mut e.sudo_password, "sudo_password", v)),
        metavar: "SUDO_PASSWORD",
        help: "password for use with sudo only",
    },
    Spec {
        short: None,
        long: Some("system-known-hosts"),
        id: "system_known_hosts",
        takes: Text,
        update: Value(|e, v| set(&mut e.system_known_hosts, "system_known_hosts", v)),
        metavar: "SYSTEM_KNOWN_HOSTS",
        help: "load system known_hosts file before reading user known_hosts",
    },
    Spec {
        short: Some('R'),
        long: Some("roles"),
        id: "roles",
        takes: Text,
        update: Value(|e, v| set(&mut e.roles, "roles", v)),
        metavar: "ROLES",
        help: "comma-separated list of roles to operate on",
    },
    Spec {
        short: Some('s'),
        long: Some("shell"),
        id: "shell",
        takes: Text,
        update: Value(|e, v| set(&mut e.shell, "shell", v)),
        metavar: "SHELL",
        help: "specify a new shell, defaults to '/bin/bash -l -c'",
    },
    Spec {
        short: None,
        long: Some("show"),
        id: "show",
        takes: Text,
        update: Runner,
        metavar: "LEVELS",
        help: "comma-separated list of output levels to show",
    },
    Spec {
        short: None,
        long: Some("skip-bad-hosts"),
        id: "skip_bad_hosts",
        takes: Nothing,
        update: Flag(|e| e.skip_bad_hosts = true),
        metavar: "",
        help: "skip over hosts that can't be reached",
    },
    Spec {
        short: None,
        long: Some("skip-unknown-tasks"),
        id: "skip_unknown_tasks",
        takes: Nothing,
        update: Flag(|e| e.skip_unknown_tasks = true),
        metavar: "",
        help: "skip over unknown tasks",
    },
    Spec {
        short: None,
        long: Some("ssh-config-path"),
        id: "ssh_config_path",
        takes: Text,
        update: Value(|e, v| set(&mut e.ssh_config_path, "ssh_config_path", v)),
        metavar: "PATH",
        help: "Path to SSH config file",
    },
    Spec {
        short: Some('t'),
        long: Some("timeout"),
        id: "timeout",
        takes: Number(0, u64::MAX),
        update: Value(|e, v| set(&mut e.timeout, "timeout", v)),
        metavar: "N",
        help: "set connection timeout to N seconds",
    },
    Spec {
        short: Some('T'),
        long: Some("command-timeout"),
        id: "command_timeout",
        takes: Number(0, u64::MAX),
        update: Value(|e, v| set(&mut e.command_timeout, "command_timeout", v)),
        metavar: "N",
        help: "set remote command timeout to N seconds",
    },
    Spec {
        short: Some('u'),
        long: Some("user"),
        id: "user",
        takes: Text,
        update: Value(|e, v| set(&mut e.user, "user", v)),
        metavar: "USER",
        help: "username to use when connecting to remote hosts",
    },
    Spec {
        short: None,
        long: Some("use-ssh-config"),
        id: "use_ssh_config",
        takes: Nothing,
        update: Flag(|e| e.use_ssh_config = true),
        metavar: "",
        help: "read ~/.ssh/config (or --ssh-config-path) for host settings",
    },
    Spec {
        short: Some('w'),
        long: Some("warn-only"),
        id: "warn_only",
        takes: Nothing,
        update: Flag(|e| e.warn_only = true),
        metavar: "",
        help: "warn, instead of abort, when commands fail",
    },
    Spec {
        short: Some('x'),
        long: Some("exclude-hosts"),
        id: "exclude_hosts",
        takes: Text,
        update: Value(|e, v| set(&mut e.exclude_hosts, "exclude_hosts", v)),
        metavar: "HOSTS",
        help: "comma-separated list of hosts to exclude",
    },
    Spec {
        short: Some('z'),
        long: Some("pool-size"),
        id: "pool_size",
        takes: Number(0, u64::MAX),
        update: Value(|e, v| set(&mut e.pool_size, "pool_size", v)),
        metavar: "INT",
        help: "number of concurrent processes to use in parallel mode",
    },
];

/// The `--list` formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    /// Names with first docstring lines.
    Normal,
    /// Names only.
    Short,
    /// A tree of namespaces.
    Nested,
}

/// The parsed command line.
#[derive(Debug)]
pub struct Options {
    /// What the command line asks for.
    pub command: Request,
    /// Task strings, in order.
    pub tasks: Vec<String>,
    /// Words after `--`.
    pub remainder: Vec<String>,
    /// `-F`, or short for `--shortlist`: the format of `--list` and of the list shown after an unknown task.
    pub list_format: ListFormat,
    /// `-f PATH`, the fabfile the `dfab` launcher builds.
    pub fabfile: Option<String>,
    /// `-I`.
    pub initial_password_prompt: bool,
    /// `--initial-sudo-password-prompt`.
    pub initial_sudo_password_prompt: bool,
    /// Every `--set` value, in order.
    pub set: Vec<String>,
    /// `--hide` levels.
    pub hide: Vec<String>,
    /// `--show` levels.
    pub show: Vec<String>,
    /// `-c`, when given.
    pub rcfile: Option<String>,
    /// Env-backed options given on the command line, each with its value (`None` for flags).
    given: Vec<(&'static Spec, Option<String>)>,
}

/// Every option as shell completion shows it.
pub fn completed_options() -> Vec<CompletedOption> {
    SPECS
        .iter()
        .map(|s| CompletedOption {
            short: s.short,
            long: s.long,
            takes_value: s.takes_value(),
            help: s.help,
        })
        .collect()
}

/// A command line that cannot be parsed: the reason in optparse's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Spec {
    /// Whether a value follows the option on the command line.
    fn takes_value(&self) -> bool {
        !matches!(self.takes, Nothing)
    }
}

fn command() -> clap::Command {
    let mut cmd = clap::Command::new("dfab")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .infer_long_args(true)
        .arg(Arg::new("tasks").num_args(0..).action(ArgAction::Append))
        .arg(
            Arg::new("remainder")
                .num_args(0..)
                .last(true)
                .action(ArgAction::Append),
        );
    for s in SPECS {
        let mut arg = Arg::new(s.id).value_name(if s.metavar.is_empty() {
            "VALUE"
        } else {
            s.metavar
        });
        if let Some(c) = s.short {
            arg = arg.short(c);
        }
        if let Some(l) = s.long {
            arg = arg.long(l);
        }
        arg = match s.takes {
            Nothing => arg.action(ArgAction::SetTrue),
            Text => arg.action(ArgAction::Set),
            Choice(words) => arg.action(ArgAction::Set).value_parser(words.to_vec()),
            Number(min, max) => arg
                .action(ArgAction::Set)
                .allow_negative_numbers(true)
                .value_parser(clap::value_parser!(u64).range(min..=max)),
            Repeated => arg.action(ArgAction::Append),
        };
        cmd = cmd.arg(arg);
    }
    cmd
}

/// The option a clap context names (`--timeout <N>` or `-t`), as optparse would name it.
fn option_name(context: Option<&ContextValue>) -> String {
    let text = match context {
        Some(ContextValue::String(s)) => s.clone(),
        _ => return "option".into(),
    };
    let word = text.split([' ', '=']).next().unwrap_or_default();
    let long = word.trim_start_matches('-');
    SPECS
        .iter()
        .find(|s| {
            s.long == Some(long)
                || (word.len() == 2 && s.short.map(String::from).as_deref() == Some(long))
        })
        .map(|s| match (s.short, s.long) {
            (Some(c), _) => format!("-{c}"),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => word.to_owned(),
        })
        .unwrap_or_else(|| word.to_owned())
}

/// The option named `-x` or `--name`.
fn spec_named(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| match name.strip_prefix("--") {
        Some(long) => s.long == Some(long),
        None => s.short.is_some_and(|c| name == format!("-{c}")),
    })
}

/// The long options an abbreviation such as `--p` could mean, when it could mean more than one (optparse's list).
fn ambiguous(word: &str) -> Option<String> {
    let prefix = word.strip_prefix("--")?.split('=').next()?;
    let mut candidates: Vec<String> = SPECS
        .iter()
        .filter_map(|s| s.long)
        .filter(|l| l.starts_with(prefix))
        .map(|l| format!("--{l}"))
        .collect();
    candidates.sort();
    candidates.dedup();
    (candidates.len() > 1).then(|| candidates.join(", "))
}

fn usage_error(err: clap::Error) -> UsageError {
    let context = |kind| err.get(kind);
    let value = match context(ContextKind::InvalidValue) {
        Some(ContextValue::String(v)) => v.clone(),
        _ => String::new(),
    };
    let arg = context(ContextKind::InvalidArg);
    let reason = match err.kind() {
        ErrorKind::UnknownArgument => match arg {
            Some(ContextValue::String(a)) => match ambiguous(a) {
                Some(candidates) => format!("ambiguous option: {a} ({candidates}?)"),
                None => format!("no such option: {a}"),
            },
            _ => "no such option".into(),
        },
        ErrorKind::InvalidValue if value.is_empty() => {
            format!("{} option requires an argument", option_name(arg))
        }
        ErrorKind::InvalidValue => {
            let choices = match context(ContextKind::ValidValue) {
                Some(ContextValue::Strings(valid)) => valid
                    .iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            format!(
                "option {}: invalid choice: '{value}' (choose from {choices})",
                option_name(arg)
            )
        }
        ErrorKind::ValueValidation => {
            match spec_named(&option_name(arg)).map(|s| (s.takes, s.metavar)) {
                Some((Number(min, max), metavar)) if max < u64::MAX => format!(
                    "option {}: invalid {}: '{value}' (expected {min} to {max})",
                    option_name(arg),
                    metavar.to_lowercase()
                ),
                _ => format!(
                    "option {}: invalid integer value: '{value}'",
                    option_name(arg)
                ),
            }
        }
        ErrorKind::NoEquals
        | ErrorKind::TooManyValues
        | ErrorKind::TooFewValues
        | ErrorKind::WrongNumberOfValues => {
            format!("{} option requires an argument", option_name(arg))
        }
        ErrorKind::ArgumentConflict => format!("{} option given twice", option_name(arg)),
        _ => err
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned(),
    };
    UsageError(reason)
}

fn strings(matches: &ArgMatches, id: &str) -> Vec<String> {
    matches
        .get_many::<String>(id)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

fn split_levels(values: Vec<String>) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::to_owned)
        .collect()
}

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse<I, T>(args: I) -> Result<Options, UsageError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let program = std::iter::once(OsString::from("dfab"));
        let matches = command()
            .try_get_matches_from(program.chain(args.into_iter().map(Into::into)))
            .map_err(usage_error)?;
        let flag = |id: &str| matches.get_flag(id);
        let one = |id: &str| matches.get_one::<String>(id).cloned();
        let shortlist = flag("shortlist");
        let list_format = match (shortlist, one("list_format").as_deref()) {
            (true, _) | (false, Some("short")) => ListFormat::Short,
            (false, Some("nested")) => ListFormat::Nested,
            _ => ListFormat::Normal,
        };
        let mut given = Vec::new();
        for s in SPECS {
            if matches!(s.update, Runner)
                || matches.value_source(s.id) != Some(ValueSource::CommandLine)
            {
                continue;
            }
            match s.takes {
                Nothing => given.push((s, None)),
                Number(..) => given.push((s, matches.get_one::<u64>(s.id).map(u64::to_string))),
                Text | Choice(_) => given.push((s, one(s.id))),
                Repeated => given.extend(strings(&matches, s.id).into_iter().map(|v| (s, Some(v)))),
            }
        }
        // The first of these the command line holds decides what the run does.
        let command = if flag("help") {
            Request::Help
        } else if flag("version") {
            Request::Version
        } else if let Some(shell) = one("completions").and_then(|name| Shell::from_name(&name)) {
            Request::Completions(shell)
        } else if flag("list") || shortlist {
            Request::List(list_format)
        } else if let Some(name) = one("display") {
            Request::Display(name)
        } else {
            Request::Run
        };
        Ok(Options {
            command,
            tasks: strings(&matches, "tasks"),
            remainder: strings(&matches, "remainder"),
            list_format,
            fabfile: one("fabfile"),
            initial_password_prompt: flag("initial_password_prompt"),
            initial_sudo_password_prompt: flag("initial_sudo_password_prompt"),
            set: strings(&matches, "set"),
            hide: split_levels(strings(&matches, "hide")),
            show: split_levels(strings(&matches, "show")),
            rcfile: one("rcfile"),
            given,
        })
    }

    /// Copies the options given on the command line into the env (options not given leave it alone).
    pub fn apply_to(&self, env: &mut Env) -> Result<(), EnvError> {
        for (s, value) in &self.given {
            match (s.update, value) {
                (Flag(update), _) => update(env),
                (Value(update), Some(value)) => update(env, value)?,
                (Value(_), None) | (Runner, _) => {}
            }
        }
        Ok(())
    }
}

/// Fabric's `--help` text, in optparse's layout.
pub fn help_text() -> String {
    let mut out = format!("{USAGE}\n\nOptions:\n");
    for s in SPECS {
        let mut names = Vec::new();
        let value = |prefix: &str, sep: &str| {
            if !s.takes_value() {
                prefix.to_owned()
            } else {
                format!("{prefix}{sep}{}", s.metavar)
            }
        };
        if let Some(c) = s.short {
            names.push(value(&format!("-{c}"), " "));
        }
        if let Some(l) = s.long {
            names.push(value(&format!("--{l}"), "="));
        }
        let names = names.join(", ");
        if names.len() <= 20 {
            out.push_str(&format!("  {names:<22}{}\n", s.help));
        } else {
            out.push_str(&format!("  {names}\n{:24}{}\n", "", s.help));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().copied()).map_err(|e| e.0)
    }

    #[test]
    fn options_and_tasks_mix_freely() {
        let o = parse(&[
            "deploy", "-H", "web1", "restart", "-wP", "--", "uname", "-a",
        ])
        .unwrap();
        assert_eq!(o.tasks, ["deploy", "restart"]);
        assert_eq!(o.remainder, ["uname", "-a"]);
        let mut env = Env::default();
        o.apply_to(&mut env).unwrap();
        assert_eq!(env.hosts, ["web1"]);
        assert!(env.warn_only && env.parallel);
    }

    #[test]
    fn abbreviations_attached_values_and_repeats() {
        let o = parse(&[
            "--par",
            "-Hweb1,web2",
            "--timeout=5",
            "-i",
            "a",
            "-ib",
            "--no-pty",
            "--no_agent",
        ])
        .unwrap();
        let mut env = Env::default();
        o.apply_to(&mut env).unwrap();
        assert!(env.parallel && env.no_agent && !env.always_use_pty);
        assert_eq!(env.hosts, ["web1", "web2"]);
        assert_eq!(env.timeout, 5);
        assert_eq!(env.key_filename, ["a", "b"]);
    }

    #[test]
    fn list_formats() {
        let command = |args: &[&str]| parse(args).unwrap().command;
        assert_eq!(
            command(&["--shortlist", "-F", "nested"]),
            Request::List(ListFormat::Short)
        );
        assert_eq!(
            command(&["-l", "-F", "nested"]),
            Request::List(ListFormat::Nested)
        );
        assert_eq!(command(&["-l"]), Request::List(ListFormat::Normal));
        assert_eq!(command(&["-l", "-h"]), Request::Help);
        assert_eq!(
            command(&["-d", "deploy", "-l"]),
            Request::List(ListFormat::Normal)
        );
        assert_eq!(
            command(&["-d", "deploy"]),
            Request::Display("deploy".into())
        );
        assert_eq!(command(&["deploy"]), Request::Run);
    }

    #[test]
    fn errors_in_optparse_words() {
        assert_eq!(parse(&["--foo"]).unwrap_err(), "no such option: --foo");
        assert_eq!(
            parse(&["--p"]).unwrap_err(),
            "ambiguous option: --p (--parallel, --password, --pool-size, --port?)"
        );
        assert_eq!(
            parse(&["-t", "-5"]).unwrap_err(),
            "option -t: invalid integer value: '-5'"
        );
        assert_eq!(
            parse(&["--port=99999"]).unwrap_err(),
            "option --port: invalid port: '99999' (expected 1 to 65535)"
        );
        assert_eq!(
            parse(&["-H"]).unwrap_err(),
            "-H option requires an argument"
        );
        assert_eq!(
            parse(&["-t", "x"]).unwrap_err(),
            "option -t: invalid integer value: 'x'"
        );
        assert_eq!(
            parse(&["-F", "x"]).unwrap_err(),
            "option -F: invalid choice: 'x' (choose from 'short', 'normal', 'nested')"
        );
    }

    #[test]
    fn help_lists_every_option() {
        let help = help_text();
        assert!(help.starts_with(USAGE));
        assert!(help.contains("  -h, --help            show this help message and exit\n"));
        assert!(help
            .contains("  -i PATH               path to SSH private key file. May be repeated.\n"));
        assert!(help.contains("  -d NAME, --display=NAME\n                        print detailed info about command NAME\n"));
    }
}
