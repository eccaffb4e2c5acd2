//! Fabric's command-line options, parsed with clap and reported in optparse's words.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

use super::completion::{CompletedOption, Shell};
use crate::env::{Env, EnvError};

/// The usage line printed by `--help` and before option errors.
pub const USAGE: &str =
    "Usage: dfab [options] <command>[:arg1,arg2=val2,host=foo,hosts='h1;h2',...] ...";

/// How an option's value lands in the env.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Sets the key to true.
    Flag,
    /// Sets the key to false (`--no-pty`).
    NegatedFlag,
    /// Sets the key from a string.
    Value,
    /// Sets the key from an integer.
    Int,
    /// Appends to a list key (repeatable).
    Repeated,
    /// Steers the run; no env key of its own.
    Runner,
    /// Steers the run and takes a value.
    RunnerValue,
}

/// One option: its names, env key, kind, metavariable and help text.
#[derive(Debug)]
struct Spec {
    short: Option<char>,
    long: Option<&'static str>,
    key: &'static str,
    kind: Kind,
    metavar: &'static str,
    help: &'static str,
}

impl Spec {
    /// Whether a value follows the option on the command line.
    fn takes_value(&self) -> bool {
        !matches!(self.kind, Flag | NegatedFlag | Runner)
    }
}

const fn spec(
    short: Option<char>,
    long: Option<&'static str>,
    key: &'static str,
    kind: Kind,
    metavar: &'static str,
    help: &'static str,
) -> Spec {
    Spec {
        short,
        long,
        key,
        kind,
        metavar,
        help,
    }
}

use Kind::*;

/// Every option, in the order of Fabric's `--help`.
const SPECS: &[Spec] = &[
    spec(
        Some('h'),
        Some("help"),
        "help",
        Runner,
        "",
        "show this help message and exit",
    ),
    spec(
        Some('d'),
        Some("display"),
        "display",
        RunnerValue,
        "NAME",
        "print detailed info about command NAME",
    ),
    spec(
        Some('F'),
        Some("list-format"),
        "list_format",
        RunnerValue,
        "FORMAT",
        "formats --list, choices: short, normal, nested",
    ),
    spec(
        Some('I'),
        Some("initial-password-prompt"),
        "initial_password_prompt",
        Runner,
        "",
        "Force password prompt up-front",
    ),
    spec(
        None,
        Some("initial-sudo-password-prompt"),
        "initial_sudo_password_prompt",
        Runner,
        "",
        "Force sudo password prompt up-front",
    ),
    spec(
        Some('l'),
        Some("list"),
        "list",
        Runner,
        "",
        "print list of possible commands and exit",
    ),
    spec(
        None,
        Some("set"),
        "set",
        RunnerValue,
        "KEY=VALUE,...",
        "comma separated KEY=VALUE pairs to set Fab env vars",
    ),
    spec(
        None,
        Some("shortlist"),
        "shortlist",
        Runner,
        "",
        "alias for -F short --list",
    ),
    spec(
        Some('V'),
        Some("version"),
        "version",
        Runner,
        "",
        "show program's version number and exit",
    ),
    spec(
        Some('a'),
        Some("no_agent"),
        "no_agent",
        Flag,
        "",
        "don't use the running SSH agent",
    ),
    spec(
        Some('A'),
        Some("forward-agent"),
        "forward_agent",
        Flag,
        "",
        "forward local agent to remote end",
    ),
    spec(
        None,
        Some("abort-on-prompts"),
        "abort_on_prompts",
        Flag,
        "",
        "abort instead of prompting (for password, host, etc)",
    ),
    spec(
        Some('c'),
        Some("config"),
        "rcfile",
        Value,
        "PATH",
        "specify location of config file to use",
    ),
    spec(
        None,
        Some("colorize-errors"),
        "colorize_errors",
        Flag,
        "",
        "Color error output",
    ),
    spec(
        None,
        Some("completions"),
        "completions",
        RunnerValue,
        "SHELL",
        "print a completion script for tasks and options, choices: bash, zsh, fish",
    ),
    spec(
        Some('D'),
        Some("disable-known-hosts"),
        "disable_known_hosts",
        Flag,
        "",
        "do not load user known_hosts file",
    ),
    spec(
        Some('e'),
        Some("eagerly-disconnect"),
        "eagerly_disconnect",
        Flag,
        "",
        "disconnect from hosts as soon as possible",
    ),
    spec(
        Some('f'),
        Some("fabfile"),
        "fabfile",
        Value,
        "PATH",
        "fabfile to build and run, e.g. '../other/fabfile.rs' (dfab launcher)",
    ),
    spec(
        Some('g'),
        Some("gateway"),
        "gateway",
        Value,
        "HOST",
        "gateway host to connect through",
    ),
    spec(
        None,
        Some("gss-auth"),
        "gss_auth",
        Flag,
        "",
        "Use GSS-API authentication",
    ),
    spec(
        None,
        Some("gss-deleg"),
        "gss_deleg",
        Flag,
        "",
        "Delegate GSS-API client credentials or not",
    ),
    spec(
        None,
        Some("gss-kex"),
        "gss_kex",
        Flag,
        "",
        "Perform GSS-API Key Exchange and user authentication",
    ),
    spec(
        None,
        Some("hide"),
        "hide",
        RunnerValue,
        "LEVELS",
        "comma-separated list of output levels to hide",
    ),
    spec(
        Some('H'),
        Some("hosts"),
        "hosts",
        Value,
        "HOSTS",
        "comma-separated list of hosts to operate on",
    ),
    spec(
        Some('i'),
        None,
        "key_filename",
        Repeated,
        "PATH",
        "path to SSH private key file. May be repeated.",
    ),
    spec(
        Some('k'),
        Some("no-keys"),
        "no_keys",
        Flag,
        "",
        "don't load private key files from ~/.ssh/",
    ),
    spec(
        None,
        Some("keepalive"),
        "keepalive",
        Int,
        "N",
        "enables a keepalive every N seconds",
    ),
    spec(
        None,
        Some("linewise"),
        "linewise",
        Flag,
        "",
        "print line-by-line instead of byte-by-byte",
    ),
    spec(
        Some('n'),
        Some("connection-attempts"),
        "connection_attempts",
        Int,
        "M",
        "make M attempts to connect before giving up",
    ),
    spec(
        None,
        Some("no-pty"),
        "always_use_pty",
        NegatedFlag,
        "",
        "do not use pseudo-terminal in run/sudo",
    ),
    spec(
        Some('p'),
        Some("password"),
        "password",
        Value,
        "PASSWORD",
        "password for use with authentication and/or sudo",
    ),
    spec(
        Some('P'),
        Some("parallel"),
        "parallel",
        Flag,
        "",
        "default to parallel execution method",
    ),
    spec(
        None,
        Some("port"),
        "port",
        Int,
        "PORT",
        "SSH connection port",
    ),
    spec(
        Some('r'),
        Some("reject-unknown-hosts"),
        "reject_unknown_hosts",
        Flag,
        "",
        "reject unknown hosts",
    ),
    spec(
        None,
        Some("sudo-password"),
        "sudo_password",
        Value,
        "SUDO_PASSWORD",
        "password for use with sudo only",
    ),
    spec(
        None,
        Some("system-known-hosts"),
        "system_known_hosts",
        Value,
        "SYSTEM_KNOWN_HOSTS",
        "load system known_hosts file before reading user known_hosts",
    ),
    spec(
        Some('R'),
        Some("roles"),
        "roles",
        Value,
        "ROLES",
        "comma-separated list of roles to operate on",
    ),
    spec(
        Some('s'),
        Some("shell"),
        "shell",
        Value,
        "SHELL",
        "specify a new shell, defaults to '/bin/bash -l -c'",
    ),
    spec(
        None,
        Some("show"),
        "show",
        RunnerValue,
        "LEVELS",
        "comma-separated list of output levels to show",
    ),
    spec(
        None,
        Some("skip-bad-hosts"),
        "skip_bad_hosts",
        Flag,
        "",
        "skip over hosts that can't be reached",
    ),
    spec(
        None,
        Some("skip-unknown-tasks"),
        "skip_unknown_tasks",
        Flag,
        "",
        "skip over unknown tasks",
    ),
    spec(
        None,
        Some("ssh-config-path"),
        "ssh_config_path",
        Value,
        "PATH",
        "Path to SSH config file",
    ),
    spec(
        Some('t'),
        Some("timeout"),
        "timeout",
        Int,
        "N",
        "set connection timeout to N seconds",
    ),
    spec(
        Some('T'),
        Some("command-timeout"),
        "command_timeout",
        Int,
        "N",
        "set remote command timeout to N seconds",
    ),
    spec(
        Some('u'),
        Some("user"),
        "user",
        Value,
        "USER",
        "username to use when connecting to remote hosts",
    ),
    spec(
        None,
        Some("use-ssh-config"),
        "use_ssh_config",
        Flag,
        "",
        "read ~/.ssh/config (or --ssh-config-path) for host settings",
    ),
    spec(
        Some('w'),
        Some("warn-only"),
        "warn_only",
        Flag,
        "",
        "warn, instead of abort, when commands fail",
    ),
    spec(
        Some('x'),
        Some("exclude-hosts"),
        "exclude_hosts",
        Value,
        "HOSTS",
        "comma-separated list of hosts to exclude",
    ),
    spec(
        Some('z'),
        Some("pool-size"),
        "pool_size",
        Int,
        "INT",
        "number of concurrent processes to use in parallel mode",
    ),
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
    /// Task strings, in order.
    pub tasks: Vec<String>,
    /// Words after `--`.
    pub remainder: Vec<String>,
    /// `-h`.
    pub help: bool,
    /// `-V`.
    pub version: bool,
    /// `-l` or `--shortlist`.
    pub list: bool,
    /// `-F`, or short for `--shortlist`.
    pub list_format: ListFormat,
    /// `-d NAME`.
    pub display: Option<String>,
    /// `--completions SHELL`.
    pub completions: Option<Shell>,
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
    /// Env-backed options given on the command line: key and value as typed (`None` for flags).
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

fn id(spec: &Spec) -> &'static str {
    spec.key
}

fn command() -> Command {
    let mut cmd = Command::new("dfab")
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
        let mut arg = Arg::new(id(s)).value_name(if s.metavar.is_empty() {
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
        arg = match s.kind {
            Flag | NegatedFlag | Runner => arg.action(ArgAction::SetTrue),
            Repeated => arg.action(ArgAction::Append),
            // Negative numbers are values here (`-t -5` is a bad timeout, not an option `-5`).
            Int if s.key == "port" => arg
                .action(ArgAction::Set)
                .allow_negative_numbers(true)
                .value_parser(clap::value_parser!(u64).range(1..=65535)),
            Int => arg
                .action(ArgAction::Set)
                .allow_negative_numbers(true)
                .value_parser(clap::value_parser!(u64)),
            Value | RunnerValue if s.key == "list_format" => arg
                .action(ArgAction::Set)
                .value_parser(["short", "normal", "nested"]),
            Value | RunnerValue if s.key == "completions" => arg
                .action(ArgAction::Set)
                .value_parser(["bash", "zsh", "fish"]),
            Value | RunnerValue if s.key == "set" => arg.action(ArgAction::Append),
            Value | RunnerValue => arg.action(ArgAction::Set),
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
        ErrorKind::ValueValidation if option_name(arg) == "--port" => {
            format!("option --port: invalid port: '{value}' (expected 1 to 65535)")
        }
        ErrorKind::ValueValidation => format!(
            "option {}: invalid integer value: '{value}'",
            option_name(arg)
        ),
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
            if matches.value_source(id(s)) != Some(ValueSource::CommandLine) {
                continue;
            }
            match s.kind {
                Flag | NegatedFlag => given.push((s, None)),
                Value => given.push((s, one(id(s)))),
                Int => given.push((s, matches.get_one::<u64>(id(s)).map(u64::to_string))),
                Repeated => {
                    given.extend(strings(&matches, id(s)).into_iter().map(|v| (s, Some(v))))
                }
                Runner | RunnerValue => {}
            }
        }
        Ok(Options {
            tasks: strings(&matches, "tasks"),
            remainder: strings(&matches, "remainder"),
            help: flag("help"),
            version: flag("version"),
            list: flag("list") || shortlist,
            list_format,
            display: one("display"),
            completions: one("completions").and_then(|name| Shell::from_name(&name)),
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
            match (s.kind, value) {
                (Flag, _) => env.set_str(s.key, "true")?,
                (NegatedFlag, _) => env.set_str(s.key, "false")?,
                (Repeated, Some(v)) => {
                    let mut list = env.key_filename.clone();
                    list.push(v.clone());
                    env.key_filename = list;
                }
                (_, Some(v)) => env.set_str(s.key, v)?,
                (_, None) => {}
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
        assert_eq!(
            parse(&["--shortlist", "-F", "nested"]).unwrap().list_format,
            ListFormat::Short
        );
        assert_eq!(
            parse(&["-l", "-F", "nested"]).unwrap().list_format,
            ListFormat::Nested
        );
        assert_eq!(parse(&["-l"]).unwrap().list_format, ListFormat::Normal);
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
