//! `Problems` and `MapError`: everything wrong with a map file, each with its file, line, column and key path.

use std::fmt;

use super::node::Position;

/// One thing wrong (or outdated) in a map file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file (or `<string>`).
    pub source: String,
    /// Where in it.
    pub at: Position,
    /// The key path, such as `web.binds[1]`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.line == 0 {
            // About the file as a whole (it could not be read).
            write!(f, "{}: {}", self.source, self.message)
        } else if self.path.is_empty() {
            write!(f, "{}:{}: {}", self.source, self.at, self.message)
        } else {
            write!(
                f,
                "{}:{}: {}: {}",
                self.source, self.at, self.path, self.message
            )
        }
    }
}

/// Errors and warnings collected while reading and checking a map, so that all are reported together.
#[derive(Clone, Debug, Default)]
pub(super) struct Problems {
    source: String,
    /// What makes the map unusable.
    pub errors: Vec<Problem>,
    /// What still works but should change (keys of older docker-map versions).
    pub warnings: Vec<Problem>,
}

impl Problems {
    /// Problems of the file `source`.
    pub(super) fn new(source: &str) -> Problems {
        Problems {
            source: source.to_owned(),
            ..Problems::default()
        }
    }

    /// Records an error.
    pub(super) fn error(&mut self, at: Position, path: &str, message: impl Into<String>) {
        self.errors.push(self.problem(at, path, message.into()));
    }

    /// Records a warning.
    pub(super) fn warn(&mut self, at: Position, path: &str, message: impl Into<String>) {
        self.warnings.push(self.problem(at, path, message.into()));
    }

    fn problem(&self, at: Position, path: &str, message: String) -> Problem {
        Problem {
            source: self.source.clone(),
            at,
            path: path.to_owned(),
            message,
        }
    }

    /// Fails with every error, in file order, when there is any.
    pub(super) fn into_result(mut self) -> Result<Vec<Problem>, MapError> {
        if self.errors.is_empty() {
            return Ok(self.warnings);
        }
        self.errors.sort_by_key(|e| e.at);
        self.errors.dedup();
        Err(MapError {
            problems: self.errors,
        })
    }
}

/// A map (or clients file) that cannot be used; every problem found, one per line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct MapError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(Problem::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// The known name closest to `unknown`, if it is close enough to be a likely typo.
pub(super) fn suggestion<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    // Transpositions count once (`wbe` → `web`); short names need a closer match than long ones.
    known
        .iter()
        .map(|k| (strsim::osa_distance(unknown, k), *k))
        .filter(|(distance, k)| *distance <= 1.max(k.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// `unknown key 'x'` with a "did you mean" when one is close.
pub(super) fn unknown_key(key: &str, known: &[&str], what: &str) -> String {
    match suggestion(key, known) {
        Some(close) => format!("unknown {what} key '{key}'; did you mean '{close}'?"),
        None => format!(
            "unknown {what} key '{key}'; expected one of: {}",
            known.join(", ")
        ),
    }
}

/// Reads a map or clients file (`what` names the kind in the error).
pub(crate) fn read_file(path: &std::path::Path, what: &str) -> Result<String, MapError> {
    crate::input::read_text(path, &format!("{what} file")).map_err(|e| MapError {
        problems: vec![Problem {
            source: path.display().to_string(),
            at: Position::default(),
            path: String::new(),
            message: e.to_string(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_only_for_near_misses() {
        let known = ["repository", "default_tag", "networks"];
        assert_eq!(suggestion("repositry", &known), Some("repository"));
        assert_eq!(suggestion("netwroks", &known), Some("networks"));
        assert_eq!(suggestion("colour", &known), None);
    }

    #[test]
    fn errors_come_together_in_file_order() {
        let mut problems = Problems::new("shop.yaml");
        problems.error(
            Position { line: 9, col: 3 },
            "web.links[0]",
            "no container 'dbb'",
        );
        problems.error(Position { line: 2, col: 1 }, "repositry", "unknown");
        let error = problems.into_result().unwrap_err();
        assert_eq!(
            error.to_string(),
            "shop.yaml:2:1: repositry: unknown\nshop.yaml:9:3: web.links[0]: no container 'dbb'"
        );
    }
}
