//! What can go wrong when connecting, in Fabric's words where Fabric had them.

use super::HostStringError;

/// A connection that could not be made or used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    /// Every attempt timed out.
    #[error("Timed out trying to connect to {host} (tried {tries} time{})", plural(*.tries))]
    Timeout {
        /// The host.
        host: String,
        /// Attempts made.
        tries: u32,
    },
    /// The TCP connection failed (refused, unreachable, …).
    #[error("Low level socket error connecting to host {host} on port {port}: {reason} (tried {tries} time{})", plural(*.tries))]
    Socket {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The operating system's reason.
        reason: String,
        /// Attempts made.
        tries: u32,
    },
    /// The name does not resolve.
    #[error("Name lookup failed for {host}")]
    NameLookup {
        /// The host.
        host: String,
    },
    /// The SSH handshake failed.
    #[error("SSH handshake with {host} failed: {reason}")]
    Handshake {
        /// The host.
        host: String,
        /// libssh2's reason.
        reason: String,
    },
    /// The server's key differs from the one in a known_hosts file.
    #[error("Host key for {host} did not match pre-existing key in {file}! Server's key was changed recently, or possible man-in-the-middle attack.")]
    HostKeyChanged {
        /// The host as looked up (`[host]:port` for other ports than 22).
        host: String,
        /// The known_hosts file holding the other key.
        file: String,
    },
    /// `-r` and the host is in no known_hosts file.
    #[error("Server '{host}' not found in known_hosts; after checking its key, add it with: {keyscan} >> ~/.ssh/known_hosts")]
    UnknownHost {
        /// The host as looked up (`[host]:port` for other ports than 22).
        host: String,
        /// The command that fetches the key (`ssh-keyscan -p PORT HOST`).
        keyscan: String,
    },
    /// A key file (`-i`, `env.key_filename`) that cannot be read.
    #[error("cannot read the key file {file}: {reason}")]
    KeyFile {
        /// The file.
        file: String,
        /// The system's reason.
        reason: String,
    },
    /// The server's key is marked `@revoked` in a known_hosts file.
    #[error("Host key for {host} is revoked in {at}: refusing to connect")]
    HostKeyRevoked {
        /// The host as looked up.
        host: String,
        /// `file:line` of the `@revoked` line.
        at: String,
    },
    /// Every authentication method failed.
    #[error("Authentication failed for {user}@{host}: {tried}; give a key with -i, load it into ssh-agent, or a password with -p")]
    Auth {
        /// The user.
        user: String,
        /// The host.
        host: String,
        /// What was tried.
        tried: String,
    },
    /// A prompt was needed but prompts are off.
    #[error("{0}")]
    Prompt(String),
    /// The gateway could not reach the host.
    #[error("the gateway {gateway} could not connect to {host}:{port}: {reason}")]
    Gateway {
        /// The gateway host string.
        gateway: String,
        /// The target host.
        host: String,
        /// The target port.
        port: u16,
        /// Why.
        reason: String,
    },
    /// The connection broke, or a channel could not be opened on it.
    #[error("{0}")]
    Channel(String),
    /// The server refused to open a channel of this kind (its configuration forbids it); the connection is fine.
    #[error("{0}")]
    ChannelRefused(String),
    /// A host string that names no host.
    #[error(transparent)]
    HostString(#[from] HostStringError),
    /// `env.port` is not a port number.
    #[error("env key 'port' expects a port number from 1 to 65535, not '{value}'")]
    BadPort {
        /// The value of `env.port`.
        value: String,
    },
    /// The connection to the gateway a host is reached through failed.
    #[error("connecting to the gateway {gateway}")]
    ViaGateway {
        /// The gateway host string.
        gateway: String,
        /// Why the gateway could not be reached.
        source: Box<SshError>,
    },
    /// A thread panicked while holding the connection cache.
    #[error("the connection cache is poisoned")]
    CachePoisoned,
}

impl SshError {
    /// Whether the host could not be reached at all (which `--skip-bad-hosts` turns into a warning), as opposed
    /// to being reached and refusing (a changed key, failed authentication) or breaking later.
    pub fn is_unreachable(&self) -> bool {
        match self {
            SshError::Timeout { .. }
            | SshError::Socket { .. }
            | SshError::NameLookup { .. }
            | SshError::Handshake { .. }
            | SshError::Gateway { .. } => true,
            SshError::ViaGateway { source, .. } => source.is_unreachable(),
            _ => false,
        }
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
