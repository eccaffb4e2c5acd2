//! Fabric's task-string syntax: `name:arg,key=value,hosts=a;b`.

use crate::task::Kwargs;

/// One comma-separated item of an argument list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A value without an unescaped `=`.
    Positional(String),
    /// `key=value`, split at the first unescaped `=`.
    Keyword(String, String),
}

/// Splits `a,k=v` into items, honouring `\,` and `\=` escapes (any other backslash is literal).
pub fn split_items(text: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut key: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some(',') | Some('=')) => {
                current.extend(chars.next());
            }
            ',' => items.push(finish(key.take(), std::mem::take(&mut current))),
            '=' if key.is_none() => key = Some(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    items.push(finish(key, current));
    items
}

fn finish(key: Option<String>, value: String) -> Item {
    match key {
        Some(k) => Item::Keyword(k, value),
        None => Item::Positional(value),
    }
}

/// A parsed task string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskString {
    /// The task name: everything before the first `:`.
    pub name: String,
    /// Positional arguments in order.
    pub args: Vec<String>,
    /// Keyword arguments (the last of a repeated key wins).
    pub kwargs: Kwargs,
    /// Hosts from `host=` or `hosts=` (whichever came last).
    pub hosts: Option<Vec<String>>,
    /// Roles from `role=` or `roles=` (whichever came last).
    pub roles: Option<Vec<String>>,
    /// Hosts from `exclude_hosts=`.
    pub exclude_hosts: Vec<String>,
}

impl TaskString {
    /// Parses a task string as Fabric 1.x does, except that `k=a=b` means `k` = `a=b` rather than a crash.
    pub fn parse(text: &str) -> TaskString {
        let (name, rest) = match text.split_once(':') {
            Some((name, rest)) => (name, Some(rest)),
            None => (text, None),
        };
        let mut parsed = TaskString {
            name: name.to_owned(),
            ..TaskString::default()
        };
        for item in rest.map(split_items).unwrap_or_default() {
            match item {
                Item::Positional(value) => parsed.args.push(value),
                Item::Keyword(key, value) => match key.as_str() {
                    "host" => parsed.hosts = Some(vec![value.trim().to_owned()]),
                    "hosts" => parsed.hosts = Some(split_list(&value)),
                    "role" => parsed.roles = Some(vec![value.trim().to_owned()]),
                    "roles" => parsed.roles = Some(split_list(&value)),
                    "exclude_hosts" => parsed.exclude_hosts = split_list(&value),
                    _ => parsed.kwargs.insert(key, value),
                },
            }
        }
        parsed
    }
}

/// Splits a `;` list, trimming each entry.
fn split_list(value: &str) -> Vec<String> {
    value.split(';').map(|s| s.trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row {
        input: &'static str,
        name: &'static str,
        args: &'static [&'static str],
        kwargs: &'static [(&'static str, &'static str)],
        hosts: Option<&'static [&'static str]>,
        roles: Option<&'static [&'static str]>,
        exclude: &'static [&'static str],
    }

    const fn row(
        input: &'static str,
        args: &'static [&'static str],
        kwargs: &'static [(&'static str, &'static str)],
    ) -> Row {
        Row {
            input,
            name: "deploy",
            args,
            kwargs,
            hosts: None,
            roles: None,
            exclude: &[],
        }
    }

    /// Every row of Fabric's parse table (docs/docker-map-semantics.md#the-task-string-parse-table), plus the fix
    /// for `k=a=b`.
    const TABLE: &[Row] = &[
        row("deploy", &[], &[]),
        row("deploy:prod", &["prod"], &[]),
        row("deploy:prod,main", &["prod", "main"], &[]),
        row("deploy:env=prod", &[], &[("env", "prod")]),
        row("deploy:prod,branch=main", &["prod"], &[("branch", "main")]),
        row("deploy:branch=main,prod", &["prod"], &[("branch", "main")]),
        row("deploy:", &[""], &[]),
        row("deploy:a,,b", &["a", "", "b"], &[]),
        row("deploy:a,", &["a", ""], &[]),
        row("deploy:tag=", &[], &[("tag", "")]),
        row("deploy:k=v,k=w", &[], &[("k", "w")]),
        row("deploy:msg=a\\,b", &[], &[("msg", "a,b")]),
        row("deploy:a\\,b,c", &["a,b", "c"], &[]),
        row("deploy:a\\=b", &["a=b"], &[]),
        row("deploy:k=a\\=b", &[], &[("k", "a=b")]),
        row("deploy:k=a=b", &[], &[("k", "a=b")]),
        Row {
            name: "get_ip",
            ..row("get_ip:eth0:True", &["eth0:True"], &[])
        },
        Row {
            name: "get_ipv6",
            ..row("get_ipv6:eth0,True", &["eth0", "True"], &[])
        },
        row("deploy:path=C:\\tmp", &[], &[("path", "C:\\tmp")]),
        row("deploy:a\\\\,b", &["a\\,b"], &[]),
        Row {
            hosts: Some(&["web1"]),
            ..row("deploy:host=web1", &[], &[])
        },
        Row {
            hosts: Some(&["web1", "web2"]),
            ..row("deploy:hosts=web1;web2", &[], &[])
        },
        Row {
            hosts: Some(&["web1", "web2"]),
            ..row("deploy:hosts= web1 ; web2 ", &[], &[])
        },
        Row {
            roles: Some(&["web"]),
            ..row("deploy:role=web", &[], &[])
        },
        Row {
            roles: Some(&["web", "db"]),
            ..row("deploy:roles=web;db", &[], &[])
        },
        Row {
            hosts: Some(&["a", "b"]),
            exclude: &["a"],
            ..row("deploy:hosts=a;b,exclude_hosts=a", &[], &[])
        },
        Row {
            hosts: Some(&["c"]),
            ..row("deploy:hosts=a;b,host=c", &[], &[])
        },
        Row {
            hosts: Some(&["web1", "web2"]),
            ..row("deploy:prod,hosts=web1;web2", &["prod"], &[])
        },
    ];

    fn owned(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_every_row_of_the_reference_table() {
        for r in TABLE {
            let parsed = TaskString::parse(r.input);
            let expected = TaskString {
                name: r.name.into(),
                args: owned(r.args),
                kwargs: Kwargs(
                    r.kwargs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                hosts: r.hosts.map(owned),
                roles: r.roles.map(owned),
                exclude_hosts: owned(r.exclude),
            };
            assert_eq!(parsed, expected, "input {:?}", r.input);
        }
    }

    #[test]
    fn splits_set_items() {
        assert_eq!(
            split_items("deploy_env=staging,dry_run,notes=a\\,b"),
            vec![
                Item::Keyword("deploy_env".into(), "staging".into()),
                Item::Positional("dry_run".into()),
                Item::Keyword("notes".into(), "a,b".into()),
            ]
        );
    }
}
