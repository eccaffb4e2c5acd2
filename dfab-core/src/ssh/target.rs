//! Where a host string leads: user, address, port and keys, after `env` and (when enabled) `~/.ssh/config`.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use anyhow::anyhow;
use ssh2_config::{HostParams, ParseRule, SshConfig};

use crate::env::Env;
use crate::input::expand_home;
use crate::ssh::{HostString, SshError};
use crate::term::output::warn;

/// A host string resolved to everything needed to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The host string as listed (`[web1]` in output).
    pub host_string: String,
    /// The login user.
    pub user: String,
    /// The address to connect to (`HostName` from the SSH config, else the host part).
    pub host: String,
    /// The port.
    pub port: u16,
    /// `user@host:port`, the key of the connection cache and of `env.passwords`.
    pub canonical: String,
    /// Key files to offer: `-i` and the SSH config's `IdentityFile`.
    pub identity_files: Vec<PathBuf>,
    /// Forward the local agent (`-A` or `ForwardAgent yes`).
    pub forward_agent: bool,
    /// A host string to tunnel through (`-g`, or the SSH config's `ProxyJump`).
    pub gateway: Option<String>,
}

impl Target {
    /// Resolves a host string with the env's defaults.
    pub fn resolve(host_string: &str, env: &Env) -> Result<Target, SshError> {
        let parsed = HostString::parse(host_string)?;
        let config = if env.use_ssh_config {
            ssh_config(env, &parsed.host)
        } else {
            HostParams::new(&Default::default())
        };
        let default_port: u16 = env.port.parse().map_err(|_| SshError::BadPort {
            value: env.port.clone(),
        })?;
        let user = parsed
            .user
            .clone()
            .or_else(|| config.user.clone().filter(|_| env.user == env.local_user))
            .unwrap_or_else(|| env.user.clone());
        let port = parsed.port.or(config.port).unwrap_or(default_port);
        let host = config
            .host_name
            .clone()
            .unwrap_or_else(|| parsed.host.clone());
        let mut identity_files: Vec<PathBuf> =
            env.key_filename.iter().map(|k| expand_home(k)).collect();
        identity_files.extend(config.identity_file.iter().flatten().cloned());
        let gateway = env
            .gateway
            .clone()
            .or_else(|| {
                config
                    .proxy_jump
                    .as_ref()
                    .and_then(|jumps| jumps.first().cloned())
            })
            .filter(|g| g != host_string && !g.eq_ignore_ascii_case("none"));
        let canonical = HostString {
            user: Some(user.clone()),
            host: host.clone(),
            port: Some(port),
        }
        .to_string();
        Ok(Target {
            host_string: host_string.to_owned(),
            user,
            host,
            port,
            canonical,
            identity_files,
            forward_agent: env.forward_agent || config.forward_agent.unwrap_or(false),
            gateway,
        })
    }

    /// `host:port` for messages.
    pub fn display_host(&self) -> String {
        HostString {
            user: None,
            host: self.host.clone(),
            port: Some(self.port),
        }
        .to_string()
    }
}

/// The SSH config's settings for `host`; an unreadable file is a warning, as in Fabric.
///
/// Each file is read once per process: every remote operation resolves its host, and re-reading the file each time
/// would repeat the I/O and the warning.
fn ssh_config(env: &Env, host: &str) -> HostParams {
    static PARSED: OnceLock<Mutex<HashMap<PathBuf, Option<SshConfig>>>> = OnceLock::new();
    let path = expand_home(&env.ssh_config_path);
    let mut parsed = match PARSED.get_or_init(Mutex::default).lock() {
        Ok(parsed) => parsed,
        Err(_) => return HostParams::new(&Default::default()),
    };
    let config = parsed.entry(path.clone()).or_insert_with(|| {
        let result = crate::input::read_text(&path, "SSH config file")
            .map_err(anyhow::Error::from)
            .and_then(|text| {
                SshConfig::default()
                    .parse(
                        &mut BufReader::new(text.as_bytes()),
                        ParseRule::ALLOW_UNKNOWN_FIELDS,
                    )
                    .map_err(|e| anyhow!("{e}"))
            });
        result
            .map_err(|e| {
                warn(&format!(
                    "Unable to load SSH config file '{}': {e:#}",
                    path.display()
                ))
            })
            .ok()
    });
    match config {
        Some(config) => config.query(host),
        None => HostParams::new(&Default::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_with_env_defaults() {
        let mut env = Env {
            user: "deploy".into(),
            port: "2222".into(),
            key_filename: vec!["/k".into()],
            ..Env::default()
        };
        let t = Target::resolve("web1", &env).unwrap();
        assert_eq!(
            (t.user.as_str(), t.host.as_str(), t.port),
            ("deploy", "web1", 2222)
        );
        assert_eq!(t.canonical, "deploy@web1:2222");
        assert_eq!(t.identity_files, [PathBuf::from("/k")]);
        let t = Target::resolve("root@[::1]:22", &env).unwrap();
        assert_eq!(t.canonical, "root@[::1]:22");
        env.port = "x".into();
        assert!(Target::resolve("web1", &env).is_err());
    }

    #[test]
    fn reads_the_ssh_config_when_enabled() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "Host web1\n  HostName 10.0.0.5\n  User admin\n  Port 2200\n  IdentityFile /keys/web\n  ProxyJump jump@bastion:22\n  ForwardAgent yes\n",
        )
        .unwrap();
        let mut env = Env {
            ssh_config_path: config.display().to_string(),
            ..Env::default()
        };
        let t = Target::resolve("web1", &env).unwrap();
        assert_eq!(t.host, "web1");
        env.use_ssh_config = true;
        let t = Target::resolve("web1", &env).unwrap();
        assert_eq!(
            (t.user.as_str(), t.host.as_str(), t.port),
            ("admin", "10.0.0.5", 2200)
        );
        assert_eq!(t.identity_files, [PathBuf::from("/keys/web")]);
        assert_eq!(t.gateway.as_deref(), Some("jump@bastion:22"));
        assert!(t.forward_agent);
        let t = Target::resolve("other@web1:22", &env).unwrap();
        assert_eq!((t.user.as_str(), t.port), ("other", 22));
    }
}
