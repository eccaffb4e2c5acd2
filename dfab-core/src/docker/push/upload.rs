//! The thin tarball a host gets, cut from the spooled export and streamed into its engine's `POST /images/load`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;

use super::super::{DockerClient, ImageError, CHUNK};
use super::layout::Export;
use crate::env::env;
use crate::term::byte_bar;

/// Streams the entries a host needs (`send[i]` for layer i) into its engine's `POST /images/load`; returns the
/// bytes sent.
pub(super) fn load(
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
