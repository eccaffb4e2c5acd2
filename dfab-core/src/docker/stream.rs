//! `EngineStream`: one HTTP connection to an engine (a Unix socket, a TCP socket or an SSH channel's socket pair)
//! with the [`Guard`] watching what passes.

use std::io;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection as HyperConnection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::guard::{Guard, LastError, Limits};

/// The socket under an engine connection.
pub(crate) enum Socket {
    /// A Unix socket: the local engine's, or an SSH channel's local end.
    Unix(tokio::net::UnixStream),
    /// A TCP connection to a local engine's port.
    Tcp(tokio::net::TcpStream),
}

/// One HTTP connection to an engine.
pub(crate) struct EngineStream {
    socket: Socket,
    /// socat's stderr on the host, kept open (and unread) for the channel's life: closing it would end the channel.
    _stderr: Option<StdUnixStream>,
    guard: Guard,
    /// Where reads land before the guard sees them.
    scratch: Vec<u8>,
}

/// The most one read takes: a socket pair's or a socket's buffer.
const READ_SIZE: usize = 256 * 1024;

impl EngineStream {
    /// A connection over `socket`, watched with `limits` for requests that carry none; the watch notes its errors
    /// in `last`.
    pub(crate) fn new(
        socket: Socket,
        stderr: Option<StdUnixStream>,
        limits: Limits,
        last: LastError,
    ) -> EngineStream {
        EngineStream {
            socket,
            _stderr: stderr,
            guard: Guard::new(limits, last),
            scratch: vec![0; READ_SIZE],
        }
    }
}

impl HyperConnection for EngineStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for EngineStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let want = buf.remaining().min(this.scratch.len());
        let mut read = ReadBuf::new(&mut this.scratch[..want]);
        let polled = match &mut this.socket {
            Socket::Unix(s) => Pin::new(s).poll_read(cx, &mut read),
            Socket::Tcp(s) => Pin::new(s).poll_read(cx, &mut read),
        };
        match polled {
            Poll::Ready(Ok(())) => {
                let filled = read.filled();
                if let Err(e) = this.guard.read(filled) {
                    return Poll::Ready(Err(e));
                }
                buf.put_slice(filled);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.guard.poll_deadline(cx).map(Err),
        }
    }
}

impl hyper::rt::Write for EngineStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = match &mut this.socket {
            Socket::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Socket::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        };
        match polled {
            Poll::Ready(Ok(n)) => {
                this.guard.wrote(&buf[..n]);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.guard.poll_deadline(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().socket {
            Socket::Unix(s) => Pin::new(s).poll_flush(cx),
            Socket::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().socket {
            Socket::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Socket::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
