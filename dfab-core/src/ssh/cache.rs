//! One cached connection per canonical host string, opened on first use and closed at the end of the run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::connection::{Connection, Transport};
use super::target::Target;
use super::SshError;
use crate::env::env;
use crate::term::output;

type Slot = Arc<Mutex<Option<Arc<Connection>>>>;

fn cache() -> &'static Mutex<HashMap<String, Slot>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The connection for a host string, opening it (through its gateway, if any) on first use; a dropped
/// connection is opened again once.
pub fn connection(host_string: &str) -> Result<Arc<Connection>, SshError> {
    let env = env();
    let target = Target::resolve(host_string, &env)?;
    let slot = {
        let mut all = cache().lock().map_err(|_| SshError::CachePoisoned)?;
        Arc::clone(all.entry(target.canonical.clone()).or_default())
    };
    // Holding the slot while connecting keeps two threads from opening the same host twice.
    let mut slot = slot.lock().map_err(|_| SshError::CachePoisoned)?;
    if let Some(existing) = slot.as_ref().filter(|c| !c.is_broken()) {
        return Ok(Arc::clone(existing));
    }
    let transport = match &target.gateway {
        Some(gateway) => {
            let via = connection(gateway).map_err(|source| SshError::ViaGateway {
                gateway: gateway.to_string(),
                source: Box::new(source),
            })?;
            let stream = via
                .tcpip(&target.host, target.port)
                .map_err(|e| SshError::Gateway {
                    gateway: gateway.to_string(),
                    host: target.host.clone(),
                    port: target.port,
                    reason: e.to_string(),
                })?;
            Transport::Tunnel(stream)
        }
        None => Transport::Direct,
    };
    let connection = Arc::new(Connection::open(&target, &env, transport)?);
    *slot = Some(Arc::clone(&connection));
    Ok(connection)
}

/// Takes the cached connection of one host string out of the cache, if it has one.
fn take(host_string: &str) -> Option<Arc<Connection>> {
    let target = Target::resolve(host_string, &env()).ok()?;
    let slot = cache().lock().ok()?.remove(&target.canonical)?;
    let mut taken = slot.lock().ok()?;
    taken.take()
}

/// Closes the connection of one host string, printing Fabric's `Disconnecting from …` line.
pub fn disconnect(host_string: &str) {
    if let Some(connection) = take(host_string) {
        close(&connection);
    }
}

/// The `Disconnecting from …` lines of connections released early, printed with the others at the end.
fn released() -> &'static Mutex<Vec<String>> {
    static RELEASED: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    RELEASED.get_or_init(Mutex::default)
}

/// Closes the connection of one host string now, once no task needs it any more, without a line: its
/// `Disconnecting from …` line comes at the end with the others, where Fabric prints it. A fleet run thus holds
/// sockets and threads only for the hosts still at work.
pub fn release(host_string: &str) {
    if let Some(connection) = take(host_string) {
        connection.close();
        if let Ok(mut lines) = released().lock() {
            lines.push(format!(
                "Disconnecting from {}... done.",
                short_name(&connection.target)
            ));
        }
    }
}

/// Closes every cached connection, printing a `Disconnecting from …` line for each (and for those released early).
pub fn disconnect_all() {
    if let Ok(mut lines) = released().lock() {
        for line in lines.drain(..) {
            output::status(&line);
        }
    }
    let slots: Vec<Slot> = match cache().lock() {
        Ok(mut all) => all.drain().map(|(_, slot)| slot).collect(),
        Err(_) => return,
    };
    let mut connections: Vec<Arc<Connection>> = slots
        .into_iter()
        .filter_map(|s| s.lock().ok().and_then(|mut c| c.take()))
        .collect();
    // Hosts reached through a gateway close before the gateway.
    connections.sort_by_key(|c| c.target.gateway.is_none());
    for connection in connections {
        close(&connection);
    }
}

fn close(connection: &Connection) {
    connection.close();
    output::status(&format!(
        "Disconnecting from {}... done.",
        short_name(&connection.target)
    ));
}

/// The canonical name without the user when it is `env.user`, and without port 22, as Fabric prints it.
fn short_name(target: &Target) -> String {
    let env = env();
    let host = if target.host.contains(':') && target.port != 22 {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    let user = if target.user == env.user {
        String::new()
    } else {
        format!("{}@", target.user)
    };
    let port = if target.port == 22 {
        String::new()
    } else {
        format!(":{}", target.port)
    };
    format!("{user}{host}{port}")
}
