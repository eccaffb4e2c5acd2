//! `Step`: one change to an engine, as planned and as printed (`Creating container 'site.web' from image …`).

use std::fmt;

use crate::map::Item;

/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// Pull an image.
    Pull,
    /// Create a network.
    CreateNetwork,
    /// Create a named volume.
    CreateVolume,
    /// Set a volume's owner and permissions (`chown -R`, `chmod -R`).
    PrepareVolume {
        /// `user:group` for chown.
        owner: Option<String>,
        /// The chmod mode.
        permissions: Option<String>,
        /// The volume exists but an earlier preparation did not finish (a repair).
        again: bool,
    },
    /// Create a container from an image.
    CreateContainer {
        /// The image.
        image: String,
    },
    /// Connect a container to its networks after the first.
    ConnectNetworks {
        /// Full network names.
        networks: Vec<String>,
    },
    /// Start a container.
    Start,
    /// Run exec commands of a container's configuration.
    Exec {
        /// Indexes into the configuration's `exec_commands`.
        commands: Vec<usize>,
    },
    /// Run the exec commands (by their index in the configuration) that a running container lacks.
    ExecMissing {
        /// Indexes into the configuration's `exec_commands`.
        commands: Vec<usize>,
    },
    /// Connect an existing container to one of its configured networks.
    Connect {
        /// The full network name.
        network: String,
    },
    /// Disconnect a container from a network.
    Disconnect {
        /// The full network name.
        network: String,
    },
    /// Change a container's limits and restart policy without recreating it.
    UpdateInPlace {
        /// What changes, for the step's line (`memory`, `restart policy`, …).
        changes: Vec<String>,
    },
    /// Stop a container.
    Stop,
    /// Remove a container.
    Remove,
    /// Remove an attached volume.
    RemoveVolume,
    /// Remove a network.
    RemoveNetwork,
    /// Send a signal to a container.
    Kill {
        /// The signal.
        signal: String,
    },
}

/// One planned change: what to do to which item, and the item's engine name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What to do.
    pub kind: StepKind,
    /// The item it concerns.
    pub item: Item,
    /// The item's name on the engine.
    pub name: String,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.kind {
            StepKind::Pull => write!(f, "Pulling image '{name}'."),
            StepKind::CreateNetwork => write!(f, "Creating network '{name}'."),
            StepKind::CreateVolume => write!(f, "Creating volume '{name}'."),
            StepKind::PrepareVolume {
                owner,
                permissions,
                again,
            } => {
                let changes: Vec<String> = owner
                    .iter()
                    .map(|o| format!("owner {o}"))
                    .chain(permissions.iter().map(|p| format!("permissions {p}")))
                    .collect();
                let again = if *again {
                    ": its last preparation did not finish"
                } else {
                    ""
                };
                write!(
                    f,
                    "Preparing volume '{name}' ({}){again}.",
                    changes.join(", ")
                )
            }
            StepKind::CreateContainer { image } => {
                write!(f, "Creating container '{name}' from image '{image}'.")
            }
            StepKind::ConnectNetworks { networks } => write!(
                f,
                "Connecting container '{name}' to network(s) {}.",
                networks
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            StepKind::Start => write!(f, "Starting container '{name}'."),
            StepKind::Exec { commands } => write!(
                f,
                "Running {} exec command(s) in container '{name}'.",
                commands.len()
            ),
            StepKind::ExecMissing { commands } => write!(
                f,
                "Running {} missing exec command(s) in container '{name}'.",
                commands.len()
            ),
            StepKind::Connect { network } => {
                write!(f, "Connecting container '{name}' to network '{network}'.")
            }
            StepKind::Disconnect { network } => {
                write!(
                    f,
                    "Disconnecting container '{name}' from network '{network}'."
                )
            }
            StepKind::UpdateInPlace { changes } => write!(
                f,
                "Updating container '{name}' in place ({}).",
                changes.join(", ")
            ),
            StepKind::Stop => write!(f, "Stopping container '{name}'."),
            StepKind::Remove => write!(f, "Removing container '{name}'."),
            StepKind::RemoveVolume => write!(f, "Removing volume '{name}'."),
            StepKind::RemoveNetwork => write!(f, "Removing network '{name}'."),
            StepKind::Kill { signal } => write!(f, "Sending {signal} to container '{name}'."),
        }
    }
}
