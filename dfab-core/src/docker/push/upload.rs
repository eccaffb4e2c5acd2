//! The thin tarball a host gets, an OCI layout (with docker's `manifest.json` beside it) of the config and the
//! layers it lacks cut from the spooled export, streamed into its engine's `POST /images/load`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;

use super::super::{DockerClient, DockerError, ImageError, CHUNK};
use super::layout::{blob_path, Export};
use crate::env::env;
use crate::term::byte_bar;

/// What a load did: the bytes sent, and the images the engine said it loaded.
pub(super) struct Loaded {
    /// The bytes of the tarball sent.
    pub(super) bytes: u64,
    /// The IDs in the engine's `Loaded image ID: …` lines (the config digest on the classic store, the manifest's
    /// on containerd's).
    pub(super) ids: Vec<String>,
}

/// Streams the tarball a host lacking the layers `send[i]` needs into its engine's `POST /images/load`. A load that
/// fails says what it loaded all the same (`Err` with the IDs), so that the caller can remove it.
pub(super) fn load(
    client: &DockerClient,
    export: &Export,
    send: &[bool],
    timeout: Duration,
) -> Result<Loaded, (ImageError, Vec<String>)> {
    let total = export.bytes_for(send);
    let bar = if env().output.running {
        byte_bar(Some(total), &format!("pushing {}", export.name))
    } else {
        indicatif::ProgressBar::hidden()
    };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
    let mut parts: Vec<Part> = export
        .documents
        .iter()
        .map(|(name, bytes)| Part::Document(name.clone(), bytes.clone()))
        .collect();
    parts.push(Part::Blob(blob_path(&export.id), export.config.clone()));
    parts.extend(
        export
            .layers_to_send(send)
            .into_iter()
            .map(|layer| Part::Blob(blob_path(&layer.digest), layer.data.clone())),
    );
    let file = export
        .file
        .reopen()
        .map_err(|e| (ImageError::file("read", export.file.path())(e), Vec::new()))?;
    let counter = bar.clone();
    let writer = std::thread::spawn(move || {
        let outcome = write_parts(file, &parts, |chunk| {
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
    let ids = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let found = std::sync::Arc::clone(&ids);
    let outcome = client.block_on_within(&what, timeout, async move {
        let mut replies = docker.import_image(
            // Not quiet: the classic store reports each layer as it loads it, so a long load is not mistaken for a
            // stalled one.
            bollard::query_parameters::ImportImageOptions {
                quiet: false,
                ..Default::default()
            },
            bollard::body_try_stream(chunks),
            None,
        );
        let mut failure = None;
        while let Some(reply) = replies.next().await {
            let line = reply?.stream.unwrap_or_default();
            let line = line.trim();
            if let Some(id) = line.strip_prefix("Loaded image ID: ") {
                let mut found = found
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // One image is sent; an engine that says more is not believed past a few.
                if found.len() < 8 {
                    found.push(id.to_owned());
                }
            } else if line.starts_with("Error") {
                // The engine reports some failures as a line of a successful load ("Error unpacking image …").
                failure.get_or_insert_with(|| line.to_owned());
            }
        }
        Ok::<_, bollard::errors::Error>(failure)
    });
    let _ = writer.join();
    let bytes = bar.position();
    bar.finish_and_clear();
    let ids = std::mem::take(
        &mut *ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    match outcome {
        Err(e) => Err((e.into(), ids)),
        Ok(Err(e)) => Err((client.explain(&what, e).into(), ids)),
        Ok(Ok(Some(message))) => Err((
            ImageError::Docker(DockerError::Api {
                host: client.host().to_owned(),
                what,
                status: 200,
                message,
            }),
            ids,
        )),
        Ok(Ok(None)) => Ok(Loaded { bytes, ids }),
    }
}

/// A file of the tarball a host gets.
enum Part {
    /// A small file made for the host (the manifests, the layout's marker), by name.
    Document(String, Vec<u8>),
    /// A blob of the spooled export: its name in the tarball and its bytes in the spool file.
    Blob(String, Range<u64>),
}

/// Writes the tarball of `parts` in chunks to `send`.
fn write_parts(
    mut file: File,
    parts: &[Part],
    mut send: impl FnMut(Bytes) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let header = |name: &str, size: u64| -> std::io::Result<Vec<u8>> {
        let mut header = tar::Header::new_ustar();
        header.set_path(name)?;
        header.set_size(size);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        Ok(header.as_bytes().to_vec())
    };
    let mut buffer = vec![0u8; CHUNK];
    for part in parts {
        match part {
            Part::Document(name, bytes) => {
                let mut entry = header(name, bytes.len() as u64)?;
                entry.extend_from_slice(bytes);
                entry.resize(entry.len().div_ceil(512) * 512, 0);
                send(Bytes::from(entry))?;
            }
            Part::Blob(name, data) => {
                let size = data.end - data.start;
                send(Bytes::from(header(name, size)?))?;
                file.seek(SeekFrom::Start(data.start))?;
                let mut left = size;
                while left > 0 {
                    let n = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
                    file.read_exact(&mut buffer[..n])?;
                    send(Bytes::copy_from_slice(&buffer[..n]))?;
                    left -= n as u64;
                }
                let padding = usize::try_from(size.div_ceil(512) * 512 - size).unwrap_or(0);
                if padding > 0 {
                    send(Bytes::from(vec![0u8; padding]))?;
                }
            }
        }
    }
    // The end of the archive: two zero blocks.
    send(Bytes::from(vec![0u8; 1024]))
}
