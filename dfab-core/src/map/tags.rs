//! The YAML tags of map files: `!env` and `!path` resolved at load time, `!env_lazy` and `!path_lazy` left for
//! first use.

use super::node::{Node, NodeKind};
use super::problems::Problems;
use super::text::{env_value, expand_path};
use crate::env::Env;

/// The tags map files may use.
const TAGS: [&str; 4] = ["env", "env_lazy", "path", "path_lazy"];

/// Replaces `!env` and `!path` values in place and reports unknown tags and missing env keys.
pub(crate) fn resolve(node: &mut Node, env: &Env, problems: &mut Problems) {
    match node.tag.as_deref() {
        Some("env") => match &node.kind {
            NodeKind::Scalar { text, .. } => match env_value(env, text) {
                Some(value) => {
                    node.kind = NodeKind::Scalar {
                        text: value,
                        quoted: true,
                    };
                    node.tag = None;
                }
                None => problems.error(
                    node.at,
                    "",
                    format!("!env {text}: env key '{text}' is not set (set it in the fabfile or with --set {text}=…)"),
                ),
            },
            _ => problems.error(node.at, "", "!env takes the name of an env key"),
        },
        // docker-map applied !path to one level only and failed on nested mappings (bug 9,
        // docs/docker-map-semantics.md#bugs-dfab-does-not-repeat); every string inside is expanded here.
        Some("path") => {
            node.tag = None;
            expand_all(node);
        }
        Some("env_lazy") | Some("path_lazy") if !matches!(node.kind, NodeKind::Scalar { .. }) => {
            problems.error(node.at, "", "a lazy tag applies to a single value");
        }
        Some(tag) if !TAGS.contains(&tag) => {
            problems.error(
                node.at,
                "",
                format!("unknown tag !{tag}: expected !env, !env_lazy, !path or !path_lazy"),
            );
        }
        _ => {}
    }
    match &mut node.kind {
        NodeKind::Seq(items) => {
            for item in items {
                resolve(item, env, problems);
            }
        }
        NodeKind::Map(pairs) => {
            for (_, value) in pairs {
                resolve(value, env, problems);
            }
        }
        _ => {}
    }
}

fn expand_all(node: &mut Node) {
    match &mut node.kind {
        NodeKind::Scalar { text, quoted } => {
            *text = expand_path(text);
            *quoted = true;
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(expand_all),
        NodeKind::Map(pairs) => pairs.iter_mut().for_each(|(_, v)| expand_all(v)),
        NodeKind::Null => {}
    }
}
