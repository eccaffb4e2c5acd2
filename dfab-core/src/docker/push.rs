//! Pushing an image from the local engine (or a saved tarball) into a host's engine without a registry, sending
//! only the layers the host lacks: `docker.push_image` and maps' `push_images=true`.
//!
//! The engine's `docker load` skips the content of every layer whose chain it already has (moby's
//! `image/tarexport/load.go`), so a tarball with the image's config, a manifest naming every layer, and only the
//! missing layers' files loads the whole image. The image is exported once per run into a spool file; each host gets
//! its own thin tarball cut from it, streamed into `POST /images/load` through the tunnel. The manifest sent names
//! no tags: the image is tagged only after its ID on the host is checked, so an interrupted push leaves no tag.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{docker_client, runtime, DockerClient, DockerError, ImageError, CHUNK};
use crate::env::env;
use crate::term::byte_bar;

/// The most `manifest.json` or an image config may take: far more than any real one.
const JSON_LIMIT: u64 = 16 * 1024 * 1024;

/// One image exported for the run: its spooled tarball and where each entry lies in it.
struct Export {
    /// The image as asked for.
    name: String,
    /// Its ID: the sha256 of its config.
    id: String,
    /// The tags it carried (`RepoTags`), given back to it on each host.
    tags: Vec<String>,
    /// The spooled tarball, removed when the run no longer needs it.
    file: tempfile::NamedTempFile,
    /// Each entry's bytes in the file (its headers, data and padding), in order, with the layer it holds if any.
    entries: Vec<(Range<u64>, Option<usize>)>,
    /// The index of `manifest.json` among the entries: sent rewritten, without tags.
    manifest_entry: usize,
    /// `manifest.json` as sent: the one image, `RepoTags` removed.
    manifest: Vec<u8>,
    /// Each layer bottom-up: its chain ID and the size of its entry.
    layers: Vec<(String, u64)>,
    /// How long the export took, in seconds.
    seconds: f64,
}

impl Export {
    /// The bytes of the entries a host lacking the layers `missing` needs.
    fn bytes_for(&self, missing: &[bool]) -> u64 {
        self.entries
            .iter()
            .filter(|(_, layer)| layer.is_none_or(|i| missing[i]))
            .map(|(range, _)| range.end - range.start)
            .sum()
    }
}

/// The exports of this run, by image (and tarball), shared by the hosts.
static EXPORTS: Mutex<Vec<(String, Arc<Export>)>> = Mutex::new(Vec::new());

/// Removes the run's spooled exports; the runner calls it when the tasks are done.
pub fn release_exports() {
    EXPORTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
}

/// The export of `image` (from `source`, a tarball, or else the local engine), made on first use in the run (then
/// the second value is true); the local export may take `timeout`.
fn export(
    image: &str,
    source: Option<&Path>,
    timeout: Duration,
) -> Result<(Arc<Export>, bool), ImageError> {
    let key = format!(
        "{image}\0{}",
        source
            .map(Path::display)
            .map(|p| p.to_string())
            .unwrap_or_default()
    );
    // Held while exporting, so parallel hosts wait for the one export instead of each making their own.
    let mut exports = EXPORTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, found)) = exports.iter().find(|(k, _)| *k == key) {
        return Ok((Arc::clone(found), false));
    }
    let made = Arc::new(make_export(image, source, timeout)?);
    exports.push((key, Arc::clone(&made)));
    Ok((made, true))
}

/// The spool directory, `push/` under dfab's cache directory.
fn spool_dir() -> Result<std::path::PathBuf, ImageError> {
    let dir = crate::input::cache_dir().join("push");
    std::fs::create_dir_all(&dir).map_err(ImageError::file("create", &dir))?;
    Ok(dir)
}

/// How old a spool file must be before a run may take it for one a killed run left.
const SPOOL_GRACE: Duration = Duration::from_secs(60);

/// Removes the spool files that runs killed mid-push left in `dir`: a live run holds a lock on its own, so a file
/// nobody holds, older than a fresh one could be, is nobody's.
fn sweep_spools(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(SPOOL_PREFIX) && name.ends_with(".tar")) {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > SPOOL_GRACE);
        let unheld = old && File::open(entry.path()).is_ok_and(|file| file.try_lock().is_ok());
        if unheld {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The start of every spool file's name.
const SPOOL_PREFIX: &str = "dfab-push-";

fn make_export(
    image: &str,
    source: Option<&Path>,
    timeout: Duration,
) -> Result<Export, ImageError> {
    let start = Instant::now();
    // Created exclusively under an unpredictable name, readable by this user only.
    let dir = spool_dir()?;
    sweep_spools(&dir);
    let mut file = tempfile::Builder::new()
        .prefix(SPOOL_PREFIX)
        .suffix(".tar")
        .tempfile_in(&dir)
        .map_err(ImageError::file("create a spool file in", &dir))?;
    // Held while the run has the file, so that other runs' sweeps leave it alone.
    file.as_file()
        .try_lock()
        .map_err(|e| ImageError::file("lock", file.path())(e.into()))?;
    match source {
        Some(path) => copy_tarball(path, file.as_file_mut())?,
        None => {
            let path = file.path().to_owned();
            export_local(image, file.as_file_mut(), &path, timeout)?
        }
    }
    let mut export = index(image, file, source)?;
    export.seconds = start.elapsed().as_secs_f64();
    Ok(export)
}

/// Copies a saved tarball (plain or gzip) into the spool file.
fn copy_tarball(path: &Path, spool: &mut File) -> Result<(), ImageError> {
    copy_tarball_within(path, spool, GZIP_SLACK)
}

/// Copies a saved tarball into the spool file; a gzipped one may expand to [`GZIP_RATIO_LIMIT`] times its size
/// plus `slack` bytes.
fn copy_tarball_within(path: &Path, spool: &mut File, slack: u64) -> Result<(), ImageError> {
    crate::input::check_regular(path, "image tarball")?;
    let mut head = [0u8; 2];
    let mut file = File::open(path).map_err(ImageError::file("read", path))?;
    let gzip = file.read_exact(&mut head).is_ok() && head == [0x1f, 0x8b];
    file.seek(SeekFrom::Start(0))
        .map_err(ImageError::file("read", path))?;
    if !gzip {
        std::io::copy(&mut file, spool).map_err(ImageError::file("read", path))?;
        return Ok(());
    }
    // A gzip stream may claim any size: a few bytes can expand to more than the disk holds.
    let compressed = file
        .metadata()
        .map_err(ImageError::file("read", path))?
        .len();
    let limit = compressed
        .saturating_mul(GZIP_RATIO_LIMIT)
        .saturating_add(slack);
    let copied = std::io::copy(
        &mut flate2::read::GzDecoder::new(file).take(limit + 1),
        spool,
    )
    .map_err(ImageError::file("read", path))?;
    if copied > limit {
        return Err(ImageError::NotATarball {
            what: format!("'{}'", path.display()),
            why: format!(
                "unzipped it is more than {limit} bytes ({GZIP_RATIO_LIMIT} times its size and {} MiB more)",
                slack >> 20
            ),
        });
    }
    Ok(())
}

/// How many times its size a gzipped image tarball may expand to (saved images expand a few times), besides
/// [`GZIP_SLACK`].
const GZIP_RATIO_LIMIT: u64 = 1000;

/// What a gzipped image tarball may expand to whatever its size.
const GZIP_SLACK: u64 = 1 << 30;

/// Streams `GET /images/{image}/get` from the local engine into the spool file at `path`, for at most `timeout`.
fn export_local(
    image: &str,
    spool: &mut File,
    path: &Path,
    timeout: Duration,
) -> Result<(), ImageError> {
    let local = local_client()?;
    let docker = local.docker();
    let what = format!("exporting {image}");
    let target = spool.try_clone().map_err(ImageError::file("write", path))?;
    let name = image.to_owned();
    // Run on one of the runtime's threads, where the connection's reads wake it without a hop to another thread:
    // the stream comes in thousands of small chunks, and the hops doubled the time it took to take them in.
    let task = runtime::spawn(async move {
        use std::io::Write;
        // Plain buffered writes: the spool is written at the pace the engine exports, and tokio's file type would
        // hand each chunk to a blocking thread.
        let mut out = std::io::BufWriter::with_capacity(CHUNK, target);
        let mut stream = docker.export_image(&name);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(Ok)?;
            out.write_all(&chunk).map_err(Err)?;
        }
        out.flush().map_err(Err)
    })?;
    let written = local.block_on_within(&what, timeout, task)?;
    match written {
        Ok(()) => Ok(()),
        Err(Ok(e)) => match local.explain(&what, e) {
            DockerError::Api { status: 404, .. } => Err(ImageError::NoLocalImage(image.to_owned())),
            other => Err(other.into()),
        },
        Err(Err(e)) => Err(ImageError::file("write", path)(e)),
    }
}

/// The local engine's client (`DOCKER_HOST`, else the default socket), whatever host the task runs on and whatever
/// `docker_base_url` says about the hosts' engines.
fn local_client() -> Result<Arc<DockerClient>, ImageError> {
    let _local = crate::env::settings([
        ("host_string", serde_yaml::Value::Null),
        ("docker_base_url", serde_yaml::Value::Null),
    ])?;
    Ok(docker_client()?)
}

/// Reads the spooled tarball's table of entries, its manifest and config.
fn index(
    image: &str,
    mut file: tempfile::NamedTempFile,
    source: Option<&Path>,
) -> Result<Export, ImageError> {
    let described = || match source {
        Some(path) => format!("'{}'", path.display()),
        None => format!("the local engine's export of {image}"),
    };
    let bad = |why: String| ImageError::NotATarball {
        what: described(),
        why,
    };
    // Each entry: its path, its bytes in the file (headers, data, padding), where its data starts, and its size.
    let mut entries: Vec<(String, Range<u64>, u64, u64)> = Vec::new();
    {
        let reader = file
            .reopen()
            .map_err(ImageError::file("read", file.path()))?;
        let mut archive = tar::Archive::new(reader);
        let mut end = 0u64;
        // Seeking past each entry's data: only the headers are read, not the image's hundreds of megabytes again.
        for entry in archive
            .entries_with_seek()
            .map_err(|e| bad(e.to_string()))?
        {
            let entry = entry.map_err(|e| bad(e.to_string()))?;
            let path = entry
                .path()
                .map_err(|e| bad(e.to_string()))?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_owned();
            let data = entry.raw_file_position();
            let size = entry.size();
            let stop = data + size.div_ceil(512) * 512;
            entries.push((path, end..stop, data, size));
            end = stop;
        }
    }
    let spool = file.path().to_owned();
    let read = |file: &mut File, at: u64, size: u64, what: &str| -> Result<Vec<u8>, ImageError> {
        if size > JSON_LIMIT {
            return Err(bad(format!("its {what} is larger than 16 MiB")));
        }
        let mut bytes = vec![0u8; usize::try_from(size).unwrap_or(0)];
        file.seek(SeekFrom::Start(at))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(ImageError::file("read", &spool))?;
        Ok(bytes)
    };
    let find = |name: &str| entries.iter().position(|(path, ..)| path == name);
    let manifest_entry =
        find("manifest.json").ok_or_else(|| bad("it has no manifest.json".into()))?;
    let (_, _, data, size) = entries[manifest_entry];
    let manifest_bytes = read(file.as_file_mut(), data, size, "manifest.json")?;
    let manifest: Value = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| bad(format!("its manifest.json is not JSON: {e}")))?;
    let images = manifest
        .as_array()
        .ok_or_else(|| bad("manifest.json is not a list".into()))?;
    let tags_of = |m: &Value| strings(&m["RepoTags"]);
    let chosen = match images.len() {
        0 => return Err(bad("manifest.json names no image".into())),
        1 => &images[0],
        _ => images
            .iter()
            .find(|m| {
                tags_of(m)
                    .iter()
                    .any(|t| t == image || *t == format!("{image}:latest"))
            })
            .ok_or_else(|| ImageError::WhichImage {
                what: described(),
                image: image.to_owned(),
            })?,
    };
    let config_path = chosen["Config"]
        .as_str()
        .ok_or_else(|| bad("manifest.json names no config".into()))?;
    let config_entry =
        find(config_path).ok_or_else(|| bad(format!("it lacks the config {config_path}")))?;
    let (_, _, data, size) = entries[config_entry];
    let config_bytes = read(file.as_file_mut(), data, size, "config")?;
    let id = format!("sha256:{}", hex(&Sha256::digest(&config_bytes)));
    let config: Value = serde_json::from_slice(&config_bytes)
        .map_err(|e| bad(format!("its config is not JSON: {e}")))?;
    let diff_ids = strings(&config["rootfs"]["diff_ids"]);
    let layer_paths = strings(&chosen["Layers"]);
    if layer_paths.len() != diff_ids.len() {
        return Err(bad(format!(
            "its manifest lists {} layers and its config {}",
            layer_paths.len(),
            diff_ids.len()
        )));
    }
    let chains = chain_ids(&diff_ids);
    let mut layers = Vec::new();
    let mut indexed: Vec<(Range<u64>, Option<usize>)> = entries
        .iter()
        .map(|(_, range, ..)| (range.clone(), None))
        .collect();
    for (layer, path) in layer_paths.iter().enumerate() {
        let at = find(path).ok_or_else(|| bad(format!("it lacks the layer {path}")))?;
        indexed[at].1 = Some(layer);
        layers.push((
            chains[layer].clone(),
            indexed[at].0.end - indexed[at].0.start,
        ));
    }
    let mut sent = chosen.clone();
    sent["RepoTags"] = Value::Null;
    Ok(Export {
        name: image.to_owned(),
        id,
        tags: tags_of(chosen),
        file,
        entries: indexed,
        manifest_entry,
        manifest: serde_json::to_vec(&Value::Array(vec![sent])).map_err(|e| bad(e.to_string()))?,
        layers,
        seconds: 0.0,
    })
}

/// The strings of a JSON list (none when it is not a list).
fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The chain IDs of layers with these diff IDs, bottom-up: the first is its diff ID, each next one
/// `sha256(<chain below> + " " + <its diff ID>)`, as the engine names a stack of layers.
pub(crate) fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut chains: Vec<String> = Vec::with_capacity(diff_ids.len());
    for diff in diff_ids {
        let chain = match chains.last() {
            None => diff.clone(),
            Some(below) => format!(
                "sha256:{}",
                hex(&Sha256::digest(format!("{below} {diff}").as_bytes()))
            ),
        };
        chains.push(chain);
    }
    chains
}

/// How many image inspections the inventory keeps in flight on one host.
const INSPECTIONS_IN_FLIGHT: usize = 8;

/// What the host's engine holds: the chain IDs of every image's layers, and whether it keeps images in containerd
/// (whose importer may want every layer).
fn inventory(client: &DockerClient) -> Result<(HashSet<String>, bool), DockerError> {
    let docker = client.docker();
    let what = "listing the host's image layers";
    let (images, info) = client
        .block_on(async move {
            let info = docker.info().await?;
            // Top-level images only: an intermediate image's layers start every child's, so their chains are among
            // the children's, and leaving them out saves one request each.
            let list = docker
                .list_images(Some(bollard::query_parameters::ListImagesOptions {
                    all: false,
                    ..Default::default()
                }))
                .await?;
            // Several inspections in flight at once: on a distant host each one costs a round trip.
            let mut inspections = futures_util::stream::iter(list)
                .map(|summary| {
                    let docker = docker.clone();
                    async move { docker.inspect_image(&summary.id).await }
                })
                .buffer_unordered(INSPECTIONS_IN_FLIGHT);
            let mut layers = Vec::new();
            while let Some(inspected) = inspections.next().await {
                match inspected {
                    Ok(image) => {
                        layers.push(image.root_fs.and_then(|r| r.layers).unwrap_or_default())
                    }
                    // Removed since the list was made.
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok((layers, info))
        })?
        .map_err(|e| client.explain(what, e))?;
    let containerd = info
        .driver_status
        .unwrap_or_default()
        .iter()
        .any(|pair| pair.iter().any(|v| v.contains("containerd.snapshotter")));
    let mut chains = HashSet::new();
    for diff_ids in images {
        chains.extend(chain_ids(&diff_ids));
    }
    Ok((chains, containerd))
}

/// How `push_image` runs.
#[derive(Clone, Debug, Default)]
pub struct PushOptions {
    /// A saved image tarball (plain or gzip) to push instead of the local engine's image.
    pub source: Option<std::path::PathBuf>,
    /// The tag the image gets on the host (`repo:tag`), instead of the tags it has.
    pub tag: Option<String>,
    /// Say what would be sent, without sending it.
    pub dry_run: bool,
    /// How long one host's upload may take.
    pub timeout: Duration,
}

/// What a push did on one host.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PushReport {
    /// The host (or `localhost`).
    pub host: String,
    /// The image as asked for.
    pub image: String,
    /// Its ID, the same on both sides.
    pub id: String,
    /// The layers sent.
    pub layers_sent: usize,
    /// The layers the host already had.
    pub layers_skipped: usize,
    /// The bytes of the tarball sent (0 when the host had the image).
    pub bytes_sent: u64,
    /// Whether the whole image was sent (an engine with containerd's image store, or after a thin load failed).
    pub full: bool,
    /// How long the host's part took, in seconds.
    pub seconds: f64,
    /// The tags the image has on the host afterwards.
    pub tags: Vec<String>,
    /// Nothing was sent: a dry run.
    pub dry_run: bool,
}

/// Pushes `image` from the local engine (or `options.source`) to the current host's engine, sending only the layers
/// it lacks, and tags it there once its ID is checked. The export is kept for the run's other hosts: a program that
/// calls this outside the runner calls [`release_exports`] when it is done.
pub fn push_image_to_host(image: &str, options: &PushOptions) -> Result<PushReport, ImageError> {
    let start = Instant::now();
    // The tag asked for; else the name the image was asked by; for an image asked by ID, the tags it has.
    let tags = |own: &[String]| match &options.tag {
        Some(tag) => vec![tag.clone()],
        None if is_id(image) => own.to_vec(),
        None => vec![image.to_owned()],
    };
    let local = match options.source {
        Some(_) => None,
        None => Some(
            local_image(local_client()?.as_ref(), image)?
                .ok_or_else(|| ImageError::NoLocalImage(image.to_owned()))?,
        ),
    };
    let client = docker_client()?.with_timeout(options.timeout);
    // A host that has the local image already needs no export at all, only its tags. The export is not started
    // before this is known: the engine goes on gathering an export after its client has gone, so one begun in
    // vain would load the local disk for as long as a real one.
    if let Some((id, own)) = local {
        if image_id(&client, &id)?.is_some() {
            let tags = tags(&own);
            if !options.dry_run {
                for tag in &tags {
                    tag_image(&client, &id, tag)?;
                }
            }
            return Ok(PushReport {
                host: client.host().to_owned(),
                image: image.to_owned(),
                id,
                layers_sent: 0,
                layers_skipped: 0,
                bytes_sent: 0,
                full: false,
                seconds: start.elapsed().as_secs_f64(),
                tags,
                dry_run: options.dry_run,
            });
        }
    }
    // The host's inventory is taken while the image is exported: the push needs both, and the export (hundreds of
    // megabytes from the local engine) is the longer, so the host's round trips cost nothing.
    let (exported, inventory) = std::thread::scope(|scope| {
        let inventory = scope.spawn(|| inventory(&client));
        let exported = export(image, options.source.as_deref(), options.timeout);
        let inventory = inventory
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (exported, inventory)
    });
    let (held, containerd) = inventory?;
    let (export, fresh) = exported?;
    if fresh {
        let size = export.bytes_for(&vec![true; export.layers.len()]);
        crate::term::output::running(&format!(
            "docker: exported {image} ({}, {} layers) in {:.1} s, once for the run",
            megabytes(size),
            export.layers.len(),
            export.seconds
        ));
    }
    let missing: Vec<bool> = export
        .layers
        .iter()
        .map(|(chain, _)| !held.contains(chain))
        .collect();
    let tags = tags(&export.tags);
    let has_image = image_id(&client, &export.id)?.is_some();
    let mut report = PushReport {
        host: client.host().to_owned(),
        image: image.to_owned(),
        id: export.id.clone(),
        layers_sent: 0,
        layers_skipped: export.layers.len(),
        bytes_sent: 0,
        full: false,
        seconds: 0.0,
        tags: tags.clone(),
        dry_run: options.dry_run,
    };
    if !has_image {
        let send_all = containerd;
        let plan: Vec<bool> = if send_all {
            vec![true; missing.len()]
        } else {
            missing.clone()
        };
        report.layers_sent = plan.iter().filter(|m| **m).count();
        report.layers_skipped = plan.len() - report.layers_sent;
        report.full = send_all;
        if options.dry_run {
            report.bytes_sent = export.bytes_for(&plan);
            return Ok(report);
        }
        let thin = load(&client, &export, &plan, options.timeout);
        // A thin tarball the engine refused, or took without making the image: send the whole image instead. A
        // connection that broke or timed out is an error as it is; sending more would not help.
        let refused = match &thin {
            Ok(_) => image_id(&client, &export.id)?.is_none(),
            Err(ImageError::Docker(
                DockerError::TunnelDropped { .. }
                | DockerError::Timeout { .. }
                | DockerError::Transport(_),
            )) => false,
            Err(_) => true,
        };
        if refused && !send_all {
            let all = vec![true; missing.len()];
            report.bytes_sent = thin.unwrap_or(0) + load(&client, &export, &all, options.timeout)?;
            report.full = true;
            report.layers_sent = all.len();
            report.layers_skipped = 0;
        } else {
            report.bytes_sent = thin?;
        }
        if image_id(&client, &export.id)?.is_none() {
            return Err(ImageError::NotLoaded {
                host: client.host().to_owned(),
                image: image.to_owned(),
                id: export.id.clone(),
            });
        }
    } else if options.dry_run {
        return Ok(report);
    }
    for tag in &tags {
        tag_image(&client, &export.id, tag)?;
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// The ID and tags of `image` on the local engine, if it has it.
fn local_image(
    local: &DockerClient,
    image: &str,
) -> Result<Option<(String, Vec<String>)>, DockerError> {
    Ok(local
        .find_image("inspecting the local image", image)?
        .and_then(|found| found.id.map(|id| (id, found.repo_tags.unwrap_or_default()))))
}

/// The ID of the image `id` on the host, if it has it.
fn image_id(client: &DockerClient, id: &str) -> Result<Option<String>, DockerError> {
    Ok(client
        .find_image("inspecting the pushed image", id)?
        .and_then(|image| image.id))
}

/// Gives the image `id` the tag `name` (`repo[:tag]`, `latest` when none) on the host.
fn tag_image(client: &DockerClient, id: &str, name: &str) -> Result<(), DockerError> {
    let (repo, tag) = split_tag(name);
    let (target, repo, tag) = (id.to_owned(), repo.to_owned(), tag.to_owned());
    client.call(&format!("tagging {name}"), |d| async move {
        d.tag_image(
            &target,
            Some(bollard::query_parameters::TagImageOptions {
                repo: Some(repo),
                tag: Some(tag),
            }),
        )
        .await
    })
}

/// Whether `image` names an image by ID (`sha256:…` or a hex prefix) rather than by name.
fn is_id(image: &str) -> bool {
    let hex = image.strip_prefix("sha256:").unwrap_or(image);
    hex.len() >= 12 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// `repo[:tag]` split at the tag's colon (not a registry port's): `latest` when there is no tag.
pub(crate) fn split_tag(name: &str) -> (&str, &str) {
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (name, "latest"),
    }
}

/// Streams the entries a host needs (`send[i]` for layer i) into its engine's `POST /images/load`; returns the
/// bytes sent.
fn load(
    client: &DockerClient,
    export: &Export,
    send: &[bool],
    timeout: Duration,
) -> Result<u64, ImageError> {
    let total = export.bytes_for(send) + 1024;
    let bar = if env().output.running {
        byte_bar(Some(total), &format!("pushing {}", export.name))
    } else {
        indicatif::ProgressBar::hidden()
    };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
    let mut parts: Vec<Part> = Vec::new();
    for (index, (range, layer)) in export.entries.iter().enumerate() {
        if index == export.manifest_entry {
            parts.push(Part::Manifest);
        } else if layer.is_none_or(|i| send[i]) {
            parts.push(Part::Range(range.clone()));
        }
    }
    let file = export
        .file
        .reopen()
        .map_err(ImageError::file("read", export.file.path()))?;
    let manifest = export.manifest.clone();
    let counter = bar.clone();
    let writer = std::thread::spawn(move || {
        let outcome = write_parts(file, &parts, &manifest, |chunk| {
            counter.inc(chunk.len() as u64);
            sender
                .blocking_send(Ok(chunk))
                .map_err(|_| std::io::Error::other("the upload ended"))
        });
        if let Err(e) = outcome {
            let _ = sender.blocking_send(Err(e));
        }
    });
    let chunks = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let docker = client.docker();
    let what = format!("pushing {}", export.name);
    let outcome = client.block_on_within(&what, timeout, async move {
        let mut replies = docker.import_image(
            bollard::query_parameters::ImportImageOptions {
                quiet: true,
                ..Default::default()
            },
            bollard::body_try_stream(chunks),
            None,
        );
        while let Some(reply) = replies.next().await {
            reply?;
        }
        Ok::<_, bollard::errors::Error>(())
    });
    let _ = writer.join();
    let sent = bar.position();
    bar.finish_and_clear();
    match outcome? {
        Err(e) => Err(client.explain(&what, e).into()),
        Ok(()) => Ok(sent),
    }
}

/// A piece of the tarball a host gets.
enum Part {
    /// Bytes of the spooled export, copied as they are (headers, data, padding).
    Range(Range<u64>),
    /// `manifest.json`, rewritten.
    Manifest,
}

/// Writes the tarball of `parts` in chunks to `send`.
fn write_parts(
    mut file: File,
    parts: &[Part],
    manifest: &[u8],
    mut send: impl FnMut(Bytes) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut buffer = vec![0u8; CHUNK];
    for part in parts {
        match part {
            Part::Range(range) => {
                file.seek(SeekFrom::Start(range.start))?;
                let mut left = range.end - range.start;
                while left > 0 {
                    let n = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
                    file.read_exact(&mut buffer[..n])?;
                    send(Bytes::copy_from_slice(&buffer[..n]))?;
                    left -= n as u64;
                }
            }
            Part::Manifest => {
                let mut header = tar::Header::new_ustar();
                header.set_path("manifest.json")?;
                header.set_size(manifest.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                header.set_cksum();
                let mut entry = header.as_bytes().to_vec();
                entry.extend_from_slice(manifest);
                entry.resize(entry.len().div_ceil(512) * 512, 0);
                send(Bytes::from(entry))?;
            }
        }
    }
    // The end of the archive: two zero blocks.
    send(Bytes::from(vec![0u8; 1024]))
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// The report line for one host.
pub(crate) fn describe(report: &PushReport) -> String {
    let layers = report.layers_sent + report.layers_skipped;
    let short = report
        .id
        .trim_start_matches("sha256:")
        .get(..12)
        .unwrap_or_default();
    if report.dry_run {
        return if report.layers_sent == 0 && report.bytes_sent == 0 {
            format!(
                "push {} to {}: nothing to send, the host has it",
                report.image, report.host
            )
        } else {
            format!(
                "push {} to {}: {} of {layers} layers, {} missing{}",
                report.image,
                report.host,
                report.layers_sent,
                megabytes(report.bytes_sent),
                if report.full {
                    " (the whole image: containerd's image store)"
                } else {
                    ""
                }
            )
        };
    }
    if report.bytes_sent == 0 {
        return format!(
            "{} ({short}) is on {} already; tagged {}",
            report.image,
            report.host,
            report.tags.join(", ")
        );
    }
    format!(
        "pushed {} ({short}) to {}: {} of {layers} layers sent ({}), {} skipped, in {:.1} s{}",
        report.image,
        report.host,
        report.layers_sent,
        megabytes(report.bytes_sent),
        report.layers_skipped,
        report.seconds,
        if report.full {
            "; the whole image was sent"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_engine() {
        let diffs = vec!["sha256:aa".to_owned(), "sha256:bb".to_owned()];
        let chains = chain_ids(&diffs);
        assert_eq!(chains[0], "sha256:aa");
        assert_eq!(
            chains[1],
            format!("sha256:{}", hex(&Sha256::digest(b"sha256:aa sha256:bb")))
        );
    }

    #[test]
    fn only_spools_nobody_holds_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str, age: u64| {
            let file = File::create(dir.path().join(name)).unwrap();
            file.set_modified(std::time::SystemTime::now() - Duration::from_secs(age))
                .unwrap();
            file
        };
        drop(make("dfab-push-killed.tar", 120));
        let held = make("dfab-push-live.tar", 120);
        held.try_lock().unwrap();
        drop(make("dfab-push-fresh.tar", 1));
        drop(make("other.tar", 120));
        sweep_spools(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["dfab-push-fresh.tar", "dfab-push-live.tar", "other.tar"]
        );
        drop(held);
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_its_limit() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let bomb = dir.path().join("bomb.tar.gz");
        let mut gzip = flate2::write::GzEncoder::new(
            File::create(&bomb).unwrap(),
            flate2::Compression::best(),
        );
        for _ in 0..128 {
            gzip.write_all(&[0u8; 1 << 20]).unwrap();
        }
        gzip.finish().unwrap();
        let size = std::fs::metadata(&bomb).unwrap().len();
        let mut spool = tempfile::tempfile().unwrap();
        let error = copy_tarball_within(&bomb, &mut spool, 1 << 20)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "'{}' is not an image tarball: unzipped it is more than {} bytes (1000 times its size and 1 MiB more)",
                bomb.display(),
                size * 1000 + (1 << 20)
            )
        );
        assert!(spool.metadata().unwrap().len() <= size * 1000 + (1 << 20) + 1);
    }

    #[test]
    fn tags_split_at_the_tags_colon() {
        assert_eq!(split_tag("app:v2"), ("app", "v2"));
        assert_eq!(split_tag("app"), ("app", "latest"));
        assert_eq!(
            split_tag("reg.example.com:5000/app"),
            ("reg.example.com:5000/app", "latest")
        );
        assert_eq!(
            split_tag("reg.example.com:5000/app:1"),
            ("reg.example.com:5000/app", "1")
        );
    }
}
