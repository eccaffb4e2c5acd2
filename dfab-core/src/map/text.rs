//! `Text`: a string from a map file that may be resolved only when used (`!env_lazy`, `!path_lazy`).

use std::fmt;

use super::node::Position;
use crate::env::Env;

/// A string value, given directly or deferred until first use.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Text {
    /// A value known at load time.
    Plain(String),
    /// `!env_lazy KEY`: the env key's value when first used.
    EnvLazy {
        /// The env key.
        key: String,
        /// Where the tag stands, for the error when the key is missing.
        at: Position,
    },
    /// `!path_lazy TEXT`: `$VAR`, `${VAR}` and `~` expanded when first used.
    PathLazy(String),
}

impl Text {
    /// A plain string.
    pub fn plain(text: impl Into<String>) -> Text {
        Text::Plain(text.into())
    }

    /// The value known at load time, if it is not deferred.
    pub fn as_plain(&self) -> Option<&str> {
        match self {
            Text::Plain(text) => Some(text),
            _ => None,
        }
    }

    /// The value now: deferred ones are looked up in `env` or the process environment.
    pub fn resolve(&self, env: &Env) -> Result<String, UnsetLazyValue> {
        match self {
            Text::Plain(text) => Ok(text.clone()),
            Text::EnvLazy { key, at } => env_value(env, key).ok_or_else(|| UnsetLazyValue {
                key: key.clone(),
                at: *at,
            }),
            Text::PathLazy(text) => Ok(expand_path(text)),
        }
    }
}

/// A deferred value whose env key is not set when it is needed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("!env_lazy at {at}: env key '{key}' is not set")]
pub struct UnsetLazyValue {
    /// The env key.
    pub key: String,
    /// Where the tag stands in the map file.
    pub at: Position,
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Text::Plain(text) => f.write_str(text),
            Text::EnvLazy { key, .. } => write!(f, "!env_lazy {key}"),
            Text::PathLazy(text) => write!(f, "!path_lazy {text}"),
        }
    }
}

/// An env key's value as text: typed keys in their `--set` spelling, free keys as YAML scalars.
pub(super) fn env_value(env: &Env, key: &str) -> Option<String> {
    let value = env.get(key)?;
    match value {
        serde_yaml::Value::Null => None,
        serde_yaml::Value::String(s) => Some(s),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        other => serde_yaml::to_string(&other)
            .ok()
            .map(|s| s.trim().to_owned()),
    }
}

/// Expands `$VAR` and `${VAR}` from the process environment, then a leading `~`, as docker-map's `!path` does.
pub(super) fn expand_path(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match std::env::var(name) {
            Ok(value) if !name.is_empty() => out.push_str(&value),
            // Unknown variables stay as written, as Python's os.path.expandvars leaves them.
            _ => out.push_str(&rest[i..rest.len() - tail.len()]),
        }
        rest = tail;
    }
    out.push_str(rest);
    crate::input::expand_home(&out).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_expand_variables_and_home() {
        std::env::set_var("DFAB_TEXT_TEST", "/srv");
        assert_eq!(expand_path("$DFAB_TEXT_TEST/app"), "/srv/app");
        assert_eq!(expand_path("${DFAB_TEXT_TEST}x"), "/srvx");
        assert_eq!(expand_path("$DFAB_UNSET_VAR/a"), "$DFAB_UNSET_VAR/a");
        assert!(!expand_path("~/logs").starts_with('~'));
    }
}
