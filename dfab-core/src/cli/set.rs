//! `--set KEY=VALUE,KEY2,…`: env values from the command line.

use serde_yaml::Value;

use super::task_string::{split_items, Item};
use crate::env::{is_secret, Env, EnvError};

/// Applies one `--set` value: `K=V` sets a string (converted for typed keys), a bare `K` sets true.
pub fn apply_set(text: &str, env: &mut Env) -> Result<(), EnvError> {
    for item in split_items(text) {
        match item {
            Item::Keyword(key, value) => env.set_str(&key, &value)?,
            Item::Positional(key) if key.is_empty() && text.is_empty() => {}
            Item::Positional(key) => match env.get(&key) {
                Some(Value::Bool(_)) | None => env.set(&key, Value::Bool(true))?,
                Some(_) if !Env::KEYS.contains(&key.as_str()) => {
                    env.set(&key, Value::Bool(true))?
                }
                Some(_) => return Err(EnvError::NotAFlag { key }),
            },
        }
    }
    Ok(())
}

/// A `--set` value as messages may show it: the values of secret keys replaced by `<hidden>`.
pub fn redacted(text: &str) -> String {
    split_items(text)
        .into_iter()
        .map(|item| match item {
            Item::Keyword(key, _) if is_secret(&key) => format!("{key}=<hidden>"),
            Item::Keyword(key, value) => format!("{key}={value}"),
            Item::Positional(key) => key,
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_strings_flags_and_escapes() {
        let mut env = Env::default();
        apply_set(
            "deploy_env=staging,dry_run,notes=a\\,b,k=a=b,user=bob,warn_only",
            &mut env,
        )
        .unwrap();
        assert_eq!(env.get("deploy_env"), Some(Value::from("staging")));
        assert_eq!(env.get("dry_run"), Some(Value::Bool(true)));
        assert_eq!(env.get("notes"), Some(Value::from("a,b")));
        assert_eq!(env.get("k"), Some(Value::from("a=b")));
        assert_eq!(env.user, "bob");
        assert!(env.warn_only);
    }

    #[test]
    fn rejects_bad_items() {
        let mut env = Env::default();
        assert_eq!(
            apply_set("timeout=soon", &mut env).unwrap_err().to_string(),
            "env key 'timeout' expects a whole number (0 to 18446744073709551615), not 'soon'"
        );
        assert_eq!(apply_set("=x", &mut env), Err(EnvError::EmptyKey));
        assert_eq!(
            apply_set("user", &mut env).unwrap_err().to_string(),
            "env key 'user' is not a true/false flag: write user=VALUE"
        );
    }

    #[test]
    fn secrets_never_show() {
        assert_eq!(
            redacted("password=SECRET,timeout=bad,docker_auth_configs=X,sudo_password=Y,user=bob"),
            "password=<hidden>,timeout=bad,docker_auth_configs=<hidden>,sudo_password=<hidden>,user=bob"
        );
        let mut env = Env::default();
        let error = apply_set("sudo_passwords=SECRET", &mut env)
            .unwrap_err()
            .to_string();
        assert!(!error.contains("SECRET"), "{error}");
    }
}
