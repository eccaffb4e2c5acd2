//! The thread that owns one SSH session and moves the data of all its channels.
//!
//! libssh2 sessions are not safe for concurrent blocking use, so exactly one thread touches the session, in
//! non-blocking mode. Each channel is bridged to a local socket pair: callers read and write an ordinary
//! `UnixStream` (or hand it to hyper), and this thread copies between that socket and the channel in 256 KiB
//! chunks whenever either side is ready. SFTP calls run on this thread as jobs that keep the channels moving
//! while they wait.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use ssh2::{BlockDirections, Channel, ErrorCode, ExtendedData, Session, Sftp};

use super::agent_forward;
use super::link::Link;
use super::SshError;

/// Bytes moved per read or write: measured against OpenSSH's sshd, ssh2 streams fastest from about this size on,
/// and larger buffers gain nothing.
const CHUNK: usize = 256 * 1024;
/// libssh2's "would block" code.
const EAGAIN: i32 = -37;

/// Whether a libssh2 error only means "try again when the socket is ready".
pub(crate) fn would_block(error: &ssh2::Error) -> bool {
    error.code() == ErrorCode::Session(EAGAIN)
}

/// What kind of channel to open.
#[derive(Clone, Debug)]
pub(crate) enum Open {
    /// Run a command: with a pty or not, merging stderr into stdout or not.
    Exec {
        command: String,
        pty: bool,
        combine_stderr: bool,
    },
    /// An interactive login shell with a pty.
    Shell,
    /// Connect to a Unix socket on the remote host (`direct-streamlocal@openssh.com`).
    StreamLocal(String),
    /// Connect to a TCP port reachable from the remote host (`direct-tcpip`).
    Tcpip { host: String, port: u16 },
}

/// How a channel ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exit {
    /// The exit status, when the remote command reported one.
    pub status: Option<i32>,
    /// The signal that killed the remote command, if any.
    pub signal: Option<String>,
    /// Set when the connection failed before the channel closed.
    pub error: Option<String>,
}

/// The caller's side of an opened channel.
pub struct Opened {
    /// The channel's data (stdin and stdout for commands).
    pub stream: UnixStream,
    /// The command's separate stderr, when it has one.
    pub stderr: Option<UnixStream>,
    /// Receives how the channel ended, after its last data was delivered.
    pub done: Receiver<Exit>,
}

/// A local file the I/O thread reads a channel's input from, or writes its output to, sparing the caller a copy
/// through the socket pair for bulk transfers.
pub(crate) enum FileEnd {
    /// The channel's input comes from this file; the counter says how many bytes were read so far.
    Source(File, PathBuf, Arc<AtomicU64>),
    /// The channel's output goes to this file; the counter says how many bytes were written so far.
    Sink(File, PathBuf, Arc<AtomicU64>),
}

impl FileEnd {
    /// The file's path and byte counter.
    fn progress(&self) -> (&PathBuf, &AtomicU64) {
        match self {
            FileEnd::Source(_, path, moved) | FileEnd::Sink(_, path, moved) => (path, moved),
        }
    }
}

/// Work for the I/O thread.
pub(crate) enum Request {
    Open(Open, Option<FileEnd>, Sender<Result<Opened, SshError>>),
    Job(Box<dyn FnOnce(&mut Core) + Send>),
    Close(Sender<()>),
}

/// A buffer of bytes read from one side and not yet written to the other: `data[start..end]`.
#[derive(Default)]
struct Pending {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.is_empty() {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads once from `source` into the empty buffer: `Some(n)` bytes (0 = end), `None` when it would block.
    fn fill(
        &mut self,
        read: impl FnOnce(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<Option<usize>> {
        // Sized (and zeroed) once: zeroing 256 KiB again for every read of one 32 KiB packet cost downloads dearly.
        if self.data.len() < CHUNK {
            self.data.resize(CHUNK, 0);
        }
        self.start = 0;
        self.end = 0;
        match read(&mut self.data) {
            Ok(n) => {
                self.end = n;
                Ok(Some(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Why a bridge stopped.
enum Failure {
    /// The session is unusable: every channel ends.
    Connection(String),
    /// Only this channel failed.
    Channel(String),
}

impl Failure {
    fn from_ssh(error: &ssh2::Error) -> Failure {
        if is_fatal(error) {
            Failure::Connection(error.message().to_owned())
        } else {
            Failure::Channel(error.message().to_owned())
        }
    }
}

/// One channel and the local socket(s) it is bridged to.
struct Bridge {
    channel: Box<dyn Link>,
    local: UnixStream,
    file: Option<FileEnd>,
    /// Why reading or writing `file` failed.
    file_error: Option<String>,
    local_err: Option<UnixStream>,
    to_remote: Pending,
    from_remote: Pending,
    from_remote_err: Pending,
    /// The caller closed its writing side (or dropped the stream).
    local_eof: bool,
    eof_sent: bool,
    remote_eof: bool,
    /// The caller's side is gone: stop delivering and close the channel.
    local_gone: bool,
    delivered_eof: bool,
    close_sent: bool,
    done: Sender<Exit>,
}

impl Bridge {
    /// Moves whatever can move without blocking; true when anything did.
    fn service(&mut self) -> Result<bool, Failure> {
        let mut progress = false;
        // Caller → remote.
        if self.to_remote.is_empty() && !self.local_eof && !self.local_gone {
            if let Some(FileEnd::Source(file, path, moved)) = &mut self.file {
                match self.to_remote.fill(|buf| file.read(buf)) {
                    Ok(Some(0)) => self.local_eof = true,
                    Ok(Some(n)) => {
                        moved.fetch_add(n as u64, Ordering::Relaxed);
                        progress = true
                    }
                    Ok(None) => progress = true,
                    Err(e) => {
                        self.file_error = Some(format!("cannot read '{}': {e}", path.display()));
                        self.local_gone = true;
                    }
                }
            } else {
                match self.to_remote.fill(|buf| self.local.read(buf)) {
                    Ok(Some(0)) => self.local_eof = true,
                    Ok(Some(_)) => progress = true,
                    Ok(None) => {}
                    Err(_) => self.local_gone = true,
                }
            }
        }
        while !self.to_remote.is_empty() && !self.local_gone {
            match self.channel.send(self.to_remote.bytes()) {
                Ok(n) => {
                    self.to_remote.consume(n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.to_remote.consume(self.to_remote.bytes().len());
                    self.local_gone = true;
                }
            }
        }
        if self.local_eof && self.to_remote.is_empty() && !self.eof_sent && !self.remote_eof {
            match self.channel.send_eof() {
                Ok(()) => {
                    self.eof_sent = true;
                    progress = true;
                }
                Err(e) if would_block(&e) => {}
                Err(_) => self.eof_sent = true,
            }
        }
        // Remote → caller.
        progress |= self.pump_out(false)?;
        progress |= self.pump_out(true)?;
        if !self.remote_eof
            && self.from_remote.is_empty()
            && self.from_remote_err.is_empty()
            && self.channel.eof()
        {
            self.remote_eof = true;
            progress = true;
        }
        if self.remote_eof
            && self.from_remote.is_empty()
            && self.from_remote_err.is_empty()
            && !self.delivered_eof
        {
            let _closed = self.local.shutdown(std::net::Shutdown::Write);
            self.local_err = None;
            self.delivered_eof = true;
            progress = true;
        }
        Ok(progress)
    }

    /// Reads from the channel's stdout (or stderr) and writes to the caller's socket.
    fn pump_out(&mut self, stderr: bool) -> Result<bool, Failure> {
        let mut progress = false;
        let (pending, sink) = if stderr {
            match self.local_err.as_mut() {
                Some(sink) => (&mut self.from_remote_err, sink),
                None => return Ok(false),
            }
        } else if let Some(FileEnd::Sink(file, path, moved)) = &mut self.file {
            let channel = &mut self.channel;
            return match self.from_remote.fill(|buf| channel.receive(0, buf)) {
                Ok(Some(n)) if n > 0 => {
                    // After a failed write the rest of the data is read and dropped until the channel closes.
                    if !self.local_gone {
                        match file.write_all(self.from_remote.bytes()) {
                            Ok(()) => {
                                moved.fetch_add(n as u64, Ordering::Relaxed);
                            }
                            Err(e) => {
                                self.file_error = Some(format!("{e} writing '{}'", path.display()));
                                self.local_gone = true;
                            }
                        }
                    }
                    self.from_remote.consume(n);
                    Ok(true)
                }
                Ok(_) => Ok(false),
                Err(e) => Err(Failure::Connection(e.to_string())),
            };
        } else {
            (&mut self.from_remote, &mut self.local)
        };
        if pending.is_empty() && !self.remote_eof {
            let channel = &mut self.channel;
            match pending.fill(|buf| channel.receive(i32::from(stderr), buf)) {
                Ok(Some(n)) if n > 0 => progress = true,
                Ok(_) => {}
                // A read error on a channel is a socket or protocol error of the whole session.
                Err(e) => return Err(Failure::Connection(e.to_string())),
            }
        }
        while !pending.is_empty() {
            if self.local_gone {
                pending.consume(pending.bytes().len());
                break;
            }
            match sink.write(pending.bytes()) {
                Ok(n) => {
                    pending.consume(n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => self.local_gone = true,
            }
        }
        Ok(progress)
    }

    /// Closes the channel once both directions are finished; true when it is closed.
    fn finish(&mut self) -> Result<bool, Failure> {
        if !(self.local_gone || self.delivered_eof) {
            return Ok(false);
        }
        if !self.close_sent {
            match self.channel.close() {
                Ok(()) => self.close_sent = true,
                Err(e) if would_block(&e) => return Ok(false),
                Err(e) => return Err(Failure::from_ssh(&e)),
            }
        }
        match self.channel.wait_close() {
            Ok(()) => {}
            Err(e) if would_block(&e) => return Ok(false),
            Err(e) => return Err(Failure::from_ssh(&e)),
        }
        let (status, signal) = self.channel.exit();
        let exit = Exit {
            status,
            signal,
            error: self.file_error.take(),
        };
        let _caller_may_be_gone = self.done.send(exit);
        Ok(true)
    }

    /// Ends the channel with `reason`; a local file error, the real cause, goes first, and a file transfer says how
    /// far it got.
    fn fail(&mut self, reason: &str) {
        let _ = self.local.shutdown(std::net::Shutdown::Both);
        let mut error = self.file_error.take().unwrap_or_else(|| reason.to_owned());
        if let Some(file) = &self.file {
            let (path, moved) = file.progress();
            error = format!(
                "{error} (after {} bytes of '{}')",
                moved.load(Ordering::Relaxed),
                path.display()
            );
        }
        let _ = self.done.send(Exit {
            error: Some(error),
            ..Exit::default()
        });
    }

    fn interest(&self) -> Vec<(BorrowedFd<'_>, PollFlags)> {
        let mut fds = Vec::new();
        let mut local = PollFlags::empty();
        // A file source is always ready; it is read whenever the channel took the last chunk.
        let reads_socket = !matches!(self.file, Some(FileEnd::Source(..)));
        if reads_socket && self.to_remote.is_empty() && !self.local_eof && !self.local_gone {
            local |= PollFlags::IN;
        }
        if !self.from_remote.is_empty() && !self.local_gone {
            local |= PollFlags::OUT;
        }
        if !local.is_empty() {
            fds.push((self.local.as_fd(), local));
        }
        if let Some(err) = &self.local_err {
            if !self.from_remote_err.is_empty() && !self.local_gone {
                fds.push((err.as_fd(), PollFlags::OUT));
            }
        }
        fds
    }

    /// Whether libssh2 already holds data (or the end of data) that this bridge could deliver now.
    fn has_queued_data(&self) -> bool {
        let can_take = !self.remote_eof
            && !self.local_gone
            && (self.from_remote.is_empty() || self.from_remote_err.is_empty());
        can_take && (self.channel.queued() > 0 || self.channel.eof())
    }

    fn wants_remote_data(&self) -> bool {
        !self.remote_eof && (self.from_remote.is_empty() || self.from_remote_err.is_empty())
    }
}

/// The state the I/O thread owns: the session, its socket, the bridges and the cached SFTP handle.
pub(crate) struct Core {
    session: Session,
    socket: OwnedFd,
    wake: UnixStream,
    requests: Receiver<Request>,
    bridges: Vec<Bridge>,
    sftp: Option<Sftp>,
    keepalive: bool,
    forward_agent: bool,
    broken: Option<String>,
    broken_flag: Arc<AtomicBool>,
    host: String,
    /// When a channel last moved data (or a probe was answered).
    last_progress: Instant,
    /// When the current liveness probe (a keepalive wanting a reply) went out, while channels wait on a silent
    /// server.
    probing_since: Option<Instant>,
    /// How long channels may wait in silence before the server is probed.
    quiet: Duration,
}

/// How long channels wait in silence before the server is probed, without `--keepalive`.
const DEFAULT_PROBE_AFTER: Duration = Duration::from_secs(10);

/// How many probe intervals a server may leave unanswered before its connection counts as dead.
const UNANSWERED_PROBES: u32 = 3;

impl Core {
    /// Takes over a connected, authenticated session. `socket` is a duplicate of the session's socket, for polling.
    pub(crate) fn new(
        session: Session,
        socket: OwnedFd,
        wake: UnixStream,
        requests: Receiver<Request>,
        keepalive: u32,
        host: String,
        broken_flag: Arc<AtomicBool>,
    ) -> Core {
        session.set_blocking(false);
        // Keepalives want a reply: a server that answers nothing, not even those, has stopped (a frozen process
        // keeps its TCP connection up, so only the missing replies tell).
        let quiet = if keepalive > 0 {
            Duration::from_secs(u64::from(keepalive))
        } else {
            DEFAULT_PROBE_AFTER
        };
        session.set_keepalive(true, quiet.as_secs().max(1) as u32);
        Core {
            session,
            socket,
            wake,
            requests,
            bridges: Vec::new(),
            sftp: None,
            keepalive: keepalive > 0,
            forward_agent: false,
            broken: None,
            broken_flag,
            host,
            last_progress: Instant::now(),
            probing_since: None,
            quiet,
        }
    }

    /// Asks for agent forwarding on every command and shell channel, and serves the agent channels that follow.
    pub(crate) fn forward_agent(mut self) -> Core {
        agent_forward::enable(&self.session);
        self.forward_agent = true;
        self
    }

    /// Serves requests until the connection is closed or its handle dropped.
    pub(crate) fn run(mut self) {
        loop {
            loop {
                match self.requests.try_recv() {
                    Ok(Request::Close(reply)) => {
                        self.shutdown();
                        let _ = reply.send(());
                        return;
                    }
                    Ok(request) => self.handle(request),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        self.shutdown();
                        return;
                    }
                }
            }
            if !self.service_all() {
                self.wait();
            }
        }
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Open(open, file, reply) => {
                let result = match &self.broken {
                    Some(reason) => Err(SshError::Channel(reason.clone())),
                    None => self.open(open, file),
                };
                let _ = reply.send(result);
            }
            Request::Job(job) => job(self),
            Request::Close(_) => {}
        }
    }

    /// The text of an error, breaking the connection first when the error is fatal to it.
    fn describe(&mut self, error: &ssh2::Error) -> String {
        if is_fatal(error) {
            self.break_connection(error.message());
            self.broken.clone().unwrap_or_default()
        } else {
            error.message().to_owned()
        }
    }

    fn open(&mut self, open: Open, file: Option<FileEnd>) -> Result<Opened, SshError> {
        let channel = self.open_channel(&open).map_err(|e| {
            // The server said no to this kind of channel (`AllowStreamLocalForwarding no`, say): the connection
            // is fine, and the caller may try another way.
            if e.code() == ErrorCode::Session(libssh2_sys::LIBSSH2_ERROR_CHANNEL_FAILURE) {
                SshError::ChannelRefused(e.message().to_owned())
            } else {
                SshError::Channel(self.describe(&e))
            }
        })?;
        let separate_stderr = matches!(
            open,
            Open::Exec {
                pty: false,
                combine_stderr: false,
                ..
            }
        );
        self.bridge(Box::new(channel), separate_stderr, file)
            .map_err(|e| SshError::Channel(format!("cannot create a local socket pair: {e}")))
    }

    fn open_channel(&mut self, open: &Open) -> Result<Channel, ssh2::Error> {
        let mut channel = match open {
            Open::Exec { .. } | Open::Shell => self.retry(|s| s.channel_session())?,
            Open::StreamLocal(path) => self.retry(|s| s.channel_direct_streamlocal(path, None))?,
            Open::Tcpip { host, port } => {
                self.retry(|s| s.channel_direct_tcpip(host, *port, None))?
            }
        };
        if let Open::Exec {
            command,
            pty,
            combine_stderr,
        } = &open
        {
            self.request_agent(&mut channel)?;
            if *pty {
                self.retry_channel(&mut channel, |c| {
                    c.request_pty("vt100", None, Some((80, 24, 0, 0)))
                })?;
            } else if *combine_stderr {
                self.retry_channel(&mut channel, |c| {
                    c.handle_extended_data(ExtendedData::Merge)
                })?;
            }
            self.retry_channel(&mut channel, |c| c.exec(command))?;
        }
        if let Open::Shell = open {
            self.request_agent(&mut channel)?;
            self.retry_channel(&mut channel, |c| c.request_pty("xterm", None, None))?;
            self.retry_channel(&mut channel, |c| c.shell())?;
        }
        Ok(channel)
    }

    /// Asks the remote side to forward its agent requests on this channel, when `-A` is on. A refusal (the server's
    /// `AllowAgentForwarding no`) only means the command runs without an agent, as with OpenSSH.
    fn request_agent(&mut self, channel: &mut Channel) -> Result<(), ssh2::Error> {
        if !self.forward_agent {
            return Ok(());
        }
        match self.retry_channel(channel, |c| c.request_auth_agent_forwarding()) {
            Err(e) if is_fatal(&e) => Err(e),
            _ => Ok(()),
        }
    }

    /// Connects the agent channels the remote side opened to the local agent; true when there were any.
    fn adopt_agent_channels(&mut self) -> bool {
        if !self.forward_agent {
            return false;
        }
        let opened = agent_forward::take_opened(&self.session);
        let adopted = !opened.is_empty();
        for channel in opened {
            // Without a reachable local agent the bridge sees an immediate end of data and closes the channel,
            // which the remote side reports as "no agent".
            let local = std::env::var_os("SSH_AUTH_SOCK")
                .and_then(|path| UnixStream::connect(path).ok())
                .map(Ok)
                .unwrap_or_else(|| UnixStream::pair().map(|(ours, _closed)| ours));
            if let Ok(local) = local {
                let _ = self.attach(Box::new(channel), local, None, None);
            }
        }
        adopted
    }

    /// Bridges an open channel to a new socket pair (two for a command with separate stderr).
    fn bridge(
        &mut self,
        channel: Box<dyn Link>,
        separate_stderr: bool,
        file: Option<FileEnd>,
    ) -> io::Result<Opened> {
        let (caller, local) = UnixStream::pair()?;
        // Room for several chunks on each side, so the caller and this thread do not take turns 200 KB at a time.
        for socket in [&caller, &local] {
            rustix::net::sockopt::set_socket_send_buffer_size(socket, 4 * CHUNK)?;
            rustix::net::sockopt::set_socket_recv_buffer_size(socket, 4 * CHUNK)?;
        }
        let (caller_err, local_err) = if separate_stderr {
            let (caller_err, local_err) = UnixStream::pair()?;
            let _ = caller_err.shutdown(std::net::Shutdown::Write);
            (Some(caller_err), Some(local_err))
        } else {
            (None, None)
        };
        let done = self.attach(channel, local, local_err, file)?;
        Ok(Opened {
            stream: caller,
            stderr: caller_err,
            done,
        })
    }

    /// Starts moving data between `channel` and the local socket(s); the receiver learns how the channel ended.
    fn attach(
        &mut self,
        channel: Box<dyn Link>,
        local: UnixStream,
        local_err: Option<UnixStream>,
        file: Option<FileEnd>,
    ) -> io::Result<Receiver<Exit>> {
        local.set_nonblocking(true)?;
        if let Some(err) = &local_err {
            err.set_nonblocking(true)?;
        }
        let (done_tx, done) = mpsc::channel();
        self.bridges.push(Bridge {
            channel,
            local,
            file,
            file_error: None,
            local_err,
            to_remote: Pending::default(),
            from_remote: Pending::default(),
            from_remote_err: Pending::default(),
            local_eof: false,
            eof_sent: false,
            remote_eof: false,
            local_gone: false,
            delivered_eof: false,
            close_sent: false,
            done: done_tx,
        });
        Ok(done)
    }

    /// Repeats a session call until it stops blocking, keeping the other channels moving meanwhile.
    fn retry<T>(
        &mut self,
        mut call: impl FnMut(&Session) -> Result<T, ssh2::Error>,
    ) -> Result<T, ssh2::Error> {
        let mut serviced = false;
        loop {
            match call(&self.session) {
                Err(e) if would_block(&e) => serviced = self.between_attempts(serviced),
                other => return other,
            }
        }
    }

    fn retry_channel(
        &mut self,
        channel: &mut Channel,
        mut call: impl FnMut(&mut Channel) -> Result<(), ssh2::Error>,
    ) -> Result<(), ssh2::Error> {
        let mut serviced = false;
        loop {
            match call(channel) {
                Err(e) if would_block(&e) => serviced = self.between_attempts(serviced),
                other => return other,
            }
        }
    }

    /// Runs an SFTP call on the connection's SFTP session, opening it on first use.
    pub(crate) fn sftp<T>(
        &mut self,
        mut call: impl FnMut(&Sftp) -> Result<T, ssh2::Error>,
    ) -> Result<T, String> {
        if let Some(reason) = &self.broken {
            return Err(reason.clone());
        }
        let sftp = match self.sftp.take() {
            Some(sftp) => sftp,
            None => self.retry(|s| s.sftp()).map_err(|e| self.describe(&e))?,
        };
        let mut serviced = false;
        let result = loop {
            match call(&sftp) {
                Err(e) if would_block(&e) => serviced = self.between_attempts(serviced),
                other => break other,
            }
        };
        self.sftp = Some(sftp);
        result.map_err(|e| self.describe(&e))
    }

    /// What to do after a call would block: first keep the channels moving; sleep only when the attempt after
    /// that blocks too, because servicing channels reads packets from the socket and may have queued the reply
    /// the call waits for. Returns whether the channels were just serviced.
    fn between_attempts(&mut self, serviced: bool) -> bool {
        if serviced {
            self.wait();
            false
        } else {
            self.service_all();
            true
        }
    }

    /// Services every bridge once; true when anything moved.
    fn service_all(&mut self) -> bool {
        let mut progress = false;
        let mut index = 0;
        while index < self.bridges.len() {
            let bridge = &mut self.bridges[index];
            let outcome = bridge
                .service()
                .and_then(|moved| Ok((moved, bridge.finish()?)));
            match outcome {
                Ok((moved, closed)) => {
                    progress |= moved || closed;
                    if closed {
                        self.bridges.swap_remove(index);
                        continue;
                    }
                }
                Err(Failure::Connection(reason)) => {
                    self.break_connection(&reason);
                    return true;
                }
                Err(Failure::Channel(reason)) => {
                    bridge.fail(&reason);
                    self.bridges.swap_remove(index);
                    progress = true;
                    continue;
                }
            }
            index += 1;
        }
        let progress = progress | self.adopt_agent_channels();
        // Recorded here, where every caller services the channels, so a silent server is judged the same way
        // whether the thread waits in its loop or between the attempts of an SFTP call.
        if progress {
            self.last_progress = Instant::now();
            self.probing_since = None;
        }
        progress
    }

    /// Marks the connection dead and ends every channel with the reason.
    fn break_connection(&mut self, cause: &str) {
        let reason = format!("the connection to {} dropped ({cause})", self.host);
        for mut bridge in self.bridges.drain(..) {
            bridge.fail(&reason);
        }
        // Dropping an SFTP handle shuts it down in blocking mode (the ssh2 crate's Drop), which on a dead
        // connection waits for ever; the session is gone, so the handle is let go without its goodbye.
        if let Some(sftp) = self.sftp.take() {
            std::mem::forget(sftp);
        }
        self.broken = Some(reason);
        self.broken_flag.store(true, Ordering::SeqCst);
    }

    /// Whether channels have waited on a silent server long enough to ask it for a sign of life, and whether it has
    /// left every such question unanswered too long: then the connection is broken, so that no transfer or command
    /// waits for ever on a frozen server.
    fn check_liveness(&mut self) -> bool {
        if self.bridges.is_empty() || self.broken.is_some() {
            self.last_progress = Instant::now();
            self.probing_since = None;
            return false;
        }
        if self.last_progress.elapsed() < self.quiet {
            return false;
        }
        let since = *self.probing_since.get_or_insert_with(Instant::now);
        let limit = self.quiet * UNANSWERED_PROBES;
        if since.elapsed() >= limit {
            let cause = format!(
                "the server answered nothing, not even keepalives, for {} s",
                (self.quiet + limit).as_secs()
            );
            self.break_connection(&cause);
            return true;
        }
        let _sent = self.session.keepalive_send();
        true
    }

    /// Sleeps until the socket, a caller's socket or a request needs attention (or a keepalive is due).
    fn wait(&mut self) {
        let mut timeout_s = None;
        if self.keepalive && self.broken.is_none() {
            if let Ok(next) = self.session.keepalive_send() {
                timeout_s = Some(i64::from(next.max(1)));
            }
        }
        let probing = self.check_liveness();
        if self.broken.is_some() && probing {
            return;
        }
        if !self.bridges.is_empty() {
            // Wake in time to probe (or to give up on) a silent server.
            timeout_s = Some(timeout_s.unwrap_or(i64::MAX).min(1));
        }
        // Reading one channel can pull another channel's packets off the socket into libssh2's queue; the socket
        // then stays quiet, so sleeping on it would strand that data.
        if self.bridges.iter().any(Bridge::has_queued_data) {
            return;
        }
        let mut socket_flags = PollFlags::empty();
        if self.broken.is_none() {
            if self.bridges.iter().any(Bridge::wants_remote_data) {
                socket_flags |= PollFlags::IN;
            }
            if probing {
                socket_flags |= PollFlags::IN;
            }
            match self.session.block_directions() {
                BlockDirections::Inbound => socket_flags |= PollFlags::IN,
                BlockDirections::Outbound => socket_flags |= PollFlags::OUT,
                BlockDirections::Both => socket_flags |= PollFlags::IN | PollFlags::OUT,
                BlockDirections::None => {}
            }
        }
        let mut fds = vec![PollFd::from_borrowed_fd(self.wake.as_fd(), PollFlags::IN)];
        if !socket_flags.is_empty() {
            fds.push(PollFd::from_borrowed_fd(self.socket.as_fd(), socket_flags));
        }
        for bridge in &self.bridges {
            for (fd, flags) in bridge.interest() {
                fds.push(PollFd::from_borrowed_fd(fd, flags));
            }
        }
        let timeout = timeout_s.map(|s| Timespec {
            tv_sec: s,
            tv_nsec: 0,
        });
        let _interrupted_or_ready = poll(&mut fds, timeout.as_ref());
        let socket_hung_up = !socket_flags.is_empty()
            && fds[1].revents().intersects(PollFlags::HUP | PollFlags::ERR);
        // Anything from the server (a keepalive's reply, say) shows it is alive.
        if probing && !socket_flags.is_empty() && fds[1].revents().contains(PollFlags::IN) {
            self.last_progress = Instant::now();
            self.probing_since = None;
        }
        drop(fds);
        let mut drain = [0u8; 64];
        while matches!((&self.wake).read(&mut drain), Ok(n) if n > 0) {}
        if socket_hung_up && self.broken.is_none() && !self.service_all() {
            self.break_connection("the remote side closed the connection");
        }
    }

    fn shutdown(&mut self) {
        for mut bridge in self.bridges.drain(..) {
            bridge.fail("the connection was closed");
        }
        self.sftp = None;
        if self.broken.is_none() {
            let _ = self.retry(|s| s.disconnect(None, "closed by dfab", None));
        }
    }
}

/// Errors that mean the session itself is unusable (socket gone, protocol broken).
fn is_fatal(error: &ssh2::Error) -> bool {
    matches!(
        error.code(),
        ErrorCode::Session(-7 | -13 | -43 | -44 | -9 | -5 | -1)
    )
}
