//! Which hosts a task runs on: Fabric's host-list sources, roles, de-duplication and exclusions.

use crate::env::Env;

/// A role named in a host list that `env.roledefs` does not define.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("The following specified roles do not exist:\n{}", .0.iter().map(|r| format!("    {r}")).collect::<Vec<_>>().join("\n"))]
pub struct UnknownRoles(pub Vec<String>);

/// Hosts and roles from one source, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSource {
    /// Host strings.
    pub hosts: Vec<String>,
    /// Role names.
    pub roles: Vec<String>,
}

impl HostSource {
    fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.roles.is_empty()
    }
}

/// The hosts a task runs on, and the roles they came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostList {
    /// Final host strings, in order.
    pub hosts: Vec<String>,
    /// The roles of the chosen source.
    pub roles: Vec<String>,
}

/// Picks the first non-empty source (per-task keywords, the task's attribute, then `env.hosts`/`env.roles`),
/// expands its roles, trims, de-duplicates and applies every exclusion.
///
/// Unlike Fabric, `-x` and per-task `exclude_hosts` both apply whatever the source, and exclusions apply even
/// with `dedupe_hosts` off.
pub fn resolve_hosts(
    per_task: &HostSource,
    attribute: &HostSource,
    per_task_exclude: &[String],
    env: &Env,
) -> Result<HostList, UnknownRoles> {
    let global = HostSource {
        hosts: env.hosts.clone(),
        roles: env.roles.clone(),
    };
    let source = [per_task, attribute, &global]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or(&global);

    let missing: Vec<String> = source
        .roles
        .iter()
        .filter(|r| !env.roledefs.contains_key(*r))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(UnknownRoles(missing));
    }
    let members = source
        .roles
        .iter()
        .flat_map(|role| env.roledefs.get(role).into_iter().flatten());
    let mut hosts: Vec<String> = Vec::new();
    for host in source.hosts.iter().chain(members) {
        let host = host.trim();
        let excluded = per_task_exclude
            .iter()
            .chain(&env.exclude_hosts)
            .any(|x| x.trim() == host);
        let repeated = env.dedupe_hosts && hosts.iter().any(|h| h == host);
        if !host.is_empty() && !excluded && !repeated {
            hosts.push(host.to_owned());
        }
    }
    Ok(HostList {
        hosts,
        roles: source.roles.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(hosts: &[&str], roles: &[&str]) -> HostSource {
        HostSource {
            hosts: hosts.iter().map(|s| s.to_string()).collect(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn env() -> Env {
        let mut env = Env::default();
        env.roledefs
            .insert("web".into(), vec!["w1".into(), "w2".into()]);
        env.roledefs
            .insert("db".into(), vec!["d1".into(), "w1".into()]);
        env.hosts = vec!["g1".into()];
        env
    }

    #[test]
    fn first_source_with_hosts_or_roles_wins() {
        let none = HostSource::default();
        let r = resolve_hosts(&source(&["t1"], &[]), &source(&["a1"], &[]), &[], &env()).unwrap();
        assert_eq!(r.hosts, ["t1"]);
        let r = resolve_hosts(&none, &source(&[], &["web"]), &[], &env()).unwrap();
        assert_eq!(r.hosts, ["w1", "w2"]);
        assert_eq!(r.roles, ["web"]);
        let r = resolve_hosts(&none, &none, &[], &env()).unwrap();
        assert_eq!(r.hosts, ["g1"]);
    }

    #[test]
    fn merges_hosts_then_roles_deduplicated_and_excluded() {
        let mut e = env();
        e.exclude_hosts = vec!["w2".into()];
        let r = resolve_hosts(
            &source(&[" x1 ", "w1"], &["web", "db"]),
            &HostSource::default(),
            &["d1".into()],
            &e,
        )
        .unwrap();
        assert_eq!(r.hosts, ["x1", "w1"]);
        e.dedupe_hosts = false;
        let r = resolve_hosts(&source(&["w1"], &["web"]), &HostSource::default(), &[], &e).unwrap();
        assert_eq!(r.hosts, ["w1", "w1"]);
    }

    #[test]
    fn unknown_roles_are_named() {
        let err = resolve_hosts(
            &source(&[], &["web", "cache", "queue"]),
            &HostSource::default(),
            &[],
            &env(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "The following specified roles do not exist:\n    cache\n    queue"
        );
    }
}
