//! The static description of a task that `#[task]` registers.

use super::{BoundArgs, TaskValue};

/// Whether a task runs its hosts one after another or at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecMode {
    /// Parallel when `-P`/`env.parallel` is set, serial otherwise.
    Default,
    /// Always parallel (`#[task(parallel)]`).
    Parallel,
    /// Always serial, even under `-P` (`#[task(serial)]`).
    Serial,
}

/// How one parameter takes its value from a task string.
#[derive(Clone, Copy, Debug)]
pub enum ParamKind {
    /// An ordinary parameter, filled by position or by name.
    Named {
        /// The default as the user would type it.
        default: Option<&'static str>,
        /// Checks that a value (or its absence) converts to the parameter's type.
        check: fn(Option<&str>) -> Result<(), super::ArgProblem>,
        /// Renders a default for `-d` (`'main'`, `False`, `3`).
        show_default: fn(&str) -> String,
    },
    /// The positional arguments left over (`Args`, Python's `*args`).
    Rest,
    /// The keyword arguments not matched by name (`Kwargs`, Python's `**kwargs`).
    Keywords,
}

/// One parameter of a task.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    /// The parameter's name, used for keyword arguments.
    pub name: &'static str,
    /// How it is filled.
    pub kind: ParamKind,
}

/// A registered task, as `#[task]` writes it.
#[derive(Debug)]
pub struct TaskDef {
    /// The task's own name (the function name unless `name = "…"`).
    pub name: &'static str,
    /// `module_path!()` of the function; the namespace is the part below the crate root.
    pub module_path: &'static str,
    /// A namespace that replaces the one from the module path.
    pub namespace: Option<&'static str>,
    /// Further names in the same namespace.
    pub aliases: &'static [&'static str],
    /// Whether the namespace's own name runs this task.
    pub is_default: bool,
    /// The doc comment.
    pub doc: &'static str,
    /// The parameters, in declaration order.
    pub params: &'static [ParamSpec],
    /// Hosts from `#[task(hosts = […])]`.
    pub hosts: &'static [&'static str],
    /// Roles from `#[task(roles = […])]`.
    pub roles: &'static [&'static str],
    /// Whether the body runs only once per process.
    pub runs_once: bool,
    /// Serial or parallel.
    pub mode: ExecMode,
    /// The parallel pool size from `#[task(pool_size = N)]`; 0 when not given.
    pub pool_size: usize,
    /// Calls the function with bound arguments.
    pub invoke: fn(BoundArgs) -> anyhow::Result<TaskValue>,
}

impl TaskDef {
    /// The dotted namespace of the task (`""` at the top level).
    pub fn namespace(&self) -> String {
        match self.namespace {
            Some(ns) => ns.to_string(),
            None => self
                .module_path
                .split("::")
                .skip(1)
                .collect::<Vec<_>>()
                .join("."),
        }
    }

    /// The first non-blank line of the doc comment, trimmed.
    pub fn summary(&self) -> Option<&'static str> {
        self.doc.lines().map(str::trim).find(|l| !l.is_empty())
    }
}

inventory::collect!(TaskDef);
