//! One SSH connection: opened and authenticated here, then served by its I/O thread for every caller.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ssh2::{Session, Sftp};

use super::auth::authenticate;
use super::io_thread::{Core, FileEnd, Open, Opened, Request};
use super::known_hosts::check_host_key;
use super::target::Target;
use super::SshError;
use crate::env::Env;

/// A live, authenticated connection shared by every operation on its host.
pub struct Connection {
    requests: Mutex<Sender<Request>>,
    wake: UnixStream,
    thread: Mutex<Option<JoinHandle<()>>>,
    broken: Arc<AtomicBool>,
    /// Where it leads.
    pub target: Target,
}

/// The socket under a session: TCP to the host, or a tunnel through a gateway.
pub(crate) enum Transport {
    /// A direct TCP connection.
    Direct,
    /// A channel of the gateway's connection, bridged to a local socket.
    Tunnel(UnixStream),
}

impl Connection {
    /// Connects, checks the host key, authenticates, and starts the I/O thread.
    pub(crate) fn open(
        target: &Target,
        env: &Env,
        transport: Transport,
    ) -> Result<Connection, SshError> {
        let (session, socket) = match transport {
            Transport::Direct => connect_direct(target, env)?,
            Transport::Tunnel(stream) => {
                let mut session = Session::new().map_err(|e| handshake_error(target, &e))?;
                let socket = duplicate(&stream, target)?;
                session.set_tcp_stream(stream);
                handshake(&mut session, target, env)?;
                (session, socket)
            }
        };
        check_host_key(&session, &target.host, target.port, env)?;
        authenticate(&session, target)?;
        session.set_timeout(0);

        let (requests, receiver) = mpsc::channel();
        let (wake, wake_rx) = UnixStream::pair()
            .map_err(|e| SshError::Channel(format!("cannot create a local socket pair: {e}")))?;
        let _ = wake_rx.set_nonblocking(true);
        let _ = wake.set_nonblocking(true);
        let broken = Arc::new(AtomicBool::new(false));
        let core = Core::new(
            session,
            socket,
            wake_rx,
            receiver,
            u32::try_from(env.keepalive).unwrap_or(u32::MAX),
            target.host_string.clone(),
            Arc::clone(&broken),
        );
        let core = if target.forward_agent {
            warn_without_agent();
            core.forward_agent()
        } else {
            core
        };
        let thread = std::thread::Builder::new()
            .name(format!("ssh {}", target.host_string))
            .spawn(move || core.run())
            .map_err(|e| SshError::Channel(format!("cannot start the I/O thread: {e}")))?;
        Ok(Connection {
            requests: Mutex::new(requests),
            wake,
            thread: Mutex::new(Some(thread)),
            broken,
            target: target.clone(),
        })
    }

    /// Whether the connection has dropped.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::SeqCst)
    }

    fn send(&self, request: Request) -> Result<(), SshError> {
        let sent = self
            .requests
            .lock()
            .map_err(|_| self.closed())?
            .send(request)
            .map_err(|_| self.closed());
        // A full wake socket already holds a wake-up; nothing is lost when this write would block.
        let _ = (&self.wake).write(&[1]);
        sent
    }

    fn closed(&self) -> SshError {
        SshError::Channel(format!(
            "the connection to {} is closed",
            self.target.host_string
        ))
    }

    fn open_channel(&self, open: Open) -> Result<Opened, SshError> {
        self.open_with_file(open, None)
    }

    fn open_with_file(&self, open: Open, file: Option<FileEnd>) -> Result<Opened, SshError> {
        let (reply, answer) = mpsc::channel();
        self.send(Request::Open(open, file, reply))?;
        answer.recv().map_err(|_| self.closed())?
    }

    /// Runs `command`; its stdin/stdout (and stderr, when separate) are local sockets.
    pub fn exec(&self, command: &str, pty: bool, combine_stderr: bool) -> Result<Opened, SshError> {
        self.open_channel(Open::Exec {
            command: command.to_owned(),
            pty,
            combine_stderr,
        })
    }

    /// Runs `command` with its input read from, or its output written to, a local file by the connection's I/O
    /// thread.
    pub(crate) fn exec_with_file(&self, command: &str, file: FileEnd) -> Result<Opened, SshError> {
        self.open_with_file(
            Open::Exec {
                command: command.to_owned(),
                pty: false,
                combine_stderr: false,
            },
            Some(file),
        )
    }

    /// An interactive login shell with a pty.
    pub fn shell(&self) -> Result<Opened, SshError> {
        self.open_channel(Open::Shell)
    }

    /// A stream to a Unix socket on the host, such as the Docker socket.
    pub fn stream_local(&self, path: &str) -> Result<UnixStream, SshError> {
        self.open_channel(Open::StreamLocal(path.to_owned()))
            .map(|opened| opened.stream)
    }

    /// A stream to a TCP port reachable from the host.
    pub fn tcpip(&self, host: &str, port: u16) -> Result<UnixStream, SshError> {
        self.open_channel(Open::Tcpip {
            host: host.to_owned(),
            port,
        })
        .map(|opened| opened.stream)
    }

    /// Runs SFTP calls on the connection's SFTP session (opened on first use).
    pub fn sftp<T: Send + 'static>(
        &self,
        call: impl FnMut(&Sftp) -> Result<T, ssh2::Error> + Send + 'static,
    ) -> Result<T, SshError> {
        let (reply, answer) = mpsc::channel();
        let job = Box::new(move |core: &mut Core| {
            let _ = reply.send(core.sftp(call));
        });
        self.send(Request::Job(job))?;
        answer
            .recv()
            .map_err(|_| self.closed())?
            .map_err(SshError::Channel)
    }

    /// Closes every channel and the session, and waits for the I/O thread.
    pub fn close(&self) {
        let (reply, answer) = mpsc::channel();
        if self.send(Request::Close(reply)).is_ok() {
            let _ = answer.recv_timeout(Duration::from_secs(5));
        }
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.close();
    }
}

fn handshake_error(target: &Target, error: &ssh2::Error) -> SshError {
    SshError::Handshake {
        host: target.host_string.clone(),
        reason: error.message().to_owned(),
    }
}

/// A duplicate of a stream's socket, for the I/O thread's polling.
fn duplicate(stream: &impl AsFd, target: &Target) -> Result<OwnedFd, SshError> {
    stream.as_fd().try_clone_to_owned().map_err(|e| {
        SshError::Channel(format!(
            "cannot duplicate the socket of {}: {e}",
            target.host_string
        ))
    })
}

/// The SSH handshake, bounded by `env.timeout`.
fn handshake(session: &mut Session, target: &Target, env: &Env) -> Result<(), SshError> {
    session.set_timeout(u32::try_from(env.timeout.saturating_mul(1000)).unwrap_or(u32::MAX));
    session.handshake().map_err(|e| handshake_error(target, &e))
}

/// libssh2's code for a blocking call that ran out of time.
const LIBSSH2_ERROR_TIMEOUT: i32 = -9;

/// Why one attempt to reach a host failed.
enum Attempt {
    /// The TCP connection failed; whether it timed out.
    Tcp(std::io::Error),
    /// The server accepted the connection but did not complete the SSH handshake in time.
    HandshakeTimeout,
}

/// TCP connection and SSH handshake with `env.timeout` and `env.connection_attempts`: a refused connection, a
/// connection that times out and a handshake that times out (a host that accepts but never answers) are all
/// tried again, as `-n` promises. Sets TCP_NODELAY, which decides channel latency.
fn connect_direct(target: &Target, env: &Env) -> Result<(Session, OwnedFd), SshError> {
    let addresses: Vec<SocketAddr> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|_| SshError::NameLookup {
            host: target.host.clone(),
        })?
        .collect();
    let timeout = Duration::from_secs(env.timeout.max(1));
    let attempts = env.connection_attempts.max(1);
    let mut last = None;
    for attempt in 1..=attempts {
        for address in &addresses {
            let stream = match TcpStream::connect_timeout(address, timeout) {
                Ok(stream) => stream,
                Err(e) => {
                    last = Some(Attempt::Tcp(e));
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let mut session = Session::new().map_err(|e| handshake_error(target, &e))?;
            let socket = duplicate(&stream, target)?;
            session.set_tcp_stream(stream);
            match handshake(&mut session, target, env) {
                Ok(()) => return Ok((session, socket)),
                Err(_) if session_timed_out(&session) => last = Some(Attempt::HandshakeTimeout),
                Err(other) => return Err(other),
            }
        }
        // A refused connection is tried again after a pause; a timeout has already waited.
        let waited = matches!(&last, Some(Attempt::HandshakeTimeout))
            || matches!(&last, Some(Attempt::Tcp(e)) if e.kind() == std::io::ErrorKind::TimedOut);
        if attempt < attempts && !waited {
            std::thread::sleep(timeout);
        }
    }
    match last {
        Some(Attempt::HandshakeTimeout) => Err(SshError::Timeout {
            host: target.host.clone(),
            tries: attempts,
        }),
        Some(Attempt::Tcp(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            Err(SshError::Timeout {
                host: target.host.clone(),
                tries: attempts,
            })
        }
        Some(Attempt::Tcp(e)) => Err(SshError::Socket {
            host: target.host.clone(),
            port: target.port,
            reason: os_reason(&e),
            tries: attempts,
        }),
        None => Err(SshError::Socket {
            host: target.host.clone(),
            port: target.port,
            reason: "no address".into(),
            tries: attempts,
        }),
    }
}

/// Whether the session's last error was a timeout.
fn session_timed_out(session: &Session) -> bool {
    ssh2::Error::last_session_error(session)
        .is_some_and(|e| e.code() == ssh2::ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT))
}

/// "Connection refused" rather than "Connection refused (os error 111)".
fn os_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(index) => text[..index].to_owned(),
        None => text,
    }
}

/// Says once per run that `-A` has no local agent to forward, rather than leaving the remote side to report
/// "communication with agent failed".
fn warn_without_agent() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    let reachable =
        std::env::var_os("SSH_AUTH_SOCK").is_some_and(|path| UnixStream::connect(path).is_ok());
    if !reachable {
        WARNED.call_once(|| {
            crate::term::output::warn(
                "-A: there is no local ssh-agent to forward (SSH_AUTH_SOCK is not set, or no agent answers \
                 there); the remote side sees no agent",
            )
        });
    }
}
