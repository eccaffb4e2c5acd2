//! `--list` in Fabric's normal, short and nested formats, and `-d NAME`.

use super::ListFormat;
use crate::task::{Namespace, ParamKind, Registry, TaskDef};

/// The task list in `format`; `doc` is the fabfile's docstring (shown by the normal format of `--list`).
pub fn render_list(
    registry: &Registry,
    format: ListFormat,
    doc: Option<&str>,
    width: usize,
) -> String {
    match format {
        ListFormat::Short => registry
            .names()
            .into_iter()
            .map(|(name, _)| name + "\n")
            .collect(),
        ListFormat::Nested => {
            let mut out = fabfile_doc(doc);
            out.push_str("Available commands (remember to call as module.[...].task):\n\n");
            nested(registry.root(), 1, &mut out);
            out
        }
        ListFormat::Normal => normal(registry, doc, width),
    }
}

/// The fabfile's docstring and a blank line, which Fabric prints before the normal and the nested listing.
fn fabfile_doc(doc: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(doc) = doc.filter(|d| !d.is_empty()) {
        out.push_str(doc);
        if !doc.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn normal(registry: &Registry, doc: Option<&str>, width: usize) -> String {
    let mut out = fabfile_doc(doc);
    out.push_str("Available commands:\n\n");
    let names = registry.names();
    let longest = names
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let budget = width.saturating_sub(longest + 9);
    for (name, def) in names {
        let line = match def.summary() {
            Some(summary) => {
                let shown = if summary.chars().count() > budget {
                    format!("{}...", summary.chars().take(budget).collect::<String>())
                } else {
                    summary.to_owned()
                };
                format!("    {name:<longest$}  {shown}")
            }
            None => format!("    {name}"),
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn nested(node: &Namespace, depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    for name in node.tasks.keys() {
        out.push_str(&format!("{indent}{name}\n"));
    }
    for (name, child) in &node.children {
        out.push_str(&format!("{indent}{name}:\n"));
        nested(child, depth + 1, out);
    }
}

/// The `-d NAME` text: the full docstring and the arguments with their defaults.
pub fn render_display(name: &str, def: &TaskDef) -> String {
    let doc = if def.doc.trim().is_empty() {
        "No docstring provided".to_owned()
    } else {
        dedent(def.doc)
    };
    let arguments: Vec<String> = def
        .params
        .iter()
        .map(|p| match p.kind {
            ParamKind::Named {
                default: Some(d),
                show_default,
                ..
            } => format!("{}={}", p.name, show_default(d)),
            ParamKind::Named { check, .. } if check(None).is_ok() => format!("{}=None", p.name),
            ParamKind::Named { .. } => p.name.to_owned(),
            // `Args` and `Kwargs` are Python's `*args` and `**kwargs`.
            ParamKind::Rest => format!("*{}", p.name),
            ParamKind::Keywords => format!("**{}", p.name),
        })
        .collect();
    // A one-line docstring is followed directly by the arguments, as Python's `"""One line."""` is; a longer
    // one, whose closing quotes stand on their own line, leaves a blank line first.
    let doc = doc.trim_matches('\n');
    let gap = if doc.lines().count() > 1 { "\n" } else { "" };
    let body = format!("{doc}\n{gap}Arguments: {}", arguments.join(", "));
    let indented: Vec<String> = body.lines().map(|l| format!("    {l}")).collect();
    format!(
        "Displaying detailed information for task '{name}':\n\n{}\n\n",
        indented.join("\n")
    )
}

/// Removes the indentation all non-blank lines share.
fn dedent(text: &str) -> String {
    let common = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(common..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names of every task, indented, as listed after `Valid task names:`.
pub fn indented_names(registry: &Registry) -> String {
    registry
        .names()
        .into_iter()
        .map(|(name, _)| format!("    {name}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{check_param, BoundArgs, ExecMode, FromArg, ParamSpec, TaskValue};

    fn noop(_: BoundArgs) -> anyhow::Result<TaskValue> {
        Ok(TaskValue::none())
    }

    const fn def(
        name: &'static str,
        module_path: &'static str,
        doc: &'static str,
        is_default: bool,
    ) -> TaskDef {
        TaskDef {
            name,
            module_path,
            namespace: None,
            aliases: &[],
            is_default,
            doc,
            params: &[],
            hosts: &[],
            roles: &[],
            runs_once: false,
            mode: ExecMode::Default,
            pool_size: 0,
            invoke: noop,
        }
    }

    static BUILD: TaskDef = def("build", "f", "Compile assets and the release bundle", false);
    static DEPLOY: TaskDef = def(
        "deploy",
        "f",
        "\nShip the current release to all web nodes\n\nMore.",
        false,
    );
    static LINT: TaskDef = def("lint", "f", "", false);
    static MIGRATE: TaskDef = def("migrate", "f::db", "Migrate.", true);
    static SEED: TaskDef = def("seed", "f::db", "", false);

    fn registry() -> Registry {
        Registry::from_defs([&BUILD, &DEPLOY, &LINT, &MIGRATE, &SEED]).unwrap()
    }

    #[test]
    fn normal_format_matches_the_reference() {
        let out = render_list(
            &registry(),
            ListFormat::Normal,
            Some("Tasks for the shop backend."),
            80,
        );
        assert_eq!(
            out,
            "Tasks for the shop backend.\n\nAvailable commands:\n\n\
             \x20   build       Compile assets and the release bundle\n\
             \x20   deploy      Ship the current release to all web nodes\n\
             \x20   lint\n\
             \x20   db          Migrate.\n\
             \x20   db.migrate  Migrate.\n\
             \x20   db.seed\n"
        );
    }

    #[test]
    fn long_summaries_are_cut_to_the_width() {
        let out = render_list(&registry(), ListFormat::Normal, None, 30);
        let line = out.lines().find(|l| l.contains("build")).unwrap();
        assert_eq!(line, "    build       Compile ass...");
        assert_eq!(line.len(), 30);
    }

    #[test]
    fn short_and_nested_formats() {
        assert_eq!(
            render_list(&registry(), ListFormat::Short, None, 80),
            "build\ndeploy\nlint\ndb\ndb.migrate\ndb.seed\n"
        );
        assert_eq!(
            render_list(&registry(), ListFormat::Nested, None, 80),
            "Available commands (remember to call as module.[...].task):\n\n    build\n    deploy\n    lint\n    db:\n        migrate\n        seed\n"
        );
    }

    #[test]
    fn display_shows_docstring_and_arguments() {
        static PARAMS: [ParamSpec; 4] = [
            ParamSpec {
                name: "target",
                kind: ParamKind::Named {
                    default: None,
                    check: check_param::<String>,
                    show_default: String::show_default,
                },
            },
            ParamSpec {
                name: "branch",
                kind: ParamKind::Named {
                    default: Some("main"),
                    check: check_param::<String>,
                    show_default: String::show_default,
                },
            },
            ParamSpec {
                name: "migrate",
                kind: ParamKind::Named {
                    default: Some("false"),
                    check: check_param::<bool>,
                    show_default: bool::show_default,
                },
            },
            ParamSpec {
                name: "tag",
                kind: ParamKind::Named {
                    default: None,
                    check: check_param::<Option<String>>,
                    show_default: String::show_default,
                },
            },
        ];
        static TASK: TaskDef = TaskDef {
            params: &PARAMS,
            ..def(
                "deploy",
                "f",
                "Push the release to the web tier.\n\nTakes the target environment.",
                false,
            )
        };
        assert_eq!(
            render_display("deploy", &TASK),
            "Displaying detailed information for task 'deploy':\n\n\
             \x20   Push the release to the web tier.\n\
             \x20   \n\
             \x20   Takes the target environment.\n\
             \x20   \n\
             \x20   Arguments: target, branch='main', migrate=False, tag=None\n\n"
        );
    }
}
