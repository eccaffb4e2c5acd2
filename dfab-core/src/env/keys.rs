//! `Env`: Fabric's env keys as typed fields, plus the keys a fabfile defines for itself.

use std::collections::BTreeMap;

use serde_yaml::Value;

use super::{local_user, EnvValue, OutputLevels};

/// A value that does not fit an env key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// A string (from `--set`, the rc file or `settings`) that does not convert.
    #[error("env key '{key}' expects {expected}, not '{value}'")]
    BadString {
        /// The key.
        key: String,
        /// The string given.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// A structured value of the wrong shape.
    #[error("env key '{key}' cannot take that value: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The deserializer's explanation.
        reason: String,
    },
    /// A bare `--set KEY` for a typed key that is not a true/false flag.
    #[error("env key '{key}' is not a true/false flag: write {key}=VALUE")]
    NotAFlag {
        /// The key.
        key: String,
    },
    /// An empty key name.
    #[error("an env key name cannot be empty")]
    EmptyKey,
}

/// Converts the string `value` for the env key `key` to the key's type; a secret's value is never repeated.
pub fn parse_value<T: EnvValue>(key: &str, value: &str) -> Result<T, EnvError> {
    T::parse_env(value).map_err(|expected| EnvError::BadString {
        key: key.into(),
        value: if super::is_secret(key) {
            "<hidden>".into()
        } else {
            value.into()
        },
        expected,
    })
}

macro_rules! env_keys {
    ($( $(#[doc = $doc:literal])* $name:ident : $ty:ty = $default:expr, )*) => {
        /// The settings every task sees: Fabric's `env`.
        ///
        /// Read it with [`env()`](crate::env::env), change it with [`env_mut`](crate::env::env_mut) or a
        /// guard such as [`settings`](crate::env::settings).
        #[derive(Clone, Debug, PartialEq)]
        pub struct Env {
            $( $(#[doc = $doc])* pub $name: $ty, )*
            /// Keys defined by fabfiles and later subsystems, by name.
            pub extra: BTreeMap<String, Value>,
        }

        impl Default for Env {
            fn default() -> Self {
                Env { $( $name: $default, )* extra: BTreeMap::new() }
            }
        }

        impl Env {
            /// The names of the typed keys.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($name)),*];

            /// The value of any key, typed or not.
            pub fn get(&self, key: &str) -> Option<Value> {
                match key {
                    $( stringify!($name) => serde_yaml::to_value(&self.$name).ok(), )*
                    _ => self.extra.get(key).cloned(),
                }
            }

            /// Sets any key from a structured value; a typed key checks its shape.
            pub fn set(&mut self, key: &str, value: Value) -> Result<(), EnvError> {
                match key {
                    "" => return Err(EnvError::EmptyKey),
                    $( stringify!($name) => {
                        self.$name = serde_yaml::from_value(value).map_err(|e| EnvError::BadValue {
                            key: key.into(),
                            // serde's explanation quotes the value, which a secret's must never show.
                            reason: if super::is_secret(key) {
                                "the value has the wrong shape".into()
                            } else {
                                e.to_string()
                            },
                        })?;
                    } )*
                    _ => {
                        self.extra.insert(key.into(), value);
                    }
                }
                Ok(())
            }

            /// Sets any key from a string: typed keys convert it, other keys keep the string.
            pub fn set_str(&mut self, key: &str, value: &str) -> Result<(), EnvError> {
                match key {
                    "" => return Err(EnvError::EmptyKey),
                    $( stringify!($name) => self.$name = parse_value(key, value)?, )*
                    _ => {
                        self.extra.insert(key.into(), Value::String(value.into()));
                    }
                }
                Ok(())
            }

            /// Removes a user-defined key (typed keys always exist).
            pub fn remove(&mut self, key: &str) -> Option<Value> {
                self.extra.remove(key)
            }
        }
    };
}

env_keys! {
    /// Turn every prompt into an abort (`--abort-on-prompts`).
    abort_on_prompts: bool = false,
    /// The text sudo prints after a wrong password.
    again_prompt: String = "Sorry, try again.".into(),
    /// The final host list of the running task.
    all_hosts: Vec<String> = Vec::new(),
    /// Request a pseudo-terminal for remote commands (`--no-pty` turns it off).
    always_use_pty: bool = true,
    /// Print aborts in red and warnings in magenta (`--colorize-errors`).
    colorize_errors: bool = false,
    /// Merge remote stderr into stdout.
    combine_stderr: bool = true,
    /// The name of the running task.
    command: String = String::new(),
    /// Commands from `prefix()` guards, outermost first.
    command_prefixes: Vec<String> = Vec::new(),
    /// The most bytes of a command's stdout, and of its stderr, that `run`, `sudo` and `local` keep for the
    /// result; a command printing more fails there.
    capture_limit: u64 = 256 * 1024 * 1024,
    /// Remote command timeout in seconds (`-T`).
    command_timeout: Option<u64> = None,
    /// Connection attempts per host (`-n`).
    connection_attempts: u32 = 1,
    /// Remote working directory from `cd()`.
    cwd: String = String::new(),
    /// Drop repeated hosts from host lists.
    dedupe_hosts: bool = true,
    /// Do not load `~/.ssh/known_hosts` (`-D`).
    disable_known_hosts: bool = false,
    /// Docker API version to speak, e.g. `"1.41"`; `None` negotiates with the engine.
    docker_api_version: Option<String> = None,
    /// Registry logins for pulls (registry host → `username`, `password`, `email`) when the client entry has none.
    docker_auth_configs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new(),
    /// The Docker engine's address: `unix:///var/run/docker.sock`, `http+unix://…`, a bare socket path or
    /// `tcp://host:port`; `None` uses `DOCKER_HOST` locally and `/var/run/docker.sock` on hosts.
    docker_base_url: Option<String> = None,
    /// The client configuration file (`example_clients.yaml`) of the container maps.
    docker_clients: Option<String> = None,
    /// Image tags that `docker.cleanup_images:remove_old=true` keeps besides `latest`.
    docker_keep_tags: Vec<String> = Vec::new(),
    /// Container map files (`a.yaml;b.yaml`), each named by its `name` key or else its file name.
    docker_maps: Vec<String> = Vec::new(),
    /// Items that container-map actions change at once (`-z` caps it; 1 is sequential).
    docker_parallel: usize = 4,
    /// The image of the short-lived container that sets attached volumes' owner and permissions.
    docker_prepare_image: String = "busybox:latest".into(),
    /// Push the map's images from the local engine to each client's engine (only the layers it lacks) before
    /// `create`, `startup`, `update` and `pull_images`, instead of pulling them from a registry.
    docker_push_images: bool = false,
    /// The most bytes one Docker API answer (a list, an inspection), or one line or frame of a stream, may take.
    docker_max_response: u64 = 64 * 1024 * 1024,
    /// Seconds a Docker API answer may take, from the request to its last byte; for a stream (a load, a build, a
    /// pull, an export), seconds without a byte either way.
    docker_timeout: u64 = 60,
    /// How to reach a host's engine: `auto` (a direct channel, socat where the server refuses those), `socat`,
    /// `streamlocal` or `tcp`.
    docker_tunnel: String = "auto".into(),
    /// First local port of `docker::local_tunnel()` endpoints, one per host counting up.
    docker_tunnel_local_port: u16 = 22024,
    /// The engine's TCP port on the host for `docker_tunnel=tcp` with a base URL without a port.
    docker_tunnel_remote_port: u16 = 2375,
    /// Close connections after each host's run of a task (`-e`).
    eagerly_disconnect: bool = false,
    /// Echo local input sent to remote commands without a pty.
    echo_stdin: bool = true,
    /// The roles of the running task's host list.
    effective_roles: Vec<String> = Vec::new(),
    /// Hosts left out of every host list (`-x`).
    exclude_hosts: Vec<String> = Vec::new(),
    /// The fabfile name or path (`-f`), used by the `dfab` launcher.
    fabfile: String = "fabfile".into(),
    /// Forward the local SSH agent (`-A`).
    forward_agent: bool = false,
    /// Host string of a gateway to tunnel connections through (`-g`).
    gateway: Option<String> = None,
    /// GSS-API authentication (`--gss-auth`).
    gss_auth: bool = false,
    /// GSS-API credential delegation (`--gss-deleg`).
    gss_deleg: bool = false,
    /// GSS-API key exchange (`--gss-kex`).
    gss_kex: bool = false,
    /// Host part of the current host string.
    host: Option<String> = None,
    /// The current host string, as listed (`None` when running locally).
    host_string: Option<String> = None,
    /// The global host list (`-H`).
    hosts: Vec<String> = Vec::new(),
    /// SSH keepalive interval in seconds, 0 for none (`--keepalive`).
    keepalive: u64 = 0,
    /// An in-memory private key.
    key: Option<String> = None,
    /// Private key files (`-i`, repeatable).
    key_filename: Vec<String> = Vec::new(),
    /// Local working directory from `lcd()`.
    lcwd: String = String::new(),
    /// Print output line by line (`--linewise`; always on in parallel).
    linewise: bool = false,
    /// The local login name.
    local_user: String = local_user(),
    /// Do not use the SSH agent (`-a`).
    no_agent: bool = false,
    /// Do not look for `~/.ssh/id_*` keys (`-k`).
    no_keys: bool = false,
    /// Exit statuses that count as success.
    ok_ret_codes: Vec<i32> = vec![0],
    /// Which output levels are shown (`--hide`, `--show`).
    output: OutputLevels = OutputLevels::default(),
    /// Prefix remote output lines with `[host] out:`.
    output_prefix: bool = true,
    /// Run tasks in parallel (`-P`).
    parallel: bool = false,
    /// Login and sudo password (`-p`).
    password: Option<String> = None,
    /// Passwords per canonical host string.
    passwords: BTreeMap<String, String> = BTreeMap::new(),
    /// Directory exported on `PATH` by `path()`.
    path: String = String::new(),
    /// How `path()` combines with `PATH`: append, prepend or replace.
    path_behavior: String = "append".into(),
    /// Most hosts at once in parallel, 0 for all (`-z`).
    pool_size: usize = 0,
    /// Default SSH port (`--port`).
    port: String = "22".into(),
    /// Automatic answers to remote prompts.
    prompts: BTreeMap<String, String> = BTreeMap::new(),
    /// The rc file (`-c`).
    rcfile: String = "~/.fabricrc".into(),
    /// Path of the running fabfile binary.
    real_fabfile: String = String::new(),
    /// Refuse hosts missing from known_hosts (`-r`).
    reject_unknown_hosts: bool = false,
    /// Send Ctrl-C to the remote program.
    remote_interrupt: Option<bool> = None,
    /// Role name to host strings.
    roledefs: BTreeMap<String, Vec<String>> = BTreeMap::new(),
    /// The global role list (`-R`).
    roles: Vec<String> = Vec::new(),
    /// The remote shell wrapper (`-s`).
    shell: String = "/bin/bash -l -c".into(),
    /// Variables exported by `shell_env()`.
    shell_env: BTreeMap<String, String> = BTreeMap::new(),
    /// Escape `"`, `$` and backquotes when wrapping commands in the shell.
    shell_escape: bool = true,
    /// Warn about unreachable hosts and go on (`--skip-bad-hosts`).
    skip_bad_hosts: bool = false,
    /// Warn about unknown task names and go on (`--skip-unknown-tasks`).
    skip_unknown_tasks: bool = false,
    /// Let a `docker::local_tunnel()` endpoint accept any number of connections; `false` closes it after the first.
    socat_fork: bool = true,
    /// Do not print the socat command line when a tunnel channel opens.
    socat_quiet: bool = true,
    /// The SSH config file (`--ssh-config-path`).
    ssh_config_path: String = "~/.ssh/config".into(),
    /// Password for sudo prompts only (`--sudo-password`).
    sudo_password: Option<String> = None,
    /// Sudo passwords per canonical host string.
    sudo_passwords: BTreeMap<String, String> = BTreeMap::new(),
    /// The sudo command prefix.
    sudo_prefix: String = "sudo -S -p '%(sudo_prompt)s' ".into(),
    /// The prompt sudo is told to print.
    sudo_prompt: String = "sudo password:".into(),
    /// Default user for `sudo()`.
    sudo_user: Option<String> = None,
    /// Extra known_hosts file loaded first (`--system-known-hosts`).
    system_known_hosts: Option<String> = None,
    /// The task strings of the command line.
    tasks: Vec<String> = Vec::new(),
    /// Connect timeout in seconds (`-t`).
    timeout: u64 = 10,
    /// Wrap remote commands in `env.shell`.
    use_shell: bool = true,
    /// Read the SSH config file.
    use_ssh_config: bool = false,
    /// Default SSH user (`-u`).
    user: String = local_user(),
    /// dfab's version.
    version: String = env!("CARGO_PKG_VERSION").into(),
    /// Failures warn instead of abort (`-w`).
    warn_only: bool = false,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_keys_convert_strings() {
        let mut env = Env::default();
        env.set_str("timeout", "30").unwrap();
        env.set_str("warn_only", "False").unwrap();
        env.set_str("hosts", "a;b, c").unwrap();
        env.set_str("command_timeout", "").unwrap();
        assert_eq!(env.timeout, 30);
        assert!(!env.warn_only);
        assert_eq!(env.hosts, ["a", "b", "c"]);
        assert_eq!(env.command_timeout, None);
        assert_eq!(
            env.set_str("timeout", "soon").unwrap_err().to_string(),
            "env key 'timeout' expects a whole number (0 to 18446744073709551615), not 'soon'"
        );
        assert!(env.set_str("roledefs", "x").is_err());
    }

    #[test]
    fn the_readme_documents_every_key() {
        let readme = include_str!("../../../README.md");
        for key in Env::KEYS {
            assert!(
                readme.contains(&format!("| `{key}` |")),
                "README lacks env key {key}"
            );
        }
    }

    #[test]
    fn other_keys_hold_any_value() {
        let mut env = Env::default();
        env.set_str("deploy_env", "staging").unwrap();
        env.set("replicas", Value::from(3)).unwrap();
        assert_eq!(env.get("deploy_env"), Some(Value::from("staging")));
        assert_eq!(env.get("replicas"), Some(Value::from(3)));
        assert_eq!(env.get("port"), Some(Value::from("22")));
        assert!(env.set("port", Value::from(vec![1])).is_err());
        assert_eq!(env.set_str("", "x"), Err(EnvError::EmptyKey));
    }
}
