//! `ActionError`: the step of an action that failed, and why.

use crate::docker::DockerError;
use crate::map::{OptionError, UnsetLazyValue};

/// A step of an action that failed; shown as `<step> failed: <why>`.
#[derive(Debug, thiserror::Error)]
#[error("{step} failed")]
pub struct ActionError {
    /// The step's line without its final period (`Create container 'site.web'`), or the item of a job that panicked.
    pub step: String,
    /// Why it failed (boxed: a step's error is large, and results pass through the pool).
    pub source: Box<StepError>,
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The engine answered the step's request with an error: its own words, since the step's line already names
    /// the request; any other failure of the request in full.
    #[error("{}", match .0 { DockerError::Api { message, .. } => message.clone(), other => other.to_string() })]
    Engine(DockerError),
    /// A request around the step (a helper container, the step's connection) failed, in full.
    #[error(transparent)]
    Docker(DockerError),
    /// A value of the map or the env could not be turned into the request.
    #[error(transparent)]
    Request(RequestError),
    /// The plan asked for a step that does not apply to its item.
    #[error("{0}")]
    Unplanned(String),
    /// The helper container that prepares a volume exited with this status.
    #[error("the preparation container exited with {0}")]
    Preparation(i64),
    /// The worker running the step panicked, with the panic's message.
    #[error("a worker panicked: {0}")]
    Panicked(String),
}

impl From<RequestError> for StepError {
    fn from(error: RequestError) -> StepError {
        StepError::Request(error)
    }
}

impl From<UnsetLazyValue> for StepError {
    fn from(error: UnsetLazyValue) -> StepError {
        StepError::Request(error.into())
    }
}

impl From<String> for StepError {
    fn from(reason: String) -> StepError {
        StepError::Unplanned(reason)
    }
}

/// Why a configuration's create request (or the check of an existing container against it) cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A deferred value's env key is not set.
    #[error(transparent)]
    Unset(#[from] UnsetLazyValue),
    /// The configuration is not in the map.
    #[error("no container configuration '{0}'")]
    NoConfiguration(String),
    /// A per-instance host path names neither the instance nor a `default`.
    #[error("host volume '{alias}' has no path for instance '{instance}'")]
    NoInstancePath {
        /// The host volume's alias.
        alias: String,
        /// The instance (or `default`).
        instance: String,
    },
    /// A bind names a host volume the map's `host` section lacks.
    #[error("host volume '{0}' is not in the host section")]
    NotInHostSection(String),
    /// A shared volume without a path in the `volumes` section.
    #[error("volume '{0}' has no path in the volumes section")]
    NoVolumePath(String),
    /// A port is published on an interface alias the client does not define.
    #[error("port {port} is published on interface '{alias}', which the client does not define")]
    UnknownInterface {
        /// The exposed port.
        port: String,
        /// The interface alias.
        alias: String,
    },
    /// An option of `create_options` or `host_config` that cannot be translated.
    #[error("{config}.{block}.{key}: {reason}")]
    Option {
        /// The configuration.
        config: String,
        /// `create_options` or `host_config`.
        block: &'static str,
        /// The option's key.
        key: String,
        /// What is wrong with its value.
        reason: OptionError,
    },
    /// The assembled request is not one the engine's API accepts.
    #[error("{config}: the create request does not fit the engine's API: {reason}")]
    DoesNotFit {
        /// The configuration.
        config: String,
        /// serde's explanation.
        reason: String,
    },
    /// A `force_update` selector that selects nothing in the map.
    #[error("force_update: {0}")]
    ForceUpdate(String),
    /// The engine could not be asked about an existing container.
    #[error(transparent)]
    Engine(#[from] DockerError),
}

/// Every container among an action's items whose create request cannot be built, one line each with its
/// configuration's position.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct RequestProblems(pub Vec<String>);
