//! `Node`: a YAML document as a tree that keeps every value's position, its tag and its source text.
//!
//! Container maps need all three: errors name the line and column, `!env`/`!path` tags change values, and a
//! version written `1.20` must stay `"1.20"` where a string is expected (docker-map read it as the float 1.2).

use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a value starts in its file, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A YAML value with its position and tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub kind: NodeKind,
    /// A local tag such as `env` for `!env`, without the `!`.
    pub tag: Option<String>,
    /// Where the value starts.
    pub at: Position,
}

/// The shape of a YAML value.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// `null`, `~` or nothing.
    Null,
    /// A scalar as written; `quoted` when it was quoted or a block scalar (always a string then).
    Scalar {
        /// The text.
        text: String,
        /// Whether the scalar was quoted or a block scalar.
        quoted: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, for any scalar (a number stays as written).
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// A plain `true`/`false` (YAML 1.2, any case), as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            NodeKind::Scalar {
                text,
                quoted: false,
            } => match text.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A plain integer.
    pub fn as_int(&self) -> Option<i64> {
        match &self.kind {
            NodeKind::Scalar {
                text,
                quoted: false,
            } => text.parse().ok(),
            _ => None,
        }
    }

    /// Python's truthiness of the value as YAML would load it: null, false, 0, "" and empty collections are false.
    pub fn truthy(&self) -> bool {
        match &self.kind {
            NodeKind::Null => false,
            NodeKind::Scalar { text, quoted } => {
                if text.is_empty() {
                    return false;
                }
                if *quoted {
                    return true;
                }
                !(self.as_bool() == Some(false) || text.parse::<f64>().is_ok_and(|n| n == 0.0))
            }
            NodeKind::Seq(items) => !items.is_empty(),
            NodeKind::Map(entries) => !entries.is_empty(),
        }
    }

    /// The entries of a mapping.
    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn items(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// What the value is, for messages: `a string`, `a list`, …
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Scalar { .. } if self.as_bool().is_some() => "a boolean",
            NodeKind::Scalar { .. } if self.as_int().is_some() => "a number",
            NodeKind::Scalar { .. } => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// A YAML syntax error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub at: Position,
    /// What it expected.
    pub message: String,
}

/// How many values aliases (`*name`, also in merge keys) may add to a document in all. Real maps stay far below;
/// a few hundred bytes of nested aliases (an "alias bomb") would otherwise expand to gigabytes.
pub(super) const MAX_ALIAS_VALUES: usize = 100_000;

/// Parses the first document of `text`; an empty document is null. Merge keys (`<<: *common`) are applied as
/// PyYAML does: the merged mapping's keys are added where the mapping does not set them itself.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| SyntaxError {
        at: position(e.marker()),
        message: e.info().to_owned(),
    })?;
    if let Some(error) = builder.failed {
        return Err(error);
    }
    Ok(builder.root.unwrap_or(Node {
        kind: NodeKind::Null,
        tag: None,
        at: Position { line: 1, col: 1 },
    }))
}

fn position(mark: &Marker) -> Position {
    Position {
        line: mark.line(),
        col: mark.col() + 1,
    }
}

fn local_tag(tag: Option<Tag>) -> Option<String> {
    // Only local tags (`!env`) matter; `!!str` and other core tags fall back to the value's own shape.
    tag.filter(|t| t.handle == "!").map(|t| t.suffix)
}

/// Collects parser events into nodes.
#[derive(Default)]
struct Builder {
    /// Open collections: the node and, for mappings, a key waiting for its value.
    stack: Vec<(Node, Option<Node>, usize)>,
    /// Anchored values and how many values each holds.
    anchors: std::collections::HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    /// Values added by aliases so far.
    expanded: usize,
    /// The first error; later events are ignored.
    failed: Option<SyntaxError>,
}

/// How many values a node holds, itself included.
fn size(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Seq(items) => items.iter().map(size).sum(),
        NodeKind::Map(entries) => entries.iter().map(|(k, v)| size(k) + size(v)).sum(),
        NodeKind::Null | NodeKind::Scalar { .. } => 0,
    }
}

/// Applies a mapping's merge keys: each `<<` entry (a mapping, or a list of mappings, earlier ones first) adds the
/// keys the mapping does not set itself; a `<<` whose value is not a mapping is an error, as in PyYAML.
fn merge_keys(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, SyntaxError> {
    let is_merge = |key: &Node| {
        matches!(&key.kind, NodeKind::Scalar { text, quoted: false } if text == "<<")
            && key.tag.is_none()
    };
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return Ok(entries);
    }
    let (merges, mut own): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(k, _)| is_merge(k));
    for (key, value) in merges {
        let sources = match value.kind {
            NodeKind::Map(_) => vec![value],
            NodeKind::Seq(items) => items,
            _ => {
                return Err(SyntaxError {
                    at: key.at,
                    message: "a merge key (<<) takes a mapping or a list of mappings".into(),
                })
            }
        };
        for source in sources {
            let NodeKind::Map(pairs) = source.kind else {
                return Err(SyntaxError {
                    at: source.at,
                    message: "a merge key (<<) takes a mapping or a list of mappings".into(),
                });
            };
            for (k, v) in pairs {
                if !own.iter().any(|(existing, _)| existing.kind == k.kind) {
                    own.push((k, v));
                }
            }
        }
    }
    Ok(own)
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            let count = size(&node);
            self.anchors.insert(anchor, (node.clone(), count));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((parent, pending_key, _)) => match &mut parent.kind {
                NodeKind::Seq(items) => items.push(node),
                NodeKind::Map(entries) => match pending_key.take() {
                    Some(key) => entries.push((key, node)),
                    None => *pending_key = Some(node),
                },
                _ => {}
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.failed.is_some() {
            return;
        }
        let at = position(&mark);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let quoted = style != TScalarStyle::Plain;
                let tag = local_tag(tag);
                let is_null = !quoted
                    && tag.is_none()
                    && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                let kind = if is_null {
                    NodeKind::Null
                } else {
                    NodeKind::Scalar { text, quoted }
                };
                self.push_value(Node { kind, tag, at }, anchor);
            }
            Event::SequenceStart(anchor, tag) => self.stack.push((
                Node {
                    kind: NodeKind::Seq(Vec::new()),
                    tag: local_tag(tag),
                    at,
                },
                None,
                anchor,
            )),
            Event::MappingStart(anchor, tag) => self.stack.push((
                Node {
                    kind: NodeKind::Map(Vec::new()),
                    tag: local_tag(tag),
                    at,
                },
                None,
                anchor,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((mut node, _, anchor)) = self.stack.pop() {
                    if let NodeKind::Map(entries) = node.kind {
                        match merge_keys(entries) {
                            Ok(entries) => node.kind = NodeKind::Map(entries),
                            Err(error) => {
                                self.failed = Some(error);
                                return;
                            }
                        }
                    }
                    self.push_value(node, anchor);
                }
            }
            Event::Alias(anchor) => {
                let (node, count) = match self.anchors.get(&anchor) {
                    Some((node, count)) => (Some(node), *count),
                    None => (None, 1),
                };
                self.expanded += count;
                if self.expanded > MAX_ALIAS_VALUES {
                    self.failed = Some(SyntaxError {
                        at,
                        message: format!(
                            "aliases here expand the document beyond {MAX_ALIAS_VALUES} values; \
                             write the repeated parts out, or nest fewer aliases"
                        ),
                    });
                    return;
                }
                let node = node.cloned().unwrap_or(Node {
                    kind: NodeKind::Null,
                    tag: None,
                    at,
                });
                self.push_value(node, 0);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> NodeKind {
        NodeKind::Scalar {
            text: text.into(),
            quoted: false,
        }
    }

    #[test]
    fn positions_tags_and_text_survive() {
        let doc =
            parse("version: 1.20\nroot: !env site_root\nlist:\n  - a\n  - 'b'\nempty:\n").unwrap();
        let entries = doc.entries().unwrap();
        assert_eq!(entries[0].1.kind, scalar("1.20"));
        assert_eq!(entries[0].1.at, Position { line: 1, col: 10 });
        assert_eq!(entries[1].1.tag.as_deref(), Some("env"));
        assert_eq!(entries[1].1.text(), Some("site_root"));
        let items = entries[2].1.items().unwrap();
        assert_eq!(
            items[1].kind,
            NodeKind::Scalar {
                text: "b".into(),
                quoted: true
            }
        );
        assert_eq!(items[1].at.line, 5);
        assert!(entries[3].1.is_null());
    }

    #[test]
    fn anchors_and_syntax_errors() {
        let doc = parse("a: &x {k: 1}\nb: *x\n").unwrap();
        let entries = doc.entries().unwrap();
        assert_eq!(entries[0].1.kind, entries[1].1.kind);
        let error = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(error.at.line >= 2, "{error:?}");
    }

    #[test]
    fn merge_keys_add_what_the_mapping_does_not_set() {
        let doc = parse(
            "common: &common {image: app, user: 1000}\n\
             extra: &extra {stop_timeout: 5, user: 0}\n\
             prod: {<<: *common, user: 2000}\n\
             test: {<<: [*common, *extra], image: app-test}\n",
        )
        .unwrap();
        let entries = doc.entries().unwrap();
        let keys = |node: &Node| -> Vec<(String, String)> {
            node.entries()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.text().unwrap().to_owned(), v.text().unwrap().to_owned()))
                .collect()
        };
        assert_eq!(
            keys(&entries[2].1),
            [
                ("user".into(), "2000".into()),
                ("image".into(), "app".into())
            ]
        );
        assert_eq!(
            keys(&entries[3].1),
            [
                ("image".into(), "app-test".into()),
                ("user".into(), "1000".into()),
                ("stop_timeout".into(), "5".into())
            ]
        );
        let error = parse("a: {<<: 3}\n").unwrap_err();
        assert_eq!(
            error.message,
            "a merge key (<<) takes a mapping or a list of mappings"
        );
        assert_eq!(error.at, Position { line: 1, col: 5 });
    }

    #[test]
    fn an_alias_bomb_is_refused_at_its_alias() {
        // Ten levels of nine aliases: 537 bytes that expand to 9^9 values.
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 9].join(",");
            bomb.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
        }
        let error = parse(&bomb).unwrap_err();
        assert!(
            error
                .message
                .starts_with("aliases here expand the document beyond 100000 values"),
            "{error:?}"
        );
        assert!(error.at.line > 1, "{error:?}");
        // Aliases used as real maps use them are fine.
        let mut fine = String::from("base: &base {image: app, user: 1000}\n");
        for n in 0..200 {
            fine.push_str(&format!("c{n}: {{<<: *base, stop_timeout: {n}}}\n"));
        }
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn truthiness_follows_python() {
        for (text, truthy) in [
            ("x: true", true),
            ("x: false", false),
            ("x: 0", false),
            ("x: 1", true),
            ("x: ''", false),
            ("x: 'false'", true),
            ("x: ro", true),
            ("x: []", false),
            ("x:", false),
        ] {
            let doc = parse(text).unwrap();
            assert_eq!(doc.entries().unwrap()[0].1.truthy(), truthy, "{text}");
        }
    }
}
