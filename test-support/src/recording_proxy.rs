//! A proxy on a Unix socket in front of a Docker engine's socket that records the request line of every request
//! passing through it, for tests of what dfab puts on the wire (the API version in each path).

use std::io::{BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::http::{engine_socket, read_request};

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
        let (dir, socket, listener) = engine_socket();
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

/// Passes the client's requests on to the server, noting each request line; after a request that upgrades the
/// connection (attach, exec) the rest passes unread.
fn record(
    client: UnixStream,
    server: &UnixStream,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(Tee {
        inner: client,
        out: server,
    });
    while let Some(head) = read_request(&mut reader)? {
        seen.lock()
            .expect("recorded requests")
            .push(format!("{} {}", head.method, head.target));
        if head.upgrade {
            std::io::copy(&mut reader, &mut std::io::sink())?;
            break;
        }
    }
    Ok(())
}
