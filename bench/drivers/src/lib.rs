//! dfab's benchmark drivers (`src/bin/`, run by the scripts in `bench/`), and the helpers they share: environment
//! variables, timing, medians, quiet commands. A crate of their own, so that `cargo test` does not build them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};

/// A variable exported by `scripts/test-env`.
pub fn var(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .with_context(|| format!("{name} is not set: run this through its bench/ script"))
}

/// The median of some timings.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Seconds `action` took.
pub fn timed(what: &str, action: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let start = Instant::now();
    action().with_context(|| what.to_owned())?;
    Ok(start.elapsed().as_secs_f64())
}

/// Runs a command with its output discarded, failing on a non-zero status.
pub fn shell(command: &mut Command) -> anyhow::Result<()> {
    let status = command.stdout(Stdio::null()).status()?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

/// Whole-number arguments.
pub fn numbers() -> anyhow::Result<Vec<u64>> {
    std::env::args()
        .skip(1)
        .map(|a| {
            a.parse()
                .with_context(|| format!("'{a}' is not a whole number"))
        })
        .collect()
}

/// The test environment's root login: port, key, known-hosts file and host string.
pub struct Login {
    /// The sshd port.
    pub port: String,
    /// The private key file.
    pub key: String,
    /// The known_hosts file.
    pub known: String,
    /// The host string (`root@127.0.0.1:PORT`).
    pub host: String,
}

impl Login {
    /// Reads the login from `scripts/test-env`'s variables and makes it this thread's env.
    pub fn from_test_env() -> anyhow::Result<Login> {
        let port = var("DFAB_TEST_SSH_PORT")?;
        let login = Login {
            key: var("DFAB_TEST_SSH_ROOT_KEY")?,
            known: var("DFAB_TEST_KNOWN_HOSTS")?,
            host: format!("root@127.0.0.1:{port}"),
            port,
        };
        let (key, known, host) = (login.key.clone(), login.known.clone(), login.host.clone());
        dfab_core::env::env_mut(move |e| {
            e.key_filename = vec![key];
            e.no_keys = true;
            e.no_agent = true;
            e.disable_known_hosts = true;
            e.system_known_hosts = Some(known);
            e.host_string = Some(host);
        });
        Ok(login)
    }
}

/// Writes `size_mb` MiB of pseudo-random bytes (incompressible, cheap to make) to `path`, flushed to disk.
pub fn random_file(path: &Path, size_mb: u64, seed: u64) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut state = seed;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..size_mb {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        file.write_all(&block)?;
    }
    // Written-back pages, so the first transfer timed does not compete with the payload's own flush.
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}
