//! `docker.save_image` and `docker.load_image`: moving images between a host's engine and local files.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bollard::query_parameters::ImportImageOptions;
use futures_util::StreamExt;

use crate::docker::{docker_client, file_body, DockerError, CHUNK};
use crate::env::env;
use crate::ssh::quote;
use crate::task;
use crate::term::byte_bar;
use crate::term::output::puts;

/// The default file name for a saved image: `<image>.tar.gz` with `/` and `:` made safe.
fn default_file_name(image: &str) -> String {
    format!("{}.tar.gz", image.replace(['/', ':'], "_"))
}

/// Saves `image` of the current host (or the local engine) into a gzip tarball at `filename`, with the
/// Docker command line on the host, and returns the local path.
pub fn save_image_file(image: &str, filename: Option<&str>) -> anyhow::Result<PathBuf> {
    let target = PathBuf::from(
        filename
            .map(str::to_owned)
            .unwrap_or_else(|| default_file_name(image)),
    );
    let client = docker_client()?;
    if client
        .find_image(&format!("inspecting image {image}"), image)?
        .is_none()
    {
        bail!("image '{image}' does not exist on {}", client.host());
    }
    let Some(host) = env().host_string.clone() else {
        let command = format!(
            "{} save {} | gzip > {}",
            client.command_line(),
            quote(image),
            quote(&target.display().to_string())
        );
        crate::command::local(&command)?;
        return Ok(target);
    };
    save_on_host(&client.command_line(), image, &target, &host)?;
    Ok(target)
}

/// What the host writes on stderr when `docker save` fails; its own message comes before it.
const SAVE_FAILED: &str = "dfab: docker save failed";

/// Streams `docker save | gzip` (with `docker`, the command line that reaches the client's engine) from the host
/// straight into `target` (through `target.part`, renamed only when
/// the host reports success). Nothing is written on the host, so an interrupted save leaves nothing behind there.
fn save_on_host(docker: &str, image: &str, target: &Path, host: &str) -> anyhow::Result<()> {
    // `sh` has no pipefail: a failing `docker save` says so on stderr, after its own message.
    let command = format!(
        "{{ {docker} save {i} || echo {SAVE_FAILED} >&2; }} | gzip",
        i = quote(image)
    );
    let connection = crate::ssh::connection(host)?;
    let opened = connection.exec(&command, false, false)?;
    let stderr = crate::ssh::collect_stderr(opened.stderr);
    let _ = opened.stream.shutdown(std::net::Shutdown::Write);
    // A temporary file beside the target, made exclusively under an unpredictable name, renamed on success and
    // removed (when dropped) otherwise.
    let directory = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temporary = tempfile::Builder::new()
        .prefix(".dfab-save.")
        .tempfile_in(directory)
        .with_context(|| format!("cannot write in '{}'", directory.display()))?;
    let partial = temporary.path().to_owned();
    let mut file = temporary.as_file();
    let bar = byte_bar(None, &format!("saving {image}"));
    let mut buffer = vec![0u8; CHUNK];
    let mut received = 0u64;
    let copied: anyhow::Result<()> = loop {
        match (&opened.stream).read(&mut buffer) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = file.write_all(&buffer[..n]) {
                    break Err(anyhow!("cannot write '{}': {e}", partial.display()));
                }
                received += n as u64;
                bar.set_position(received);
            }
            Err(e) => break Err(anyhow!("the download of {image} from {host} broke: {e}")),
        }
    };
    bar.finish_and_clear();
    let errors = stderr.join().unwrap_or_default();
    let exit = opened.done.recv().ok();
    let complete = copied.and_then(|()| {
        let failed = errors.lines().any(|l| l.trim() == SAVE_FAILED);
        match exit {
            _ if failed => Err(anyhow!(
                "docker save {image} failed on {host}: {}",
                errors
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty() && l.trim() != SAVE_FAILED)
                    .unwrap_or("no message")
                    .trim()
            )),
            Some(exit) if exit.error.is_none() && exit.status == Some(0) => Ok(()),
            Some(crate::ssh::Exit {
                error: Some(error), ..
            }) => Err(anyhow!(
                "the download of {image} from {host} broke after {received} bytes: {error}"
            )),
            _ => Err(anyhow!(
                "the download of {image} from {host} broke after {received} bytes: the connection closed"
            )),
        }
    });
    complete.and_then(|()| {
        temporary
            .persist(target)
            .map(drop)
            .with_context(|| format!("cannot write '{}'", target.display()))
    })
}

/// Whether the first bytes are those of a gzip file or a tar archive.
fn is_tarball(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b]) || head.get(257..262) == Some(b"ustar".as_slice())
}

/// Streams a plain or gzip image tarball into the current host's engine, the upload allowed `timeout`, and
/// returns the engine's report lines (`Loaded image: …`).
pub fn load_image_file(filename: &Path, timeout: Duration) -> anyhow::Result<Vec<String>> {
    let mut file =
        File::open(filename).with_context(|| format!("cannot read '{}'", filename.display()))?;
    let size = file
        .metadata()
        .with_context(|| format!("cannot read '{}'", filename.display()))?
        .len();
    let mut head = Vec::with_capacity(512);
    (&mut file)
        .take(512)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read '{}'", filename.display()))?;
    if !is_tarball(&head) {
        bail!(
            "'{}' is not an image tarball: expected a tar archive, plain or gzip-compressed",
            filename.display()
        );
    }
    let file =
        File::open(filename).with_context(|| format!("cannot read '{}'", filename.display()))?;
    let client = docker_client()?.with_timeout(timeout);
    let bar = byte_bar(Some(size), &format!("loading {}", filename.display()));
    let counter = bar.clone();
    let chunks = file_body(file, move |n| counter.inc(n as u64));
    let docker = client.docker();
    let what = format!("loading {}", filename.display());
    let outcome = client.block_on_within(&what, timeout, async move {
        let mut replies = docker.import_image(
            ImportImageOptions {
                quiet: true,
                ..Default::default()
            },
            bollard::body_try_stream(chunks),
            None,
        );
        let mut report = Vec::new();
        while let Some(reply) = replies.next().await {
            let reply = reply?;
            if let Some(text) = reply.stream.or(reply.status) {
                // Kept to a bound: an engine may send lines without end.
                let room = REPORT_LINES.saturating_sub(report.len());
                report.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .take(room),
                );
            }
        }
        Ok::<_, bollard::errors::Error>(report)
    });
    bar.finish_and_clear();
    match outcome? {
        Err(e) => match client.explain(&what, e) {
            dropped @ DockerError::TunnelDropped { .. } => after_drop(filename, dropped),
            other => Err(other.into()),
        },
        Ok(report) => Ok(report),
    }
}

/// The most lines of a load's report kept: a tarball of many images says one line each.
const REPORT_LINES: usize = 10_000;

/// The most a tarball's `manifest.json` may take: far more than any real image list.
const MANIFEST_LIMIT: u64 = 16 * 1024 * 1024;

/// The `repo:tag` names a `docker save` tarball (plain or gzip) holds, from its `manifest.json`.
fn tarball_tags(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut head = [0u8; 2];
    File::open(path)?.read_exact(&mut head)?;
    let file = File::open(path)?;
    let reader: Box<dyn Read> = if head == [0x1f, 0x8b] {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let entry = entry?;
        if entry.path()?.as_os_str() != "manifest.json" {
            continue;
        }
        let mut text = String::new();
        entry.take(MANIFEST_LIMIT).read_to_string(&mut text)?;
        let manifest: Vec<serde_json::Value> = serde_json::from_str(&text)?;
        return Ok(manifest
            .iter()
            .filter_map(|image| image.get("RepoTags")?.as_array().cloned())
            .flatten()
            .filter_map(|tag| tag.as_str().map(str::to_owned))
            .collect());
    }
    Ok(Vec::new())
}

/// After the connection dropped during a load: reconnects and says which of the tarball's images the engine has
/// now, since the engine may have finished the load before the reply was lost. All of them there is a success,
/// with a warning; otherwise the error says what is missing.
fn after_drop(filename: &Path, dropped: DockerError) -> anyhow::Result<Vec<String>> {
    let tags = match tarball_tags(filename) {
        Ok(tags) if !tags.is_empty() => tags,
        _ => return Err(dropped.into()),
    };
    let client = match docker_client() {
        Ok(client) => client,
        Err(e) => {
            return Err(anyhow!(
                "{dropped}; reconnecting to see whether the engine loaded it failed: {e}"
            ))
        }
    };
    let (mut have, mut lack) = (Vec::new(), Vec::new());
    for tag in &tags {
        match client.find_image("inspecting an image", tag) {
            Ok(Some(_)) => have.push(tag.clone()),
            Ok(None) => lack.push(tag.clone()),
            Err(e) => {
                return Err(anyhow!(
                    "{dropped}; checking the engine's images after reconnecting failed: {e}"
                ))
            }
        }
    }
    if lack.is_empty() {
        crate::term::output::warn(&format!(
            "{dropped}; on reconnecting, the engine has loaded every image of {}: {}",
            filename.display(),
            have.join(", ")
        ));
        return Ok(have.iter().map(|t| format!("Loaded image: {t}")).collect());
    }
    let found = if have.is_empty() {
        format!("none of {}", lack.join(", "))
    } else {
        format!("{} but lacks {}", have.join(", "), lack.join(", "))
    };
    bail!("{dropped}; on reconnecting, the engine has {found}: run load_image again")
}

/// docker-fabric's guide writes `load_image:new_image.tar.gz:600`; Fabric (and dfab) separate arguments with
/// commas only. Read that form when it is unambiguous (no file of the whole name, a file before the colon, a number
/// after it, and no timeout given besides), saying so; a file of the whole name always wins.
fn colon_form(filename: PathBuf, timeout: u64) -> anyhow::Result<(PathBuf, u64)> {
    let text = filename.to_string_lossy().into_owned();
    let Some((file, seconds)) = text.rsplit_once(':') else {
        return Ok((filename, timeout));
    };
    let Ok(seconds) = seconds.parse::<u64>() else {
        return Ok((filename, timeout));
    };
    if filename.exists() || !Path::new(file).exists() {
        return Ok((filename, timeout));
    }
    let comma = format!("docker.load_image:{file},{seconds}");
    if timeout != 120 {
        bail!("cannot read '{text}', and a timeout is given twice: write {comma}");
    }
    crate::term::output::warn(&format!(
        "read docker.load_image:{text} as {comma}: arguments are separated by commas"
    ));
    Ok((PathBuf::from(file), seconds))
}

/// Save an image of the host into a local gzip tarball (default `<image>.tar.gz`), made with `docker save` on the
/// host.
#[task(namespace = "docker")]
fn save_image(image: String, filename: Option<String>) -> anyhow::Result<()> {
    let saved = save_image_file(&image, filename.as_deref())?;
    puts(&format!("Saved {image} to {}.", saved.display()));
    Ok(())
}

/// Load a local image tarball (plain or gzip) into the host's engine; the upload may take `timeout` seconds.
#[task(namespace = "docker")]
fn load_image(filename: PathBuf, #[arg(default = 120)] timeout: u64) -> anyhow::Result<()> {
    let (filename, timeout) = colon_form(filename, timeout)?;
    for line in load_image_file(&filename, Duration::from_secs(timeout))? {
        puts(&line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_and_magic() {
        assert_eq!(
            default_file_name("registry.example.com:5000/app:1.2"),
            "registry.example.com_5000_app_1.2.tar.gz"
        );
        assert!(is_tarball(&[0x1f, 0x8b, 8, 0]));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert!(is_tarball(&tar));
        assert!(!is_tarball(b"hello world"));
        assert!(!is_tarball(&[]));
    }
}
