//! One Docker client per host string and engine settings, made on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::{DockerClient, DockerError};
use crate::env::env;

/// The settings that make two clients different.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    host: Option<String>,
    base_url: Option<String>,
    tunnel: String,
    api_version: Option<String>,
    timeout: u64,
    max_response: u64,
}

type Slot = Arc<Mutex<Option<Arc<DockerClient>>>>;

fn cache() -> &'static Mutex<HashMap<Key, Slot>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Slot>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The Docker client of the current host (or of the local engine when there is no host), the counterpart of
/// docker-fabric's `docker_fabric()`. Cached per host string and base URL; a client whose SSH connection was
/// replaced is made again.
///
/// ```no_run
/// use dfab_core::prelude::*;
///
/// /// Count each host's containers: `count -H web1,web2`.
/// #[task]
/// fn count() -> anyhow::Result<usize> {
///     let client = dfab_core::docker::docker_client()?;
///     let containers = client.call("listing containers", |docker| async move {
///         docker.list_containers(None).await
///     })?;
///     Ok(containers.len())
/// }
/// # dfab_core::main!();
/// ```
pub fn docker_client() -> Result<Arc<DockerClient>, DockerError> {
    let env = env();
    let key = Key {
        host: env.host_string.clone(),
        base_url: env.docker_base_url.clone(),
        tunnel: env.docker_tunnel.clone(),
        api_version: env.docker_api_version.clone(),
        timeout: env.docker_timeout,
        max_response: env.docker_max_response,
    };
    let poisoned = || DockerError::CachePoisoned;
    let slot = Arc::clone(
        cache()
            .lock()
            .map_err(|_| poisoned())?
            .entry(key)
            .or_default(),
    );
    // Holding the slot while connecting keeps two threads from negotiating with the same engine twice.
    let mut slot = slot.lock().map_err(|_| poisoned())?;
    if let Some(client) = slot.as_ref() {
        let current = match &env.host_string {
            Some(host) => Some(crate::ssh::connection(host)?),
            None => None,
        };
        let same = match (client.connection(), &current) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if same {
            return Ok(Arc::clone(client));
        }
    }
    let client = Arc::new(DockerClient::connect(&env)?);
    *slot = Some(Arc::clone(&client));
    Ok(client)
}

/// Drops the cached Docker clients of `host_string` (and with them their channels), once no task needs them.
pub fn forget(host_string: &str) {
    if let Ok(mut all) = cache().lock() {
        all.retain(|key, _| key.host.as_deref() != Some(host_string));
    }
}
