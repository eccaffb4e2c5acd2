//! A stand-in Docker engine on a Unix socket, scripted to misbehave: it answers `/_ping` and `/version` as Docker
//! 20.10 does, and every request whose path holds a given text in one of the ways a broken or hostile engine can.

use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use crate::http::{engine_socket, read_request};

/// How the stand-in answers the requests it is scripted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// A JSON document (or a stream's first message) that never ends.
    EndlessBody,
    /// The head and the start of a document, then one more byte every two seconds.
    Drip,
    /// The head and the start of a document, then nothing, with the connection kept open.
    Silent,
    /// A status line, then header lines that never end.
    EndlessHead,
    /// Half a JSON document, then the connection closes.
    CutMidJson,
    /// A 200 whose body is not JSON.
    Garbage,
}

/// A stand-in engine; it stops serving when dropped (its socket goes with its directory).
pub struct StandInEngine {
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl StandInEngine {
    /// Starts an engine that answers requests whose path contains `target` as `how` says, and any other request
    /// but `/_ping` and `/version` with a 404.
    pub fn start(target: &str, how: Misbehaviour) -> StandInEngine {
        let (dir, socket, listener) = engine_socket();
        let target = target.to_owned();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let target = target.clone();
                std::thread::spawn(move || serve(client, &target, how));
            }
        });
        StandInEngine { dir, socket }
    }

    /// The engine's address, `unix:///…/engine.sock`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The directory its socket is in.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// Answers one connection's requests until it closes or a write fails.
fn serve(client: UnixStream, target: &str, how: Misbehaviour) {
    let Ok(reading) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reading);
    let mut out = client;
    while let Ok(Some(head)) = read_request(&mut reader) {
        let path = head.target.split('?').next().unwrap_or_default().to_owned();
        let answered = if path.contains(target) {
            misbehave(&mut out, how)
        } else if path.ends_with("/_ping") {
            answer(&mut out, 200, "text/plain", "OK")
        } else if path.ends_with("/version") {
            answer(
                &mut out,
                200,
                "application/json",
                r#"{"Version":"20.10.99","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}"#,
            )
        } else {
            answer(
                &mut out,
                404,
                "application/json",
                r#"{"message":"the stand-in does not know this"}"#,
            )
        };
        if answered.is_err() || how == Misbehaviour::CutMidJson && path.contains(target) {
            return;
        }
    }
}

fn answer(out: &mut UnixStream, status: u16, kind: &str, body: &str) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Misbehaves until the client goes away (or, for the finite kinds, once).
fn misbehave(out: &mut UnixStream, how: Misbehaviour) -> std::io::Result<()> {
    const CHUNKED: &str =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    match how {
        Misbehaviour::EndlessBody => {
            // The start of a JSON document or of a stream's message, which never ends.
            out.write_all(CHUNKED.as_bytes())?;
            write!(out, "b\r\n{{\"stream\":\"\r\n")?;
            let chunk = "a".repeat(64 * 1024);
            loop {
                write!(out, "{:x}\r\n{chunk}\r\n", chunk.len())?;
            }
        }
        Misbehaviour::Drip => {
            out.write_all(CHUNKED.as_bytes())?;
            write!(out, "b\r\n{{\"stream\":\"\r\n")?;
            loop {
                std::thread::sleep(Duration::from_secs(2));
                out.write_all(b"1\r\na\r\n")?;
            }
        }
        Misbehaviour::Silent => {
            out.write_all(CHUNKED.as_bytes())?;
            write!(out, "b\r\n{{\"stream\":\"\r\n")?;
            std::thread::sleep(Duration::from_secs(60));
            Ok(())
        }
        Misbehaviour::EndlessHead => {
            out.write_all(b"HTTP/1.1 200 OK\r\n")?;
            let line = format!("X-Padding: {}\r\n", "a".repeat(1000));
            loop {
                out.write_all(line.as_bytes())?;
            }
        }
        Misbehaviour::CutMidJson => {
            out.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"stream\":\"ab",
            )?;
            out.shutdown(std::net::Shutdown::Both)
        }
        Misbehaviour::Garbage => answer(out, 200, "application/json", "not JSON at all"),
    }
}
