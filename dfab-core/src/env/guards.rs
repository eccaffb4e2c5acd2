//! Fabric's context managers as RAII guards: each changes the env and undoes its change when dropped.

use serde_yaml::Value;

use super::{env_mut, Env, EnvError, Level};

/// A deferred change to the env.
pub type EnvChange = Box<dyn FnOnce(&mut Env)>;

/// Undoes one env change when dropped; nest them freely, they unwind in reverse order.
#[must_use = "the change is undone as soon as the guard is dropped: bind it with `let _g = …;`"]
pub struct Guard {
    /// Undo steps, applied last to first in one env change.
    undo: Vec<EnvChange>,
}

impl Guard {
    fn new(undo: impl FnOnce(&mut Env) + 'static) -> Guard {
        Guard {
            undo: vec![Box::new(undo)],
        }
    }

    /// One guard that undoes `self`, then `outer`.
    fn within(mut self, mut outer: Guard) -> Guard {
        outer.undo.append(&mut self.undo);
        outer
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let steps = std::mem::take(&mut self.undo);
        if !steps.is_empty() {
            env_mut(|env| steps.into_iter().rev().for_each(|undo| undo(env)));
        }
    }
}

/// Replaces one field for the guard's lifetime; only that field is restored.
fn change<T: Clone + 'static>(field: fn(&mut Env) -> &mut T, new: impl FnOnce(&T) -> T) -> Guard {
    let old = env_mut(|env| {
        let slot = field(env);
        let next = new(slot);
        std::mem::replace(slot, next)
    });
    Guard::new(move |env| *field(env) = old)
}

/// Joins a working directory as Fabric's `cd`/`lcd` do: absolute and `~` paths replace, others append.
fn join_dir(current: &str, path: &str) -> String {
    let path = path.replace(' ', "\\ ");
    if current.is_empty() || path.starts_with('/') || path.starts_with('~') {
        path
    } else {
        format!("{}/{path}", current.trim_end_matches('/'))
    }
}

/// Sets env keys for the guard's lifetime (`settings(warn_only=True)`); new keys are removed afterwards.
pub fn settings<K: Into<String>, V: Into<Value>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<Guard, EnvError> {
    let mut undo: Vec<(String, Option<Value>)> = Vec::new();
    let mut result = Ok(());
    env_mut(|env| {
        for (key, value) in pairs {
            let key = key.into();
            let old = env.get(&key);
            if let Err(e) = env.set(&key, value.into()) {
                result = Err(e);
                break;
            }
            undo.push((key, old));
        }
    });
    let guard = Guard::new(move |env| {
        for (key, old) in undo.into_iter().rev() {
            match old {
                Some(value) => {
                    let _restored = env.set(&key, value);
                }
                None => {
                    env.remove(&key);
                }
            }
        }
    });
    result.map(|()| guard)
}

/// Remote working directory for `run`, `sudo`, `put` and `get`.
///
/// ```
/// use dfab_core::prelude::*;
///
/// {
///     let _app = cd("/srv/app");
///     let _logs = cd("logs");
///     assert_eq!(env().cwd, "/srv/app/logs");
/// }
/// // Each guard undid its own change when it was dropped.
/// assert_eq!(env().cwd, "");
/// ```
pub fn cd(path: &str) -> Guard {
    let path = path.to_owned();
    change(|e| &mut e.cwd, move |old| join_dir(old, &path))
}

/// Local working directory for `local`, `put` and `get`.
pub fn lcd(path: &str) -> Guard {
    let path = path.to_owned();
    change(|e| &mut e.lcwd, move |old| join_dir(old, &path))
}

/// Runs `command && ` before every command; prefixes stack in order.
pub fn prefix(command: &str) -> Guard {
    let command = command.to_owned();
    change(
        |e| &mut e.command_prefixes,
        move |old| {
            let mut next = old.clone();
            next.push(command);
            next
        },
    )
}

/// Puts `dir` on `PATH` (behavior `append`, `prepend` or `replace`).
pub fn path(dir: &str, behavior: &str) -> Guard {
    let dir = dir.to_owned();
    let behavior = behavior.to_owned();
    let outer = change(|e| &mut e.path, move |_| dir);
    change(|e| &mut e.path_behavior, move |_| behavior).within(outer)
}

/// Exports variables before every command; inner guards add to (and override) outer ones.
pub fn shell_env<K: Into<String>, V: Into<String>>(
    vars: impl IntoIterator<Item = (K, V)>,
) -> Guard {
    let vars: Vec<(String, String)> = vars
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    change(
        |e| &mut e.shell_env,
        move |old| {
            let mut next = old.clone();
            next.extend(vars);
            next
        },
    )
}

fn levels(levels: &[Level], on: bool) -> Guard {
    let levels = levels.to_vec();
    change(
        |e| &mut e.output,
        move |old| {
            let mut next = old.clone();
            for level in levels {
                next.set(level, on);
            }
            next
        },
    )
}

/// Hides output levels.
pub fn hide(which: &[Level]) -> Guard {
    levels(which, false)
}

/// Shows output levels.
pub fn show(which: &[Level]) -> Guard {
    levels(which, true)
}

/// Failures warn instead of abort.
pub fn warn_only() -> Guard {
    change(|e| &mut e.warn_only, |_| true)
}

/// Hides everything and warns instead of aborting: `hide(everything)` plus `warn_only`.
pub fn quiet() -> Guard {
    let hidden = hide(&[Level::Everything]);
    warn_only().within(hidden)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::env;

    #[test]
    fn guards_nest_and_restore() {
        {
            let _a = cd("/srv");
            let _b = cd("app");
            let _c = cd("with space");
            assert_eq!(env().cwd, "/srv/app/with\\ space");
            let _d = cd("~/x");
            assert_eq!(env().cwd, "~/x");
        }
        assert_eq!(env().cwd, "");
        {
            let _p = prefix("source venv/bin/activate");
            let _q = prefix("export A=1");
            assert_eq!(env().command_prefixes.len(), 2);
            let _e = shell_env([("A", "1")]);
            let _f = shell_env([("B", "2")]);
            assert_eq!(env().shell_env.len(), 2);
        }
        assert!(env().command_prefixes.is_empty() && env().shell_env.is_empty());
    }

    #[test]
    fn settings_restore_and_remove() {
        {
            let _g = settings([
                ("warn_only", Value::from(true)),
                ("custom", Value::from("x")),
            ])
            .unwrap();
            assert!(env().warn_only);
            assert_eq!(env().get("custom"), Some(Value::from("x")));
        }
        assert!(!env().warn_only);
        assert_eq!(env().get("custom"), None);
        assert!(settings([("timeout", "soon")]).is_err());
        assert_eq!(env().timeout, 10);
    }

    #[test]
    fn only_the_guarded_field_is_restored() {
        {
            let _q = quiet();
            assert!(env().warn_only && !env().output.running);
            env_mut(|e| e.hosts = vec!["kept".into()]);
        }
        assert!(!env().warn_only && env().output.running);
        assert_eq!(env().hosts, ["kept"]);
    }
}
