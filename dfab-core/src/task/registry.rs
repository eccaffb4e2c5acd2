//! The registry: every `#[task]` of the binary, arranged in namespaces and resolvable by dotted name.

use std::collections::BTreeMap;

use super::TaskDef;

/// Two tasks that claim the same name, found when the registry is built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two tasks (or aliases) with one full name.
    #[error("two tasks are named '{name}' (in modules {first} and {second})")]
    Duplicate {
        /// The full dotted name.
        name: String,
        /// The first task's module.
        first: String,
        /// The second task's module.
        second: String,
    },
    /// Two tasks marked `default` in one namespace.
    #[error("namespace '{namespace}' has two default tasks: '{first}' and '{second}'")]
    TwoDefaults {
        /// The namespace.
        namespace: String,
        /// One default task.
        first: String,
        /// The other.
        second: String,
    },
}

/// One level of the task tree.
#[derive(Default, Debug)]
pub struct Namespace {
    /// Task names at this level (aliases included), sorted.
    pub tasks: BTreeMap<String, &'static TaskDef>,
    /// Nested namespaces, sorted.
    pub children: BTreeMap<String, Namespace>,
    /// The task run when the namespace alone is named.
    pub default: Option<&'static TaskDef>,
}

/// All tasks of the binary.
#[derive(Debug)]
pub struct Registry {
    root: Namespace,
    /// Full names of built-in tasks a fabfile's own task of the same name replaced.
    replaced: Vec<String>,
}

/// Whether a task is one of dfab's built-in tasks (`docker.*`, `actions.*`) rather than the fabfile's.
fn is_builtin(def: &TaskDef) -> bool {
    def.module_path == "dfab_core" || def.module_path.starts_with("dfab_core::")
}

impl Registry {
    /// Collects every task registered with `#[task]`, the built-in ones only of the namespaces `builtins` names
    /// (all of them when `None`).
    pub fn collect(builtins: Option<&[&str]>) -> Result<Registry, RegistryError> {
        Registry::from_defs(inventory::iter::<TaskDef>.into_iter().filter(|def| {
            let top = def.namespace();
            let top = top.split('.').next().unwrap_or_default().to_owned();
            match builtins {
                Some(offered) if is_builtin(def) => offered.contains(&top.as_str()),
                _ => true,
            }
        }))
    }

    /// Arranges the given tasks; a fabfile's task replaces a built-in task of the same name.
    pub fn from_defs(
        defs: impl IntoIterator<Item = &'static TaskDef>,
    ) -> Result<Registry, RegistryError> {
        let mut root = Namespace::default();
        let mut replaced = Vec::new();
        for def in defs {
            let ns_path = def.namespace();
            let mut node = &mut root;
            for segment in ns_path.split('.').filter(|s| !s.is_empty()) {
                node = node.children.entry(segment.to_owned()).or_default();
            }
            for name in std::iter::once(&def.name).chain(def.aliases) {
                if let Some(existing) = node.tasks.insert((*name).to_owned(), def) {
                    match (is_builtin(existing), is_builtin(def)) {
                        // The fabfile's own task wins over dfab's, whichever came first.
                        (true, false) => replaced.push(join(&ns_path, name)),
                        (false, true) => {
                            node.tasks.insert((*name).to_owned(), existing);
                            replaced.push(join(&ns_path, name));
                        }
                        _ => {
                            return Err(RegistryError::Duplicate {
                                name: join(&ns_path, name),
                                first: existing.module_path.into(),
                                second: def.module_path.into(),
                            })
                        }
                    }
                }
            }
            if def.is_default {
                if let Some(existing) = node.default.replace(def) {
                    return Err(RegistryError::TwoDefaults {
                        namespace: ns_path.clone(),
                        first: existing.name.into(),
                        second: def.name.into(),
                    });
                }
            }
        }
        Ok(Registry { root, replaced })
    }

    /// Whether `name` is a fabfile's task that replaced a built-in task of the same name.
    pub fn replaces_builtin(&self, name: &str) -> bool {
        self.replaced.iter().any(|r| r == name)
    }

    /// The task a dotted name refers to: a task, or a namespace's default task.
    pub fn resolve(&self, name: &str) -> Option<&'static TaskDef> {
        let mut segments: Vec<&str> = name.split('.').collect();
        let last = segments.pop()?;
        let mut node = &self.root;
        for segment in segments {
            node = node.children.get(segment)?;
        }
        node.tasks
            .get(last)
            .copied()
            .or_else(|| node.children.get(last).and_then(|ns| ns.default))
    }

    /// The task run when no task is named: the top level's default task.
    pub fn top_default(&self) -> Option<&'static TaskDef> {
        self.root.default
    }

    /// Whether no task is registered.
    pub fn is_empty(&self) -> bool {
        self.root.tasks.is_empty() && self.root.children.is_empty()
    }

    /// The root of the tree, for the nested list format.
    pub fn root(&self) -> &Namespace {
        &self.root
    }

    /// Every runnable name with its task, in Fabric's `--list` order.
    pub fn names(&self) -> Vec<(String, &'static TaskDef)> {
        let mut out = Vec::new();
        flatten(&self.root, "", &mut out);
        out
    }
}

fn flatten(node: &Namespace, prefix: &str, out: &mut Vec<(String, &'static TaskDef)>) {
    for (name, def) in &node.tasks {
        out.push((format!("{prefix}{name}"), *def));
    }
    for (name, child) in &node.children {
        if let Some(def) = child.default {
            out.push((format!("{prefix}{name}"), def));
        }
        flatten(child, &format!("{prefix}{name}."), out);
    }
}

fn join(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{BoundArgs, ExecMode, TaskValue};

    fn noop(_: BoundArgs) -> anyhow::Result<TaskValue> {
        Ok(TaskValue::none())
    }

    const fn def(
        name: &'static str,
        module_path: &'static str,
        is_default: bool,
        aliases: &'static [&'static str],
    ) -> TaskDef {
        TaskDef {
            name,
            module_path,
            namespace: None,
            aliases,
            is_default,
            doc: "",
            params: &[],
            hosts: &[],
            roles: &[],
            runs_once: false,
            mode: ExecMode::Default,
            pool_size: 0,
            invoke: noop,
        }
    }

    static BUILD: TaskDef = def("build", "fab", false, &[]);
    static DEPLOY: TaskDef = def("deploy", "fab", false, &["ship"]);
    static MIGRATE: TaskDef = def("migrate", "fab::db", true, &[]);
    static SEED: TaskDef = def("seed", "fab::db", false, &[]);
    static RESTART: TaskDef = def("restart", "fab::web", false, &[]);
    static DEEP: TaskDef = def("run", "fab::db::migrations", false, &[]);

    fn registry() -> Registry {
        Registry::from_defs([&DEPLOY, &SEED, &RESTART, &BUILD, &MIGRATE, &DEEP]).unwrap()
    }

    #[test]
    fn lists_in_fabric_order() {
        let names: Vec<String> = registry().names().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "build",
                "deploy",
                "ship",
                "db",
                "db.migrate",
                "db.seed",
                "db.migrations.run",
                "web.restart"
            ]
        );
    }

    #[test]
    fn resolves_tasks_aliases_and_defaults() {
        let r = registry();
        assert_eq!(r.resolve("ship").map(|d| d.name), Some("deploy"));
        assert_eq!(r.resolve("db").map(|d| d.name), Some("migrate"));
        assert_eq!(r.resolve("db.migrations.run").map(|d| d.name), Some("run"));
        assert!(r.resolve("web").is_none());
        assert!(r.resolve("nope").is_none());
        assert!(r.resolve("db.nope").is_none());
    }

    #[test]
    fn rejects_duplicates() {
        static OTHER: TaskDef = def("ship", "fab", false, &[]);
        let err = Registry::from_defs([&DEPLOY, &OTHER]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "two tasks are named 'ship' (in modules fab and fab)"
        );
    }

    #[test]
    fn a_fabfiles_task_replaces_a_builtin_of_the_same_name() {
        static BUILTIN: TaskDef = TaskDef {
            namespace: Some("docker"),
            ..def("version", "dfab_core::tasks::info", false, &[])
        };
        static OWN: TaskDef = def("version", "fab::docker", false, &[]);
        for order in [[&BUILTIN, &OWN], [&OWN, &BUILTIN]] {
            let registry = Registry::from_defs(order).expect("no duplicate error");
            let found = registry.resolve("docker.version").expect("resolves");
            assert_eq!(found.module_path, "fab::docker");
            assert!(registry.replaces_builtin("docker.version"));
        }
        // Two of the fabfile's own tasks of one name are still an error.
        static OTHER: TaskDef = def("version", "fab::docker", false, &[]);
        assert!(Registry::from_defs([&OWN, &OTHER]).is_err());
    }
}
