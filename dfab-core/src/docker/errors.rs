//! `DockerError`: what can go wrong between a task and a Docker engine, each with one line that says what to do.

/// A failed Docker operation.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// A base URL that is not a Unix socket or TCP address.
    #[error("docker_base_url '{url}' is not a Docker address: expected unix:///path, http+unix://…, a socket path or tcp://host:port")]
    BadBaseUrl {
        /// The URL given.
        url: String,
    },
    /// An unknown `docker_tunnel` value, or one that does not fit the base URL.
    #[error("docker_tunnel '{kind}' {reason}")]
    BadTunnel {
        /// The value given.
        kind: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `docker_api_version` that is not `MAJOR.MINOR`.
    #[error("docker_api_version '{version}' is not an API version such as 1.41")]
    BadApiVersion {
        /// The value given.
        version: String,
    },
    /// A `docker_api_version` older than dfab supports.
    #[error("docker_api_version {version} is older than API {minimum}, the oldest dfab speaks")]
    PinnedTooOld {
        /// The value given.
        version: String,
        /// The oldest API dfab supports.
        minimum: String,
    },
    /// A `docker_api_version` the engine does not accept.
    #[error("docker_api_version {version} is outside the API versions the Docker engine on {host} accepts ({engine_range}); dfab speaks {} to {} (unset docker_api_version to negotiate)", super::MINIMUM_API, super::NEWEST_API)]
    PinOutsideEngine {
        /// The host (or `localhost`).
        host: String,
        /// The value given.
        version: String,
        /// The engine's oldest and newest API, `1.24 to 1.51`.
        engine_range: String,
    },
    /// No engine listens on the socket.
    #[error("the Docker engine on {host} is not running: nothing listens on {socket} (start it: systemctl start docker)")]
    EngineNotRunning {
        /// The host (or `localhost`).
        host: String,
        /// The socket or address tried.
        socket: String,
    },
    /// The login user may not use the engine's socket.
    #[error("permission denied on {socket} on {host}: add {user} to the docker group (or connect as a user in it)")]
    PermissionDenied {
        /// The host (or `localhost`).
        host: String,
        /// The socket.
        socket: String,
        /// The user who lacks the permission.
        user: String,
    },
    /// socat is not installed on the host.
    #[error("socat is not installed on {host}: install it there, or set docker_tunnel=streamlocal to reach the socket without it")]
    SocatMissing {
        /// The host.
        host: String,
    },
    /// The engine is older than dfab supports.
    #[error("the Docker engine on {host} speaks API {version}; dfab needs API {minimum} or newer")]
    ApiTooOld {
        /// The host (or `localhost`).
        host: String,
        /// The engine's API version.
        version: String,
        /// The oldest API dfab supports.
        minimum: String,
    },
    /// The connection carrying the request broke.
    #[error("the connection to the Docker engine on {host} dropped during {what}: {reason}")]
    TunnelDropped {
        /// The host.
        host: String,
        /// The request.
        what: String,
        /// What the transport reported.
        reason: String,
    },
    /// The request took longer than its timeout.
    #[error("{what} on {host} timed out after {seconds} s")]
    Timeout {
        /// The host (or `localhost`).
        host: String,
        /// The request.
        what: String,
        /// The timeout.
        seconds: u64,
    },
    /// The engine answered with an error.
    #[error("{what} on {host} failed: {message}")]
    Api {
        /// The host (or `localhost`).
        host: String,
        /// The request.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The engine's message.
        message: String,
    },
    /// The engine's answer went past a bound: too large, too slow, or not HTTP.
    #[error("{what} on {host} failed: {reason}")]
    Bounded {
        /// The host (or `localhost`).
        host: String,
        /// The request.
        what: String,
        /// Which bound, with the request and what was received.
        reason: String,
    },
    /// The engine answered with something that is not the JSON the request expects.
    #[error(
        "{what} on {host} failed: the engine's answer is not what the API describes ({reason})"
    )]
    BadAnswer {
        /// The host (or `localhost`).
        host: String,
        /// The request.
        what: String,
        /// What the decoder said.
        reason: String,
    },
    /// A local tunnel endpoint was asked for without a host.
    #[error("a local Docker tunnel needs a host: run the task with -H or hosts")]
    NeedsHost,
    /// The local tunnel port is taken or not allowed.
    #[error("cannot listen on 127.0.0.1:{port} for the Docker tunnel to {host}: {reason} (set docker_tunnel_local_port to a free port)")]
    LocalPort {
        /// The host the tunnel leads to.
        host: String,
        /// The port.
        port: u16,
        /// What the system said.
        reason: String,
    },
    /// The engine refused the address when the client was made.
    #[error("cannot use docker_base_url '{url}': {reason}")]
    Unusable {
        /// The address.
        url: String,
        /// What bollard said.
        reason: String,
    },
    /// The runtime behind the client could not start.
    #[error("cannot start the Docker client's runtime: {0}")]
    Runtime(String),
    /// The SSH connection that carries the engine's socket could not be made.
    #[error(transparent)]
    Transport(#[from] crate::ssh::SshError),
    /// A thread panicked while holding the Docker client cache.
    #[error("the Docker client cache is poisoned")]
    CachePoisoned,
}

impl DockerError {
    /// The HTTP status of an engine error (404 for a missing object), if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            DockerError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the engine could not be reached: its host is unreachable, or nothing listens on its socket.
    pub fn is_unreachable(&self) -> bool {
        match self {
            DockerError::Transport(ssh) => ssh.is_unreachable(),
            // An engine that answers past every bound is as good as gone: a fleet run goes on without it.
            DockerError::EngineNotRunning { .. }
            | DockerError::Bounded { .. }
            | DockerError::BadAnswer { .. } => true,
            _ => false,
        }
    }
}

/// Whether an error means the host (or, for Docker tasks, its engine) could not be reached, which
/// `--skip-bad-hosts` turns into a warning: asked of each typed error in the chain.
pub(crate) fn is_unreachable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<DockerError>()
            .is_some_and(DockerError::is_unreachable)
            || cause
                .downcast_ref::<crate::ssh::SshError>()
                .is_some_and(crate::ssh::SshError::is_unreachable)
    })
}
