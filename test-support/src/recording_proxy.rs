//! A proxy on a Unix socket in front of a Docker engine's socket that records the request line of every request
//! passing through it, for tests of what dfab puts on the wire (the API version in each path).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A recording proxy to one engine; it stops serving when dropped.
pub struct RecordingProxy {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    /// Starts a proxy to the engine at `upstream` (`unix:///path` or a path).
    pub fn start(upstream: &str) -> RecordingProxy {
        let upstream = PathBuf::from(upstream.trim_start_matches("unix://"));
        let dir = tempfile::tempdir().expect("a directory for the proxy's socket");
        // Readable by the test sshd's users, who reach it through their own sessions.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("the proxy directory's mode");
        let socket = dir.path().join("engine.sock");
        let listener = UnixListener::bind(&socket).expect("the proxy's socket");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = UnixStream::connect(&upstream) else {
                    continue;
                };
                let (Ok(from_server), Ok(to_client)) = (server.try_clone(), client.try_clone())
                else {
                    continue;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut &from_server, &mut &to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                });
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let _ = record(client, &server, &seen);
                    let _ = server.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        RecordingProxy {
            _dir: dir,
            socket,
            requests,
        }
    }

    /// The proxy's address, `unix:///…/engine.sock`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The request lines seen so far, as `METHOD /path?query`, in the order they came.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("recorded requests").clone()
    }

    /// Forgets the requests seen so far.
    pub fn clear(&self) {
        self.requests.lock().expect("recorded requests").clear();
    }
}

/// A reader that passes on to `out` everything read from `inner`.
struct Tee<'a> {
    inner: UnixStream,
    out: &'a UnixStream,
}

impl Read for Tee<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        (&mut &*self.out).write_all(&buffer[..n])?;
        Ok(n)
    }
}

/// Passes the client's requests on to the server, noting each request line, and skipping bodies by their length
/// or chunks; after a request that upgrades the connection (attach, exec) the rest passes unread.
fn record(
    client: UnixStream,
    server: &UnixStream,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(Tee {
        inner: client,
        out: server,
    });
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let (Some(method), Some(target)) = (words.next(), words.next()) else {
            continue;
        };
        seen.lock()
            .expect("recorded requests")
            .push(format!("{method} {target}"));
        let (mut length, mut chunked, mut upgrade) = (0u64, false, false);
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
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
        if upgrade {
            std::io::copy(&mut reader, &mut std::io::sink())?;
            return Ok(());
        }
        if chunked {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size)?;
                let size = u64::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                // The chunk and its CRLF; the last chunk (size 0) is followed by an empty trailer line.
                std::io::copy(&mut (&mut reader).take(size + 2), &mut std::io::sink())?;
                if size == 0 {
                    break;
                }
            }
        } else {
            std::io::copy(&mut (&mut reader).take(length), &mut std::io::sink())?;
        }
    }
}
