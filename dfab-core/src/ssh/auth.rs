//! Authentication in Fabric's order: key files, the agent, default keys, then passwords.

use std::path::{Path, PathBuf};

use ssh2::Session;

use super::target::Target;
use super::SshError;
use crate::env::{env, env_mut};
use crate::term::prompt::secret;

/// libssh2 could not read or decrypt a key file (as opposed to the server refusing the key).
const ERROR_FILE: i32 = -16;

/// Tries every method in order until the server accepts one.
pub(crate) fn authenticate(session: &Session, target: &Target) -> Result<(), SshError> {
    let env = env();
    let user = target.user.as_str();
    let mut tried: Vec<String> = Vec::new();

    if let Some(key) = &env.key {
        tried.push("the key in env.key".into());
        let passphrase = known_password(target);
        if session
            .userauth_pubkey_memory(user, None, key, passphrase.as_deref())
            .is_ok()
        {
            return Ok(());
        }
    }
    for file in &target.identity_files {
        tried.push(format!("key {}", file.display()));
        if try_key_file(session, target, file)? {
            return Ok(());
        }
    }
    if !env.no_agent {
        if let Ok(mut agent) = session.agent() {
            if agent.connect().is_ok() && agent.list_identities().is_ok() {
                tried.push("the ssh-agent".into());
                for identity in agent.identities().unwrap_or_default() {
                    if agent.userauth(user, &identity).is_ok() {
                        return Ok(());
                    }
                }
            }
        }
    }
    if !env.no_keys {
        for file in default_keys() {
            tried.push(format!("key {}", file.display()));
            if try_key_file(session, target, &file)? {
                return Ok(());
            }
        }
    }
    if let Some(password) = known_password(target) {
        tried.push("the password".into());
        if session.userauth_password(user, &password).is_ok() {
            return Ok(());
        }
    }
    let methods = session.auth_methods(user).unwrap_or_default();
    if !methods.split(',').any(|m| m == "password") {
        return Err(SshError::Auth {
            user: user.into(),
            host: target.display_host(),
            tried: describe(&tried),
        });
    }
    loop {
        let password = secret(
            "a connection or sudo password",
            &format!("[{}] Login password for '{user}': ", target.host_string),
        )
        .map_err(|e| SshError::Prompt(e.to_string()))?;
        if password.is_empty() {
            crate::term::output::write(
                crate::term::output::Stream::Stderr,
                "Sorry, you can't enter an empty password. Please try again.\n",
            );
            continue;
        }
        if session.userauth_password(user, &password).is_ok() {
            remember_password(target, password);
            return Ok(());
        }
    }
}

/// The login password known for the target: `env.passwords[canonical]`, else `env.password`.
fn known_password(target: &Target) -> Option<String> {
    let env = env();
    env.passwords
        .get(&target.canonical)
        .or(env.password.as_ref())
        .cloned()
}

fn remember_password(target: &Target, password: String) {
    env_mut(|e| {
        e.passwords
            .insert(target.canonical.clone(), password.clone());
        e.password = Some(password);
    });
}

/// Offers one key file; an encrypted key gets the known password as passphrase, else a prompt.
fn try_key_file(session: &Session, target: &Target, file: &Path) -> Result<bool, SshError> {
    let user = target.user.as_str();
    match session.userauth_pubkey_file(user, None, file, None) {
        Ok(()) => return Ok(true),
        Err(e) if e.code() != ssh2::ErrorCode::Session(ERROR_FILE) => return Ok(false),
        Err(_) => {}
    }
    // libssh2 says only "unable to read the file": a missing key, one this user may not read, or no file
    // descriptor left would otherwise read as an encrypted key and end in a passphrase prompt.
    if let Err(e) = std::fs::File::open(file) {
        return Err(SshError::KeyFile {
            file: file.display().to_string(),
            reason: e.to_string(),
        });
    }
    if let Some(password) = known_password(target) {
        if session
            .userauth_pubkey_file(user, None, file, Some(&password))
            .is_ok()
        {
            return Ok(true);
        }
    }
    let passphrase = secret(
        "a connection or sudo password",
        &format!("[{}] Passphrase for private key: ", target.host_string),
    )
    .map_err(|e| SshError::Prompt(e.to_string()))?;
    if session
        .userauth_pubkey_file(user, None, file, Some(&passphrase))
        .is_ok()
    {
        remember_password(target, passphrase);
        return Ok(true);
    }
    Ok(false)
}

/// `~/.ssh/id_rsa`, `id_ecdsa`, `id_ed25519` and `id_dsa`, those that exist.
fn default_keys() -> Vec<PathBuf> {
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    ["id_rsa", "id_ecdsa", "id_ed25519", "id_dsa"]
        .iter()
        .map(|name| Path::new(&home).join(".ssh").join(name))
        .filter(|path| path.exists())
        .collect()
}

fn describe(tried: &[String]) -> String {
    if tried.is_empty() {
        "no key, agent identity or password was available".into()
    } else {
        format!("tried {}", tried.join(", "))
    }
}
