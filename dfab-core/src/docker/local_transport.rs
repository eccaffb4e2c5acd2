//! The hyper connector to the local engine (its Unix socket or TCP port), with the same watch on each connection
//! as the SSH tunnel's.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::Uri;

use super::endpoint::Endpoint;
use super::guard::{LastError, Limits};
use super::stream::{EngineStream, Socket};

/// Opens connections to the local engine.
#[derive(Clone)]
pub(crate) struct LocalConnector {
    endpoint: Endpoint,
    limits: Limits,
    last: LastError,
}

impl LocalConnector {
    /// A connector to `endpoint`, watched with `limits` for requests that carry none, noting errors in `last`.
    pub(crate) fn new(endpoint: Endpoint, limits: Limits, last: LastError) -> LocalConnector {
        LocalConnector {
            endpoint,
            limits,
            last,
        }
    }
}

impl tower_service::Service<Uri> for LocalConnector {
    type Response = EngineStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<EngineStream>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let (endpoint, limits, last) = (self.endpoint.clone(), self.limits, self.last.clone());
        Box::pin(async move {
            let socket = match endpoint {
                Endpoint::Unix(path) => Socket::Unix(tokio::net::UnixStream::connect(path).await?),
                Endpoint::Tcp { host, port } => {
                    let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
                    stream.set_nodelay(true)?;
                    Socket::Tcp(stream)
                }
            };
            Ok(EngineStream::new(socket, None, limits, last))
        })
    }
}
