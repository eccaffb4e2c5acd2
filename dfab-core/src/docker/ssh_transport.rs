//! The hyper connector that gives bollard one SSH channel per HTTP connection, on the host's cached connection.
//!
//! Channels are local socket pairs served by the connection's I/O thread, so each one is an ordinary Unix stream
//! to tokio; no TCP port is opened that other local users could reach.

use std::future::Future;
use std::io;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::Uri;

use super::endpoint::{Endpoint, Tunnel, DEFAULT_SOCKET};
use super::guard::{LastError, Limits};
use super::stream::{EngineStream, Socket};
use super::DockerError;
use crate::env::Env;
use crate::ssh::{Connection, SshError};
use crate::term::output::{self, Stream};

/// Opens tunnel channels to one host's engine.
#[derive(Clone)]
pub(crate) struct SshConnector {
    connection: Arc<Connection>,
    tunnel: Tunnel,
    endpoint: Endpoint,
    host: String,
    /// Print the socat command line for each channel (`socat_quiet = false`).
    show_socat: bool,
    /// Print debug lines (`--show debug`); read here because channels open on tokio's threads, not the task's.
    show_debug: bool,
    /// The watch's limits for requests that carry none.
    limits: Limits,
    /// Where the watch notes its errors for the client.
    last: LastError,
}

impl SshConnector {
    /// The route to `host`'s engine that `env` describes (`docker_base_url`, `docker_tunnel`), on the host's
    /// cached SSH connection.
    pub(crate) fn from_env(
        env: &Env,
        host: &str,
        last: LastError,
    ) -> Result<SshConnector, DockerError> {
        let url = env
            .docker_base_url
            .clone()
            .unwrap_or_else(|| DEFAULT_SOCKET.to_owned());
        let endpoint = Endpoint::parse(&url, env.docker_tunnel_remote_port)?;
        let tunnel = Tunnel::parse(&env.docker_tunnel, &endpoint)?;
        Ok(SshConnector {
            connection: crate::ssh::connection(host)?,
            tunnel,
            endpoint,
            host: host.to_owned(),
            show_socat: !env.socat_quiet,
            show_debug: env.output.debug,
            limits: Limits::of(env),
            last,
        })
    }

    /// The connection, channel kind and engine address this connector uses.
    pub(crate) fn route(&self) -> (Arc<Connection>, Tunnel, Endpoint) {
        (
            Arc::clone(&self.connection),
            self.tunnel.clone(),
            self.endpoint.clone(),
        )
    }

    /// Opens one channel: its stream, and socat's stderr, which must stay open as long as the channel.
    pub(crate) fn open_channel(&self) -> io::Result<(StdUnixStream, Option<StdUnixStream>)> {
        match self.effective() {
            Tunnel::Auto => match self.open_kind(&Tunnel::StreamLocal) {
                Err(SshError::ChannelRefused(reason)) => {
                    if refuses_direct_channels(&self.host) && self.show_debug {
                        output::write(
                            Stream::Stdout,
                            &format!(
                                "[{}] the server refused a direct channel to the engine ({reason}); socat \
                                 from now on\n",
                                self.host
                            ),
                        );
                    }
                    self.open_kind(&Tunnel::Socat)
                }
                other => other,
            },
            kind => self.open_kind(&kind),
        }
        .map_err(io::Error::other)
    }

    /// The kind of channel the next one will be: `Auto` until the host's server refuses direct channels, socat after.
    pub(crate) fn effective(&self) -> Tunnel {
        match self.tunnel {
            Tunnel::Auto if direct_channels_refused(&self.host) => Tunnel::Socat,
            ref kind => kind.clone(),
        }
    }

    /// Opens a channel of one kind (`StreamLocal` means the direct channel for either kind of endpoint).
    fn open_kind(&self, kind: &Tunnel) -> Result<(StdUnixStream, Option<StdUnixStream>), SshError> {
        let (stream, stderr) = match (kind, &self.endpoint) {
            (Tunnel::Socat, endpoint) => {
                let command = Tunnel::socat_command(endpoint);
                if self.show_socat {
                    output::write(
                        Stream::Stdout,
                        &format!("[{}] socat: {command}\n", self.host),
                    );
                }
                let opened = self.connection.exec(&command, false, false)?;
                (opened.stream, opened.stderr)
            }
            (_, Endpoint::Unix(path)) => (self.connection.stream_local(path)?, None),
            (_, Endpoint::Tcp { host, port }) => (self.connection.tcpip(host, *port)?, None),
        };
        Ok((stream, stderr))
    }

    /// Opens one channel as a tokio stream; blocking, so it runs on tokio's blocking pool.
    fn open(&self) -> io::Result<EngineStream> {
        let (stream, stderr) = self.open_channel()?;
        stream.set_nonblocking(true)?;
        Ok(EngineStream::new(
            Socket::Unix(tokio::net::UnixStream::from_std(stream)?),
            stderr,
            self.limits,
            self.last.clone(),
        ))
    }
}

impl tower_service::Service<Uri> for SshConnector {
    type Response = EngineStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<EngineStream>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let connector = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || connector.open())
                .await
                .map_err(io::Error::other)?
        })
    }
}

/// The hosts whose servers refused a direct channel to the engine in this run: `auto` uses socat there from then
/// on, instead of asking again for every HTTP connection.
static REFUSED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Records that `host`'s server refuses direct channels; true the first time, so the run says it once.
fn refuses_direct_channels(host: &str) -> bool {
    let mut refused = REFUSED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let first = !refused.iter().any(|h| h == host);
    if first {
        refused.push(host.to_owned());
    }
    first
}

/// Whether channels of `tunnel` to `host`'s engine go through socat now.
pub(crate) fn uses_socat(tunnel: &Tunnel, host: &str) -> bool {
    match tunnel {
        Tunnel::Socat => true,
        Tunnel::Auto => direct_channels_refused(host),
        Tunnel::StreamLocal | Tunnel::Tcp => false,
    }
}

fn direct_channels_refused(host: &str) -> bool {
    REFUSED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .any(|h| h == host)
}
