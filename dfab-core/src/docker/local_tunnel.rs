//! `local_tunnel()`: a local TCP endpoint that forwards to a host's engine, for tools outside dfab such as
//! `docker -H tcp://127.0.0.1:PORT` (docker-fabric's `docker_tunnel_local_port`).

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use super::ssh_transport::SshConnector;
use super::DockerError;
use crate::env::env;

/// An open local endpoint; it closes when dropped (connections already accepted finish on their own).
pub struct LocalTunnel {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LocalTunnel {
    /// The local port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address for Docker clients: `tcp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

impl Drop for LocalTunnel {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees the stop flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The port of `host`'s endpoint: hosts get `first`, `first + 1`, … in the order they are first tunnelled.
fn port_for(host: &str, first: u16) -> u16 {
    static PORTS: OnceLock<Mutex<HashMap<String, u16>>> = OnceLock::new();
    let Ok(mut ports) = PORTS.get_or_init(Mutex::default).lock() else {
        return first;
    };
    let next = first.saturating_add(u16::try_from(ports.len()).unwrap_or(u16::MAX));
    *ports.entry(host.to_owned()).or_insert(next)
}

/// Opens a local endpoint on 127.0.0.1 forwarding to the current host's engine, at `env.docker_tunnel_local_port`
/// (counting up per host). It accepts any number of connections, or only the first with `env.socat_fork = false`.
/// Any local user can connect to it while it is open; dfab's own client never needs one.
pub fn local_tunnel() -> Result<LocalTunnel, DockerError> {
    let env = env();
    let host = env.host_string.clone().ok_or(DockerError::NeedsHost)?;
    // The local tunnel passes bytes on for other programs; it has no client to note the watch's errors for.
    let connector = SshConnector::from_env(&env, &host, Default::default())?;
    let port = port_for(&host, env.docker_tunnel_local_port);
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| DockerError::LocalPort {
        host: host.clone(),
        port,
        reason: e.to_string(),
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let fork = env.socat_fork;
    let thread = std::thread::Builder::new()
        .name(format!("docker tunnel {host}"))
        .spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let connector = connector.clone();
                let _ = std::thread::Builder::new()
                    .name("docker tunnel connection".into())
                    .spawn(move || forward(client, &connector));
                if !fork {
                    break;
                }
            }
        })
        .map_err(|e| DockerError::LocalPort {
            host,
            port,
            reason: e.to_string(),
        })?;
    Ok(LocalTunnel {
        port,
        stop,
        thread: Some(thread),
    })
}

/// Copies one local connection to a new tunnel channel and back until both sides are done.
fn forward(client: TcpStream, connector: &SshConnector) {
    let Ok((channel, _stderr)) = connector.open_channel() else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut client_in), Ok(mut channel_out)) = (client.try_clone(), channel.try_clone()) else {
        return;
    };
    let upstream = std::thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut channel_out);
        let _ = channel_out.shutdown(Shutdown::Write);
    });
    let (mut channel_in, mut client_out) = (&channel, &client);
    let _ = io::copy(&mut channel_in, &mut client_out);
    let _ = client.shutdown(Shutdown::Write);
    let _ = upstream.join();
}
