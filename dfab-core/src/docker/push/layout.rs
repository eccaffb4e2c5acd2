//! Reading an image tarball as the engine saves it (the legacy layout or OCI's): its entries, the manifest, the
//! config and which entry holds each layer.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::super::ImageError;

/// The most `manifest.json` or an image config may take: far more than any real one.
const JSON_LIMIT: u64 = 16 * 1024 * 1024;

/// One image exported for the run: its spooled tarball and where each entry lies in it.
pub(super) struct Export {
    /// The image as asked for.
    pub(super) name: String,
    /// Its ID: the sha256 of its config.
    pub(super) id: String,
    /// The tags it carried (`RepoTags`), given back to it on each host.
    pub(super) tags: Vec<String>,
    /// The spooled tarball, removed when the run no longer needs it.
    pub(super) file: tempfile::NamedTempFile,
    /// Each entry's bytes in the file (its headers, data and padding), in order, with the layer it holds if any.
    pub(super) entries: Vec<(Range<u64>, Option<usize>)>,
    /// The index of `manifest.json` among the entries: sent rewritten, without tags.
    pub(super) manifest_entry: usize,
    /// `manifest.json` as sent: the one image, `RepoTags` removed.
    pub(super) manifest: Vec<u8>,
    /// Each layer bottom-up: its chain ID and the size of its entry.
    pub(super) layers: Vec<(String, u64)>,
    /// How long the export took, in seconds.
    pub(super) seconds: f64,
}

impl Export {
    /// The bytes of the entries a host lacking the layers `missing` needs.
    pub(super) fn bytes_for(&self, missing: &[bool]) -> u64 {
        self.entries
            .iter()
            .filter(|(_, layer)| layer.is_none_or(|i| missing[i]))
            .map(|(range, _)| range.end - range.start)
            .sum()
    }
}

/// Reads the spooled tarball's table of entries, its manifest and config.
pub(super) fn index(
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
pub(super) fn chain_ids(diff_ids: &[String]) -> Vec<String> {
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
}
