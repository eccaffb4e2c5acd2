//! Pushing an image from the local engine (or a saved tarball) into a host's engine without a registry, sending
//! only the layers the host lacks: `docker.push_image` and maps' `push_images=true`.
//!
//! The engine's `docker load` skips the content of every layer whose chain it already has (moby's
//! `image/tarexport/load.go`), so a tarball with the image's config, a manifest naming every layer, and only the
//! missing layers' files loads the whole image. The image is exported once per run into a spool file; each host gets
//! its own thin tarball cut from it, streamed into `POST /images/load` through the tunnel. The manifest sent names
//! no tags: the image is tagged only after its ID on the host is checked, so an interrupted push leaves no tag.

mod inventory;
mod layout;
mod spool;
mod upload;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::{docker_client, DockerClient, DockerError, ImageError};
use inventory::inventory;
use layout::Export;
use spool::{export, local_client};
use upload::load;

pub use spool::release_exports;

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
    /// Whether the whole image was sent, after the engine refused the missing layers alone or made no whole image
    /// of them.
    pub full: bool,
    /// How long the host's part took, in seconds.
    pub seconds: f64,
    /// The tags the image has on the host afterwards.
    pub tags: Vec<String>,
    /// Nothing was sent: a dry run.
    pub dry_run: bool,
}

/// Pushes `image` from the local engine (or `options.source`) to the current host's engine, sending only the layers
/// it lacks, and tags it there once it is checked. The export is kept for the run's other hosts: a program that
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
            local_client()?
                .find_image("inspecting the local image", image)?
                .filter(|found| found.id.is_some())
                .ok_or_else(|| ImageError::NoLocalImage(image.to_owned()))?,
        ),
    };
    let client = docker_client()?.with_timeout(options.timeout);
    // A host that has the local image already needs no export at all, only its tags. The export is not started
    // before this is known: the engine goes on gathering an export after its client has gone, so one begun in
    // vain would load the local disk for as long as a real one.
    if let Some(local) = &local {
        let tags = tags(local.repo_tags.as_deref().unwrap_or_default());
        if let Some(found) = same_image_on_host(&client, local, &tags)? {
            if !options.dry_run {
                for tag in &tags {
                    tag_image(&client, &found, tag)?;
                }
            }
            return Ok(PushReport {
                host: client.host().to_owned(),
                image: image.to_owned(),
                id: local.id.clone().unwrap_or_default(),
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
        .map(|layer| !held.contains(&layer.chain))
        .collect();
    let tags = tags(&export.tags);
    // Where the image would be on this host: by its config's digest on the classic store, by the digest of the
    // manifest dfab sends on containerd's.
    let expected = if containerd {
        &export.manifest_digest
    } else {
        &export.id
    };
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
    if let Some(id) = loaded_image(&client, &export, std::slice::from_ref(expected))? {
        if !options.dry_run {
            for tag in &tags {
                tag_image(&client, &id, tag)?;
            }
        }
        report.seconds = start.elapsed().as_secs_f64();
        return Ok(report);
    }
    report.layers_sent = missing.iter().filter(|m| **m).count();
    report.layers_skipped = missing.len() - report.layers_sent;
    if options.dry_run {
        report.bytes_sent = export.bytes_for(&missing);
        return Ok(report);
    }
    // What the host has untagged already is not the push's to remove, whatever happens.
    let before = untagged(&client)?;
    let (id, bytes, full) = send(
        &client,
        &export,
        &missing,
        expected,
        (&before, options.timeout),
    )?;
    report.bytes_sent = bytes;
    if full {
        report.full = true;
        report.layers_sent = missing.len();
        report.layers_skipped = 0;
    }
    // Tagged, the image is the host's to keep; untagged after a failure, it is dfab's to remove.
    for tag in &tags {
        if let Err(e) = tag_image(&client, &id, tag) {
            remove_untagged(&client, &[id], &before);
            return Err(e.into());
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// Loads the image into the host, thin (only the layers `missing`), and in full when the engine refuses the thin
/// tarball or takes it without making the image; returns the image's ID there, the bytes sent and whether the
/// whole image was. What a failed load left on the host untagged is removed.
fn send(
    client: &DockerClient,
    export: &Export,
    missing: &[bool],
    expected: &str,
    (before, timeout): (&HashSet<String>, Duration),
) -> Result<(String, u64, bool), ImageError> {
    let thin = load(client, export, missing, timeout);
    let (bytes, leftovers) = match thin {
        Ok(loaded) => {
            let mut candidates = vec![expected.to_owned()];
            candidates.extend(loaded.ids.iter().cloned());
            if let Some(id) = loaded_image(client, export, &candidates)? {
                return Ok((id, loaded.bytes, false));
            }
            // Taken but not whole: containerd's store makes the image without a layer's content when it holds the
            // layer unpacked from another blob (compressed, as pulled), and such an image cannot be inspected or
            // saved.
            (loaded.bytes, candidates)
        }
        // A connection that broke or timed out, or an engine past a bound, is an error as it is: sending more would
        // not help, and what the engine loaded before the break is found by the next push, which tags it.
        Err((
            e @ ImageError::Docker(
                DockerError::TunnelDropped { .. }
                | DockerError::Timeout { .. }
                | DockerError::Transport(_)
                | DockerError::Bounded { .. }
                | DockerError::BadAnswer { .. },
            ),
            _,
        )) => return Err(e),
        Err((_, mut ids)) => {
            ids.push(expected.to_owned());
            (0, ids)
        }
    };
    remove_untagged(client, &leftovers, before);
    let all = vec![true; missing.len()];
    let loaded = match load(client, export, &all, timeout) {
        Ok(loaded) => loaded,
        Err((e, ids)) => {
            remove_untagged(client, &ids, before);
            return Err(e);
        }
    };
    let mut candidates = vec![expected.to_owned()];
    candidates.extend(loaded.ids.iter().cloned());
    match loaded_image(client, export, &candidates)? {
        Some(id) => Ok((id, bytes + loaded.bytes, true)),
        None => {
            remove_untagged(client, &candidates, before);
            Err(ImageError::NotLoaded {
                host: client.host().to_owned(),
                image: export.name.clone(),
                id: export.id.clone(),
            })
        }
    }
}

/// The first of `candidates` that the host has as the exported image (the same layers), by its ID there. An image
/// whose description the engine cannot give whole (containerd's store, missing some of its content) is not it.
fn loaded_image(
    client: &DockerClient,
    export: &Export,
    candidates: &[String],
) -> Result<Option<String>, DockerError> {
    for candidate in candidates {
        let found = match client.find_image("inspecting the pushed image", candidate) {
            Ok(found) => found,
            Err(DockerError::BadAnswer { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(found) = found {
            let layers = found.root_fs.as_ref().and_then(|r| r.layers.as_deref());
            if layers == Some(export.diff_ids.as_slice()) {
                return Ok(found.id.or_else(|| Some(candidate.clone())));
            }
        }
    }
    Ok(None)
}

/// The IDs of the images the host has untagged.
fn untagged(client: &DockerClient) -> Result<HashSet<String>, DockerError> {
    let images = client.call("listing the host's images", |d| async move {
        d.list_images(Some(bollard::query_parameters::ListImagesOptions {
            all: true,
            ..Default::default()
        }))
        .await
    })?;
    Ok(images
        .into_iter()
        .filter(|image| image.repo_tags.iter().all(|t| t == "<none>:<none>"))
        .map(|image| image.id)
        .collect())
}

/// Removes those of `ids` that the host has untagged and did not have `before` the push: what a failed load left.
/// A tagged image is someone's, and stays. Read from the image list, which describes even an image missing some of
/// its content; failures are ignored, since the push has failed already and says why.
fn remove_untagged(client: &DockerClient, ids: &[String], before: &HashSet<String>) {
    let Ok(now) = untagged(client) else {
        return;
    };
    for id in now
        .iter()
        .filter(|id| ids.contains(id) && !before.contains(*id))
    {
        let id = id.clone();
        let _ = client.call(
            &format!("removing the untagged image {id}"),
            |d| async move {
                d.remove_image(
                    &id,
                    None::<bollard::query_parameters::RemoveImageOptions>,
                    None,
                )
                .await
            },
        );
    }
}

/// The ID on the host of the local image `local`, if the host has it: under the same ID (both engines keep images
/// the same way), or under one of `tags` with the same layers, creation time and configuration (the ID differs
/// between the classic store and containerd's, the content does not).
fn same_image_on_host(
    client: &DockerClient,
    local: &bollard::models::ImageInspect,
    tags: &[String],
) -> Result<Option<String>, DockerError> {
    let candidates = local.id.iter().chain(tags);
    for candidate in candidates {
        if let Some(found) = client.find_image("inspecting the host's image", candidate)? {
            if same_content(local, &found) {
                return Ok(found.id);
            }
        }
    }
    Ok(None)
}

/// Whether two engines' descriptions of an image describe the same image: what its config holds, compared field
/// by field, since the engines may speak different API versions (1.50 left fields out of `Config`).
fn same_content(a: &bollard::models::ImageInspect, b: &bollard::models::ImageInspect) -> bool {
    let layers =
        |i: &bollard::models::ImageInspect| i.root_fs.as_ref().and_then(|r| r.layers.clone());
    let created = |i: &bollard::models::ImageInspect| {
        i.created
            .as_deref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
    };
    let config = |i: &bollard::models::ImageInspect| {
        i.config.as_ref().map(|c| {
            (
                c.cmd.clone(),
                c.entrypoint.clone(),
                c.env.clone(),
                c.working_dir.clone().filter(|w| !w.is_empty()),
                c.user.clone().filter(|u| !u.is_empty()),
                c.labels.clone().filter(|l| !l.is_empty()),
                c.stop_signal.clone().filter(|s| !s.is_empty()),
                (
                    c.exposed_ports.clone().filter(|p| !p.is_empty()),
                    c.volumes.clone().filter(|v| !v.is_empty()),
                    c.healthcheck.clone(),
                    c.shell.clone().filter(|s| !s.is_empty()),
                    c.on_build.clone().filter(|o| !o.is_empty()),
                ),
            )
        })
    };
    layers(a).is_some()
        && layers(a) == layers(b)
        && created(a) == created(b)
        && a.architecture == b.architecture
        && a.os == b.os
        && config(a) == config(b)
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
                "push {} to {}: {} of {layers} layers, {} missing",
                report.image,
                report.host,
                report.layers_sent,
                megabytes(report.bytes_sent),
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
            "; the whole image was sent, since the host's engine did not make the image from the missing layers \
             alone"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
