//! `Action`: the container-map actions and the direction each walks the dependency graph.

use std::fmt;
use std::str::FromStr;

/// Which items an action visits, in which order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Walk {
    /// Dependencies first (deepest first), then the targets.
    Forward,
    /// Dependents first (farthest first), then the targets.
    Reverse,
    /// The targets only.
    Single,
}

/// A container-map action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create what is missing, starting nothing.
    Create,
    /// Start what exists and is stopped.
    Start,
    /// Stop and start the targets.
    Restart,
    /// Stop the targets and whatever needs them.
    Stop,
    /// Remove stopped targets and whatever needs them.
    Remove,
    /// Create and start the targets and everything they need.
    Startup,
    /// Stop and remove the targets and whatever needs them.
    Shutdown,
    /// Send a signal to the running targets.
    Kill,
    /// Recreate what differs from its configuration, create what is missing, start what is stopped.
    Update,
    /// Pull the images the targets and their dependencies use.
    PullImages,
}

/// Every action by its task name.
pub const ACTIONS: [(&str, Action); 10] = [
    ("create", Action::Create),
    ("start", Action::Start),
    ("restart", Action::Restart),
    ("stop", Action::Stop),
    ("remove", Action::Remove),
    ("startup", Action::Startup),
    ("shutdown", Action::Shutdown),
    ("kill", Action::Kill),
    ("update", Action::Update),
    ("pull_images", Action::PullImages),
];

impl Action {
    /// How the action walks the graph.
    pub fn walk(self) -> Walk {
        match self {
            Action::Create
            | Action::Start
            | Action::Startup
            | Action::Update
            | Action::PullImages => Walk::Forward,
            Action::Stop | Action::Remove | Action::Shutdown => Walk::Reverse,
            Action::Restart | Action::Kill => Walk::Single,
        }
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(name: &str) -> Result<Action, String> {
        ACTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .ok_or_else(|| {
                let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
                format!(
                    "'{name}' is not an action: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = ACTIONS
            .iter()
            .find(|(_, a)| a == self)
            .map(|(n, _)| *n)
            .unwrap_or("?");
        f.write_str(name)
    }
}
