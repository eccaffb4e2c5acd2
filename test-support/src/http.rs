//! Reading HTTP/1.1 requests off a connection, for the test servers that stand in front of or for an engine.

use std::io::{BufRead, Read};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

/// The start of a request: what the test servers look at.
pub(crate) struct Head {
    /// `GET`, `POST`, …
    pub(crate) method: String,
    /// The path and query.
    pub(crate) target: String,
    /// Whether the request upgrades the connection (attach, exec): what follows is no longer HTTP.
    pub(crate) upgrade: bool,
}

/// Reads the next request's head and skips its body (by its length or its chunks); `None` at the end of the
/// connection.
pub(crate) fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Head>> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default().to_owned();
    let (mut length, mut chunked, mut upgrade) = (0u64, false, false);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Ok(None);
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        let (name, value) = (name.to_ascii_lowercase(), value.trim().to_ascii_lowercase());
        match name.as_str() {
            "content-length" => length = value.parse().unwrap_or(0),
            "transfer-encoding" => chunked = value.contains("chunked"),
            "upgrade" => upgrade = true,
            _ => {}
        }
    }
    let sink = &mut std::io::sink();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size =
                u64::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            // The chunk and its CRLF; the last chunk (size 0) is followed by an empty trailer line.
            std::io::copy(&mut reader.take(size + 2), sink)?;
            if size == 0 {
                break;
            }
        }
    } else {
        std::io::copy(&mut reader.take(length), sink)?;
    }
    Ok(Some(Head {
        method,
        target,
        upgrade,
    }))
}

/// A socket `engine.sock` to serve an engine on, listening, in a new directory that the test sshd's users can reach
/// (they connect through their own sessions); the directory, and with it the socket, goes when dropped.
pub(crate) fn engine_socket() -> (tempfile::TempDir, PathBuf, UnixListener) {
    let dir = tempfile::tempdir().expect("a directory for an engine socket");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("the socket directory's mode");
    let socket = dir.path().join("engine.sock");
    let listener = UnixListener::bind(&socket).expect("an engine socket");
    (dir, socket, listener)
}
