//! The watch over every connection to an engine, local or through SSH: whatever the engine sends, dfab neither
//! waits past a deadline nor holds more than a bound.
//!
//! HTTP/1.1 on one connection is a request, its whole answer, then the next request, so the watch reads the head of
//! each request dfab writes (what it asks for, and the limits of the client that asks, in the [`LIMITS_HEADER`]),
//! then follows the answer's framing (length or chunks) to its end:
//! - an answer (a list, an inspection, a version) may take `max_response` bytes and must end within `timeout` of
//!   the request (the client's: a push or a build may be given longer);
//! - a stream of JSON lines (a load, a build, a pull) or of log frames may go on as long as bytes move, each line or
//!   frame at most `max_response`, and stops after `idle` (`docker_timeout`) without a byte either way;
//! - raw data (an export) only has the idle deadline;
//! - a wait for a container (`/wait`, logs that follow) has no deadline: the container decides how long it runs.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The request header that carries a client's limits to the watch on its connection: `timeout=SECONDS;max=BYTES`.
pub(crate) const LIMITS_HEADER: &str = "x-dfab-limits";

/// How much and how long an engine's answer may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Seconds: a whole answer's deadline.
    pub(crate) timeout: u64,
    /// Seconds: how long a stream may go without a byte either way.
    pub(crate) idle: u64,
    /// Bytes: the most an answer, or one line or frame of a stream, may take.
    pub(crate) max_response: u64,
}

impl Limits {
    /// The limits `env` sets (`docker_timeout`, `docker_max_response`).
    pub(crate) fn of(env: &crate::env::Env) -> Limits {
        Limits {
            timeout: env.docker_timeout,
            idle: env.docker_timeout,
            max_response: env.docker_max_response,
        }
    }

    /// The header value that carries these limits.
    pub(crate) fn header(self) -> String {
        format!(
            "timeout={};idle={};max={}",
            self.timeout, self.idle, self.max_response
        )
    }

    /// The limits in a header value, or `fallback` for what it lacks.
    fn parse(value: &str, fallback: Limits) -> Limits {
        let mut limits = fallback;
        for pair in value.split(';') {
            match pair.trim().split_once('=') {
                Some(("timeout", v)) => limits.timeout = v.parse().unwrap_or(fallback.timeout),
                Some(("idle", v)) => limits.idle = v.parse().unwrap_or(fallback.idle),
                Some(("max", v)) => {
                    limits.max_response = v.parse().unwrap_or(fallback.max_response)
                }
                _ => {}
            }
        }
        limits
    }
}

/// Why the watch ended a connection.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum GuardError {
    /// An answer past its size.
    #[error("the answer to {request} is larger than {limit} bytes (docker_max_response raises the limit)")]
    TooLarge {
        /// `METHOD /path`.
        request: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A line or frame of a stream past its size.
    #[error("a message in the answer to {request} is larger than {limit} bytes (docker_max_response raises the limit)")]
    MessageTooLarge {
        /// `METHOD /path`.
        request: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// No byte either way for the idle deadline.
    #[error("no byte came or went for {seconds} s during {request} ({received} bytes received; docker_timeout sets the wait)")]
    Stalled {
        /// `METHOD /path`.
        request: String,
        /// The deadline.
        seconds: u64,
        /// The bytes of the answer received.
        received: u64,
    },
    /// An answer not whole by its deadline.
    #[error("the answer to {request} was not whole after {seconds} s ({received} bytes received; docker_timeout sets the deadline)")]
    Overdue {
        /// `METHOD /path`.
        request: String,
        /// The deadline.
        seconds: u64,
        /// The bytes of the answer received.
        received: u64,
    },
    /// An answer that is not HTTP as the watch follows it.
    #[error("the answer to {request} is not HTTP: {why}")]
    Malformed {
        /// `METHOD /path`.
        request: String,
        /// What was wrong.
        why: String,
    },
}

/// The last error the watch raised on any of a client's connections, for an error that reaches the client without
/// its cause (bollard's streams keep only an I/O error's text).
pub(crate) type LastError =
    std::sync::Arc<std::sync::Mutex<Option<(std::time::Instant, GuardError)>>>;

impl GuardError {
    /// Notes `self` as `last`'s and makes the I/O error that ends the connection.
    fn raise(self, last: &LastError, kind: io::ErrorKind) -> io::Error {
        *last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::time::Instant::now(), self.clone()));
        io::Error::new(kind, self)
    }

    /// The watch's error inside an I/O error anywhere in `error`'s chain of causes.
    pub(crate) fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a GuardError> {
        let mut cause = Some(error);
        while let Some(current) = cause {
            if let Some(found) = current.downcast_ref::<GuardError>() {
                return Some(found);
            }
            if let Some(found) = current
                .downcast_ref::<io::Error>()
                .and_then(|e| e.get_ref())
                .and_then(|inner| inner.downcast_ref::<GuardError>())
            {
                return Some(found);
            }
            cause = current.source();
        }
        None
    }
}

/// What kind of answer a request gets, by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// One JSON document: bounded in size, due whole by the deadline.
    Answer,
    /// JSON lines (progress): each line bounded, the idle deadline.
    Lines,
    /// Log frames (or lines, with a TTY): each bounded, the idle deadline.
    Frames,
    /// Raw bytes (an export): the idle deadline.
    Data,
    /// A wait on a container: bounded in size, no deadline.
    Wait,
    /// Logs that follow: frames bounded, no deadline.
    Follow,
}

/// The class of `METHOD path?query`, the path without its `/vX.Y` prefix.
fn classify(method: &str, target: &str) -> Class {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = match path.strip_prefix("/v") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            rest.find('/').map_or("/", |at| &rest[at..])
        }
        _ => path,
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let follows = query
        .split('&')
        .any(|pair| pair == "follow=1" || pair == "follow=true");
    match (method, segments.as_slice()) {
        (
            "POST",
            ["images", "load"] | ["build"] | ["images", "create"] | ["images", .., "push"],
        ) => Class::Lines,
        ("GET", ["events"]) => Class::Follow,
        ("GET", ["images", "get"] | ["images", .., "get"]) => Class::Data,
        ("GET", ["containers", _, "export"]) => Class::Data,
        (_, ["containers", _, "archive"]) => Class::Data,
        ("POST", ["containers", _, "wait"]) => Class::Wait,
        ("GET", ["containers", _, "logs"]) if follows => Class::Follow,
        ("GET", ["containers", _, "logs"]) => Class::Frames,
        ("POST", ["containers", _, "attach"] | ["exec", _, "start"]) => Class::Follow,
        _ => Class::Answer,
    }
}

/// Where the answer to the request on the connection is.
#[derive(Debug)]
enum Phase {
    /// No request outstanding.
    Idle,
    /// The request's head is being written; the bytes so far (up to its first line).
    Asking(Vec<u8>),
    /// The answer's head; the bytes so far.
    Head(Vec<u8>),
    /// A body of this many bytes still to come.
    Length(u64),
    /// A chunked body: the size line so far.
    ChunkSize(Vec<u8>),
    /// A chunk's data still to come, then its CRLF.
    Chunk(u64),
    /// The CRLF after a chunk; how many of its bytes are still to come.
    ChunkEnd(u8),
    /// The trailer lines after the last chunk; the current line so far.
    Trailer(Vec<u8>),
    /// A body that ends when the connection closes, or a connection switched to another protocol.
    UntilClose,
}

/// The watch over one connection.
#[derive(Debug)]
pub(crate) struct Guard {
    fallback: Limits,
    limits: Limits,
    phase: Phase,
    class: Class,
    request: String,
    /// Whether the request is HEAD (its answer has no body).
    head_only: bool,
    /// Bytes of the answer received.
    received: u64,
    /// Bytes of the body so far (for an answer) or of the current line (for lines).
    counted: u64,
    /// For frames: the bytes of the current frame's 8-byte header read so far.
    frame_header: Vec<u8>,
    /// For frames: the bytes of the current frame still to come.
    frame_left: u64,
    /// Whether log frames are raw text (a TTY): counted as lines.
    raw_frames: bool,
    /// When the answer is due, or the stream stalls; `None` without a deadline.
    due: Option<Instant>,
    /// The timer that wakes the connection at `due`, made on first need (inside the runtime).
    timer: Option<Pin<Box<Sleep>>>,
    /// Where the watch notes its errors for the client.
    last: LastError,
}

/// The largest head of a request or answer the watch reads.
const HEAD_LIMIT: usize = 64 * 1024;

impl Guard {
    /// A watch whose requests carry no limits header get `fallback`; it notes its errors in `last`.
    pub(crate) fn new(fallback: Limits, last: LastError) -> Guard {
        Guard {
            fallback,
            limits: fallback,
            phase: Phase::Idle,
            class: Class::Answer,
            request: String::new(),
            head_only: false,
            received: 0,
            counted: 0,
            frame_header: Vec::new(),
            frame_left: 0,
            raw_frames: false,
            due: None,
            timer: None,
            last,
        }
    }

    /// Notes bytes dfab writes: the head of a new request, or its body (activity for the idle deadline).
    pub(crate) fn wrote(&mut self, bytes: &[u8]) {
        // hyper may read an early answer (a refusal) while it still sends the request's body: only a request line
        // starts a request, the rest of a body does not.
        if matches!(self.phase, Phase::Idle) && is_request_line(bytes) {
            self.phase = Phase::Asking(Vec::new());
        }
        if let Phase::Asking(head) = &mut self.phase {
            let from = head.len().saturating_sub(3);
            head.extend_from_slice(
                &bytes[..bytes.len().min(HEAD_LIMIT.saturating_sub(head.len()))],
            );
            if let Some(end) = find(&head[from..], b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&head[..from + end]).into_owned();
                self.start(&head);
            } else if head.len() >= HEAD_LIMIT {
                // A head this long is not dfab's: the watch lets the connection be rather than guess at it.
                self.class = Class::Data;
                self.counted = 0;
                self.due = None;
                self.phase = Phase::UntilClose;
            }
        }
        self.touch();
    }

    /// Begins watching the answer to the request whose head is `head`.
    fn start(&mut self, head: &str) {
        let mut lines = head.lines();
        let first = lines.next().unwrap_or_default();
        let mut words = first.split_whitespace();
        let (method, target) = (
            words.next().unwrap_or_default(),
            words.next().unwrap_or_default(),
        );
        self.limits = self.fallback;
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case(LIMITS_HEADER) {
                    self.limits = Limits::parse(value, self.fallback);
                }
            }
        }
        self.class = classify(method, target);
        self.request = format!("{method} {}", target.split('?').next().unwrap_or(target));
        self.head_only = method == "HEAD";
        self.received = 0;
        self.counted = 0;
        self.frame_header.clear();
        self.frame_left = 0;
        self.raw_frames = false;
        self.phase = Phase::Head(Vec::new());
        self.due = match self.class {
            Class::Wait | Class::Follow => None,
            Class::Answer => Some(Instant::now() + Duration::from_secs(self.limits.timeout)),
            Class::Lines | Class::Frames | Class::Data => {
                Some(Instant::now() + Duration::from_secs(self.limits.idle))
            }
        };
    }

    /// Moves an idle deadline on: bytes moved.
    fn touch(&mut self) {
        if matches!(self.class, Class::Lines | Class::Frames | Class::Data) && self.due.is_some() {
            self.due = Some(Instant::now() + Duration::from_secs(self.limits.idle));
        }
    }

    /// Whether the deadline has passed; registers `cx` to be woken when it does.
    pub(crate) fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(due) = self.due.filter(|_| !matches!(self.phase, Phase::Idle)) else {
            return Poll::Pending;
        };
        if Instant::now() < due {
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
            if timer.deadline() != due {
                timer.as_mut().reset(due);
            }
            // Woken at `due`, unless bytes move it on first: each poll sets the timer to the deadline in force.
            return match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(self.expired()),
                Poll::Pending => Poll::Pending,
            };
        }
        Poll::Ready(self.expired())
    }

    /// The error for a passed deadline.
    fn expired(&self) -> io::Error {
        self.deadline_error()
            .raise(&self.last, io::ErrorKind::TimedOut)
    }

    /// What passed: the answer's deadline, or the stream's idle one.
    fn deadline_error(&self) -> GuardError {
        match self.class {
            Class::Answer => GuardError::Overdue {
                request: self.request.clone(),
                seconds: self.limits.timeout,
                received: self.received,
            },
            _ => GuardError::Stalled {
                request: self.request.clone(),
                seconds: self.limits.idle,
                received: self.received,
            },
        }
    }

    /// Follows bytes the engine sent; an error ends the connection.
    pub(crate) fn read(&mut self, bytes: &[u8]) -> Result<(), io::Error> {
        self.follow(bytes)
            .map_err(|e| e.raise(&self.last, io::ErrorKind::InvalidData))
    }

    /// Follows bytes the engine sent.
    fn follow(&mut self, mut bytes: &[u8]) -> Result<(), GuardError> {
        self.received += bytes.len() as u64;
        if !bytes.is_empty() {
            self.touch();
        }
        while !bytes.is_empty() {
            let used = self.step(bytes)?;
            bytes = &bytes[used..];
        }
        Ok(())
    }

    /// Takes what it can of `bytes` in the current phase; returns how many it used.
    fn step(&mut self, bytes: &[u8]) -> Result<usize, GuardError> {
        match &mut self.phase {
            // Bytes with no request outstanding (an engine talking out of turn): hyper refuses them itself.
            Phase::Idle | Phase::Asking(_) => Ok(bytes.len()),
            Phase::UntilClose => {
                self.body(bytes)?;
                Ok(bytes.len())
            }
            Phase::Head(head) => {
                let from = head.len().saturating_sub(3);
                let take = bytes.len().min(HEAD_LIMIT + 4 - head.len());
                head.extend_from_slice(&bytes[..take]);
                let Some(end) = find(&head[from..], b"\r\n\r\n").map(|at| from + at) else {
                    if head.len() > HEAD_LIMIT {
                        return Err(self.malformed("its head is longer than 64 KiB"));
                    }
                    return Ok(take);
                };
                let used = take - (head.len() - (end + 4));
                let head = String::from_utf8_lossy(&head[..end]).into_owned();
                self.answer_head(&head)?;
                Ok(used)
            }
            Phase::Length(left) => {
                let take = bytes
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= take as u64;
                let done = *left == 0;
                self.body(&bytes[..take])?;
                if done {
                    self.finish();
                }
                Ok(take)
            }
            Phase::ChunkSize(line) => {
                let newline = bytes.iter().position(|b| *b == b'\n');
                let take = newline.map_or(bytes.len(), |at| at + 1);
                line.extend_from_slice(&bytes[..take]);
                if line.len() > 1024 {
                    return Err(self.malformed("a chunk size line is longer than 1 KiB"));
                }
                if newline.is_some() {
                    let text = String::from_utf8_lossy(line).into_owned();
                    let size = text.trim().split(';').next().unwrap_or_default();
                    let size = u64::from_str_radix(size.trim(), 16)
                        .map_err(|_| self.malformed(&format!("{text:?} is not a chunk size")))?;
                    self.phase = if size == 0 {
                        Phase::Trailer(Vec::new())
                    } else {
                        Phase::Chunk(size)
                    };
                }
                Ok(take)
            }
            Phase::Chunk(left) => {
                let take = bytes
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= take as u64;
                if *left == 0 {
                    self.phase = Phase::ChunkEnd(2);
                }
                self.body(&bytes[..take])?;
                Ok(take)
            }
            Phase::ChunkEnd(left) => {
                let take = bytes.len().min(usize::from(*left));
                *left -= take as u8;
                if *left == 0 {
                    self.phase = Phase::ChunkSize(Vec::new());
                }
                Ok(take)
            }
            Phase::Trailer(line) => {
                let newline = bytes.iter().position(|b| *b == b'\n');
                let take = newline.map_or(bytes.len(), |at| at + 1);
                line.extend_from_slice(&bytes[..take]);
                if line.len() > HEAD_LIMIT {
                    return Err(self.malformed("its trailer is longer than 64 KiB"));
                }
                if newline.is_some() {
                    if line.trim_ascii().is_empty() {
                        self.finish();
                    } else {
                        line.clear();
                    }
                }
                Ok(take)
            }
        }
    }

    /// Reads the answer's head: its status and how its body is framed.
    fn answer_head(&mut self, head: &str) -> Result<(), GuardError> {
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.malformed("it has no status line"))?;
        let (mut length, mut chunked) = (None, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<u64>().map_err(|_| {
                    self.malformed(&format!("its Content-Length {value:?} is not a byte count"))
                })?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("content-type") {
                self.raw_frames = value.contains("vnd.docker.raw-stream");
            }
        }
        self.phase = match status {
            101 => {
                // Hijacked (attach, exec): raw bytes both ways from here on, for as long as the other side wants.
                self.class = Class::Follow;
                self.due = None;
                Phase::UntilClose
            }
            100..=199 => Phase::Head(Vec::new()),
            204 | 304 => {
                self.finish();
                return Ok(());
            }
            _ if self.head_only => {
                self.finish();
                return Ok(());
            }
            _ if chunked => Phase::ChunkSize(Vec::new()),
            _ => match length {
                Some(0) => {
                    self.finish();
                    return Ok(());
                }
                Some(length) => {
                    if matches!(self.class, Class::Answer | Class::Wait)
                        && length > self.limits.max_response
                    {
                        return Err(self.too_large());
                    }
                    Phase::Length(length)
                }
                None => Phase::UntilClose,
            },
        };
        Ok(())
    }

    /// Counts body bytes against the class's bound.
    fn body(&mut self, bytes: &[u8]) -> Result<(), GuardError> {
        let limit = self.limits.max_response;
        match self.class {
            Class::Answer | Class::Wait => {
                self.counted += bytes.len() as u64;
                if self.counted > limit {
                    return Err(self.too_large());
                }
            }
            Class::Lines => self.lines(bytes)?,
            Class::Frames | Class::Follow if self.raw_frames => self.lines(bytes)?,
            Class::Frames | Class::Follow => self.frames(bytes)?,
            Class::Data => {}
        }
        Ok(())
    }

    /// Counts the bytes of the current line.
    fn lines(&mut self, bytes: &[u8]) -> Result<(), GuardError> {
        match bytes.iter().rposition(|b| *b == b'\n') {
            Some(last) => self.counted = (bytes.len() - last - 1) as u64,
            None => self.counted += bytes.len() as u64,
        }
        if self.counted > self.limits.max_response {
            return Err(GuardError::MessageTooLarge {
                request: self.request.clone(),
                limit: self.limits.max_response,
            });
        }
        Ok(())
    }

    /// Follows the engine's log frames (8-byte headers with the frame's size), refusing one past the bound.
    fn frames(&mut self, mut bytes: &[u8]) -> Result<(), GuardError> {
        while !bytes.is_empty() {
            if self.frame_left > 0 {
                let take = bytes
                    .len()
                    .min(usize::try_from(self.frame_left).unwrap_or(usize::MAX));
                self.frame_left -= take as u64;
                bytes = &bytes[take..];
                continue;
            }
            let take = bytes.len().min(8 - self.frame_header.len());
            self.frame_header.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.frame_header.len() == 8 {
                let header = std::mem::take(&mut self.frame_header);
                if header[0] > 2 {
                    // Not a frame: text from a TTY. Counted as lines from here on.
                    self.raw_frames = true;
                    self.lines(&header)?;
                    return self.lines(bytes);
                }
                let size = u64::from(u32::from_be_bytes([
                    header[4], header[5], header[6], header[7],
                ]));
                if size > self.limits.max_response {
                    return Err(GuardError::MessageTooLarge {
                        request: self.request.clone(),
                        limit: self.limits.max_response,
                    });
                }
                self.frame_left = size;
            }
        }
        Ok(())
    }

    /// The answer is whole: the connection is idle again.
    fn finish(&mut self) {
        self.phase = Phase::Idle;
        self.due = None;
    }

    fn too_large(&self) -> GuardError {
        GuardError::TooLarge {
            request: self.request.clone(),
            limit: self.limits.max_response,
        }
    }

    fn malformed(&self, why: &str) -> GuardError {
        GuardError::Malformed {
            request: self.request.clone(),
            why: why.to_owned(),
        }
    }
}

/// Whether `bytes` start as a request line does: a method in capitals, a space and a path.
fn is_request_line(bytes: &[u8]) -> bool {
    let method = bytes.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method > 0 && bytes.get(method) == Some(&b' ') && bytes.get(method + 1) == Some(&b'/')
}

/// Where `needle` starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        timeout: 5,
        idle: 5,
        max_response: 100,
    };

    fn asked(request: &str) -> Guard {
        let mut guard = Guard::new(LIMITS, LastError::default());
        guard.wrote(format!("{request} HTTP/1.1\r\nHost: docker\r\n\r\n").as_bytes());
        guard
    }

    #[test]
    fn requests_are_classed_by_path() {
        assert_eq!(
            classify("GET", "/v1.41/containers/json?all=1"),
            Class::Answer
        );
        assert_eq!(classify("POST", "/v1.51/images/load?quiet=1"), Class::Lines);
        assert_eq!(classify("POST", "/build?t=x"), Class::Lines);
        assert_eq!(classify("GET", "/v1.41/images/app:1/get"), Class::Data);
        assert_eq!(classify("POST", "/v1.41/containers/abc/wait"), Class::Wait);
        assert_eq!(
            classify("GET", "/v1.41/containers/abc/logs?stdout=1"),
            Class::Frames
        );
        assert_eq!(
            classify("GET", "/v1.41/containers/abc/logs?follow=1"),
            Class::Follow
        );
    }

    #[test]
    fn the_limits_header_overrides_the_fallback() {
        let mut guard = Guard::new(LIMITS, LastError::default());
        guard.wrote(b"GET /v1.41/info HTTP/1.1\r\nx-dfab-limits: timeout=9;max=7\r\n\r\n");
        assert_eq!(
            guard.limits,
            Limits {
                timeout: 9,
                idle: 5,
                max_response: 7
            }
        );
        assert_eq!(Limits::parse("max=x", LIMITS), LIMITS);
    }

    #[test]
    fn an_answer_past_its_bound_is_refused_by_length_or_by_chunks() {
        let mut guard = asked("GET /v1.41/containers/json");
        let error = guard
            .follow(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the answer to GET /v1.41/containers/json is larger than 100 bytes (docker_max_response raises the limit)"
        );
        let mut guard = asked("GET /v1.41/containers/json");
        guard
            .follow(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n")
            .unwrap();
        guard.follow(&[b'x'; 50]).unwrap();
        guard.follow(b"\r\n40\r\n").unwrap();
        assert!(matches!(
            guard.follow(&[b'x'; 60]),
            Err(GuardError::TooLarge { limit: 100, .. })
        ));
    }

    #[test]
    fn answers_end_and_the_connection_goes_idle() {
        let mut guard = asked("GET /_ping");
        guard
            .follow(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
            .unwrap();
        assert!(matches!(guard.phase, Phase::Idle));
        let mut guard = asked("GET /v1.41/info");
        guard
            .follow(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
            .unwrap();
        assert!(matches!(guard.phase, Phase::Idle));
        let mut guard = asked("POST /v1.41/containers/x/start");
        guard.follow(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        assert!(matches!(guard.phase, Phase::Idle));
    }

    #[test]
    fn streams_bound_each_line_or_frame_not_the_whole() {
        let mut guard = asked("POST /v1.41/images/load");
        guard
            .follow(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        for _ in 0..10 {
            guard.follow(b"3c\r\n").unwrap();
            guard.follow(&[&[b'x'; 59][..], b"\n"].concat()).unwrap();
            guard.follow(b"\r\n").unwrap();
        }
        guard.follow(b"96\r\n").unwrap();
        assert!(matches!(
            guard.follow(&[b'y'; 150]),
            Err(GuardError::MessageTooLarge { .. })
        ));
        let mut guard = asked("GET /v1.41/containers/x/logs?stdout=1");
        guard
            .follow(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            .unwrap();
        guard.follow(&[1, 0, 0, 0, 0, 0, 0, 50]).unwrap();
        guard.follow(&[b'z'; 50]).unwrap();
        assert!(matches!(
            guard.follow(&[1, 0, 0, 0, 0, 0, 1, 0]),
            Err(GuardError::MessageTooLarge { .. })
        ));
    }

    #[test]
    fn a_pooled_connection_takes_request_after_request_and_ignores_a_late_body() {
        let mut guard = Guard::new(LIMITS, LastError::default());
        guard.wrote(b"POST /v1.41/images/load HTT");
        guard.wrote(b"P/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(guard.request, "POST /v1.41/images/load");
        assert_eq!(guard.class, Class::Lines);
        // An early refusal while the body is still going out: the rest of the body is no new request.
        guard
            .follow(b"HTTP/1.1 500 X\r\nContent-Length: 2\r\n\r\n{}")
            .unwrap();
        assert!(matches!(guard.phase, Phase::Idle));
        guard.wrote(b"1000\r\n\x00\x00\r\n\r\n");
        assert!(matches!(guard.phase, Phase::Idle));
        guard.wrote(b"GET /v1.41/info HTTP/1.1\r\n\r\n");
        assert_eq!(guard.request, "GET /v1.41/info");
        assert_eq!(guard.class, Class::Answer);
        guard
            .follow(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            .unwrap();
        guard.follow(b"{}").unwrap();
        assert!(matches!(guard.phase, Phase::Idle));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_is_due_whole_and_a_stream_only_while_it_moves() {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut guard = asked("GET /v1.41/containers/json");
        guard
            .follow(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            .unwrap();
        assert!(guard.poll_deadline(&mut cx).is_pending());
        tokio::time::advance(Duration::from_secs(3)).await;
        guard.follow(b"[").unwrap();
        tokio::time::advance(Duration::from_secs(3)).await;
        let Poll::Ready(error) = guard.poll_deadline(&mut cx) else {
            panic!("an answer still not whole after 6 s of a 5 s deadline");
        };
        assert_eq!(
            error.to_string(),
            "the answer to GET /v1.41/containers/json was not whole after 5 s (41 bytes received; docker_timeout sets the deadline)"
        );
        let mut guard = asked("POST /v1.41/images/load");
        guard
            .follow(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        for _ in 0..4 {
            tokio::time::advance(Duration::from_secs(3)).await;
            guard.follow(b"1\r\n").unwrap();
            assert!(guard.poll_deadline(&mut cx).is_pending(), "a moving stream");
        }
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(guard.poll_deadline(&mut cx).is_ready(), "a stalled stream");
    }

    #[test]
    fn a_head_without_end_is_refused() {
        let mut guard = asked("GET /v1.41/version");
        guard.follow(b"HTTP/1.1 200 OK\r\n").unwrap();
        let endless = vec![b'a'; 70 * 1024];
        assert!(matches!(
            guard.follow(&endless),
            Err(GuardError::Malformed { .. })
        ));
    }
}
