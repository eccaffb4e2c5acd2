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

use std::time::{Duration, Instant};

use super::{docker_client, DockerClient, DockerError, ImageError};
use inventory::inventory;
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
