//! Host-key checks against known_hosts files, with Fabric's defaults: unknown hosts are accepted unless `-r`.

use std::path::PathBuf;

use ssh2::{CheckResult, KnownHostFileKind, Session};

use super::SshError;
use crate::cli::expand_home;
use crate::env::Env;

/// Checks the server's key against `env.system_known_hosts`, then `~/.ssh/known_hosts` unless `-D`.
pub(crate) fn check_host_key(
    session: &Session,
    host: &str,
    port: u16,
    env: &Env,
) -> Result<(), SshError> {
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(system) = &env.system_known_hosts {
        files.push(expand_home(system));
    }
    if !env.disable_known_hosts {
        files.push(expand_home("~/.ssh/known_hosts"));
    }
    let Some((key, _kind)) = session.host_key() else {
        return Err(SshError::Handshake {
            host: host.into(),
            reason: "the server sent no host key".into(),
        });
    };
    let mut known = false;
    for file in files.iter().filter(|f| f.exists()) {
        let Ok(mut hosts) = session.known_hosts() else {
            continue;
        };
        if hosts.read_file(file, KnownHostFileKind::OpenSSH).is_err() {
            continue;
        }
        match hosts.check_port(host, port, key) {
            CheckResult::Match => known = true,
            CheckResult::Mismatch => {
                return Err(SshError::HostKeyChanged {
                    host: if port == 22 {
                        host.to_owned()
                    } else {
                        format!("[{host}]:{port}")
                    },
                    file: file.display().to_string(),
                })
            }
            CheckResult::NotFound | CheckResult::Failure => {}
        }
    }
    if !known && env.reject_unknown_hosts {
        return Err(SshError::UnknownHost { host: host.into() });
    }
    Ok(())
}
