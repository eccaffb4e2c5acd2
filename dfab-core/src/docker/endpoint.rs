//! Where an engine listens (`Endpoint`) and how a host's engine is reached over SSH (`Tunnel`).

use super::DockerError;

/// The program name dfab's socat processes log under (`-lp`), which marks them as dfab's: `reset_socat` kills
/// only those, never another user's or tool's socat.
pub const SOCAT_MARK: &str = "dfab-tunnel";

/// The default engine socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// An engine address parsed from a base URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A Unix socket path.
    Unix(String),
    /// A TCP address.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
}

impl Endpoint {
    /// Parses `unix:///path`, `http+unix://%2Fpath`, a bare path, `tcp://host[:port]` or `http://host[:port]`;
    /// `default_port` fills a TCP address without one.
    pub fn parse(url: &str, default_port: u16) -> Result<Endpoint, DockerError> {
        let bad = || DockerError::BadBaseUrl {
            url: url.to_owned(),
        };
        let url = url.trim();
        if let Some(path) = url.strip_prefix("unix://") {
            return non_empty(path).map(Endpoint::Unix).ok_or_else(bad);
        }
        if let Some(encoded) = url.strip_prefix("http+unix://") {
            // docker-py writes the socket path percent-encoded in the host part.
            let path = encoded
                .replace("%2F", "/")
                .replace("%2f", "/")
                .trim_end_matches('/')
                .to_owned();
            return non_empty(&path)
                .filter(|p| p.starts_with('/'))
                .map(Endpoint::Unix)
                .ok_or_else(bad);
        }
        if url.starts_with('/') {
            return Ok(Endpoint::Unix(url.to_owned()));
        }
        let address = url
            .strip_prefix("tcp://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(bad)?
            .trim_end_matches('/');
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || address.starts_with('[') => {
                (host, port.parse().map_err(|_| bad())?)
            }
            _ => (address, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        non_empty(host)
            .map(|host| Endpoint::Tcp { host, port })
            .ok_or_else(bad)
    }

    /// The address as the docker command line takes it with `-H` on the engine's host.
    pub fn url(&self) -> String {
        match self {
            Endpoint::Unix(path) => format!("unix://{path}"),
            Endpoint::Tcp { host, port } => format!("tcp://{host}:{port}"),
        }
    }

    /// The address as users write it, for messages.
    pub fn describe(&self) -> String {
        match self {
            Endpoint::Unix(path) => path.clone(),
            Endpoint::Tcp { host, port } => format!("tcp://{host}:{port}"),
        }
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// How each HTTP connection to a host's engine travels through the SSH connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Tunnel {
    /// A direct channel to the socket (or TCP port), and socat on a connection whose server refuses those: the
    /// default, since a direct channel does not start the user's login shell for every HTTP connection.
    Auto,
    /// `socat STDIO UNIX-CONNECT:<socket>` (or `TCP:<host>:<port>`) run on the host for each channel.
    Socat,
    /// A `direct-streamlocal@openssh.com` channel to the socket.
    StreamLocal,
    /// A `direct-tcpip` channel to the engine's TCP port.
    Tcp,
}

impl Tunnel {
    /// Reads `env.docker_tunnel` and checks that it can reach `endpoint`.
    pub fn parse(kind: &str, endpoint: &Endpoint) -> Result<Tunnel, DockerError> {
        let bad = |reason: &str| DockerError::BadTunnel {
            kind: kind.to_owned(),
            reason: reason.to_owned(),
        };
        let tunnel = match kind {
            "auto" => Tunnel::Auto,
            "socat" => Tunnel::Socat,
            "streamlocal" => Tunnel::StreamLocal,
            "tcp" => Tunnel::Tcp,
            _ => {
                return Err(bad(
                    "is not a tunnel kind: expected auto, socat, streamlocal or tcp",
                ))
            }
        };
        match (&tunnel, endpoint) {
            (Tunnel::StreamLocal, Endpoint::Tcp { .. }) => {
                Err(bad("needs a Unix socket base URL, not a TCP address"))
            }
            (Tunnel::Tcp, Endpoint::Unix(_)) => {
                Err(bad("needs a tcp://host:port base URL, not a Unix socket"))
            }
            _ => Ok(tunnel),
        }
    }

    /// The socat command that connects a channel's stdio to `endpoint`. socat's default 8 KiB buffer made image
    /// uploads 15% slower than `ssh host docker load`; 256 KiB matches the channel's chunk size.
    pub fn socat_command(endpoint: &Endpoint) -> String {
        let address = match endpoint {
            Endpoint::Unix(path) => format!("UNIX-CONNECT:{path}"),
            Endpoint::Tcp { host, port } => format!("TCP:{host}:{port}"),
        };
        let plain = address
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:".contains(c));
        if plain {
            format!("socat -lp {SOCAT_MARK} -b 262144 STDIO {address}")
        } else {
            format!(
                "socat -lp {SOCAT_MARK} -b 262144 STDIO {}",
                crate::ssh::quote(&address)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let unix = |p: &str| Ok(Endpoint::Unix(p.to_owned()));
        let tcp = |h: &str, port| {
            Ok(Endpoint::Tcp {
                host: h.to_owned(),
                port,
            })
        };
        let cases: Vec<(&str, Result<Endpoint, ()>)> = vec![
            ("unix:///var/run/docker.sock", unix("/var/run/docker.sock")),
            (
                "http+unix://%2Fvar%2Frun%2Fdocker.sock",
                unix("/var/run/docker.sock"),
            ),
            (
                "/run/user/1000/docker.sock",
                unix("/run/user/1000/docker.sock"),
            ),
            ("tcp://10.0.0.5:2376", tcp("10.0.0.5", 2376)),
            ("tcp://10.0.0.5", tcp("10.0.0.5", 2375)),
            ("http://engine:4243/", tcp("engine", 4243)),
            ("tcp://[::1]:2375", tcp("::1", 2375)),
            ("unix://", Err(())),
            ("ssh://host", Err(())),
            ("tcp://host:port", Err(())),
            ("docker.sock", Err(())),
        ];
        for (url, expected) in cases {
            assert_eq!(
                Endpoint::parse(url, 2375).map_err(|_| ()),
                expected,
                "{url}"
            );
        }
        assert_eq!(
            Endpoint::parse("ssh://host", 2375).unwrap_err().to_string(),
            "docker_base_url 'ssh://host' is not a Docker address: expected unix:///path, http+unix://…, a socket path or tcp://host:port"
        );
    }

    #[test]
    fn tunnel_kinds() {
        let sock = Endpoint::Unix(DEFAULT_SOCKET.into());
        let tcp = Endpoint::Tcp {
            host: "localhost".into(),
            port: 2375,
        };
        assert_eq!(Tunnel::parse("auto", &tcp).ok(), Some(Tunnel::Auto));
        assert_eq!(Tunnel::parse("socat", &sock).ok(), Some(Tunnel::Socat));
        assert_eq!(Tunnel::parse("socat", &tcp).ok(), Some(Tunnel::Socat));
        assert_eq!(
            Tunnel::parse("streamlocal", &sock).ok(),
            Some(Tunnel::StreamLocal)
        );
        assert_eq!(Tunnel::parse("tcp", &tcp).ok(), Some(Tunnel::Tcp));
        assert_eq!(
            Tunnel::parse("ssh", &sock).unwrap_err().to_string(),
            "docker_tunnel 'ssh' is not a tunnel kind: expected auto, socat, streamlocal or tcp"
        );
        assert!(Tunnel::parse("tcp", &sock).is_err());
        assert!(Tunnel::parse("streamlocal", &tcp).is_err());
        assert_eq!(
            Tunnel::socat_command(&sock),
            "socat -lp dfab-tunnel -b 262144 STDIO UNIX-CONNECT:/var/run/docker.sock"
        );
        assert_eq!(
            Tunnel::socat_command(&Endpoint::Unix("/run/my docker.sock".into())),
            "socat -lp dfab-tunnel -b 262144 STDIO 'UNIX-CONNECT:/run/my docker.sock'"
        );
    }
}
