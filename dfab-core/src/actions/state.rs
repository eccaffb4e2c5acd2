//! `ItemState`: what the engine has of one item of a map, as the planner needs it.

use super::StepKind;

/// Whether an item exists and, for containers, runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// No container, volume, network or image of that name.
    Absent,
    /// Exists and does not run (networks, volumes and images are always this when found).
    Present,
    /// A running (or restarting) container.
    Running,
}

/// The observed state of one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemState {
    /// Whether it exists and runs.
    pub presence: Presence,
    /// A container that was created but never started.
    pub initial: bool,
    /// The exit code of a stopped container.
    pub exit_code: Option<i64>,
    /// A container that differs from its configuration and must be recreated (found by the update check).
    pub outdated: bool,
    /// Changes the update check found that need no recreation: network connections, limits, missing exec commands.
    pub adjust: Vec<StepKind>,
    /// A volume whose preparation (owner, permissions) did not finish: its marker container is still there.
    pub unprepared: bool,
}

impl ItemState {
    /// An item the engine does not have.
    pub const ABSENT: ItemState = ItemState {
        presence: Presence::Absent,
        initial: false,
        exit_code: None,
        outdated: false,
        adjust: Vec::new(),
        unprepared: false,
    };

    /// An item that exists and does not run (a network, volume, image, or a stopped container).
    pub const PRESENT: ItemState = ItemState {
        presence: Presence::Present,
        initial: false,
        exit_code: None,
        outdated: false,
        adjust: Vec::new(),
        unprepared: false,
    };

    /// A running container.
    pub const RUNNING: ItemState = ItemState {
        presence: Presence::Running,
        initial: false,
        exit_code: None,
        outdated: false,
        adjust: Vec::new(),
        unprepared: false,
    };

    /// A container created and never started.
    pub const INITIAL: ItemState = ItemState {
        presence: Presence::Present,
        initial: true,
        exit_code: None,
        outdated: false,
        adjust: Vec::new(),
        unprepared: false,
    };

    /// A stopped container that ended with `code`.
    pub fn exited(code: i64) -> ItemState {
        ItemState {
            presence: Presence::Present,
            initial: false,
            exit_code: Some(code),
            outdated: false,
            adjust: Vec::new(),
            unprepared: false,
        }
    }
}
