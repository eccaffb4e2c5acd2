//! Reading an image tarball as an engine saves it (docker's legacy layout, or OCI's from Docker 25 and from
//! containerd's image store): where its config and layers lie, and the OCI layout documents each host is sent.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::super::ImageError;

/// The most `manifest.json`, `index.json`, a manifest or an image config may take: far more than any real one.
const JSON_LIMIT: u64 = 16 * 1024 * 1024;

/// One image exported for the run: its spooled tarball, where its config and layers lie in it, and the documents
/// every host's tarball carries.
pub(super) struct Export {
    /// The image as asked for.
    pub(super) name: String,
    /// Its ID on the classic image store: the digest of its config. The image is named by it everywhere.
    pub(super) id: String,
    /// Its ID on containerd's image store once loaded from what dfab sends: the digest of the OCI manifest below.
    pub(super) manifest_digest: String,
    /// The tags it carried (`RepoTags`), given back to it on each host.
    pub(super) tags: Vec<String>,
    /// The spooled tarball, removed when the run no longer needs it.
    pub(super) file: tempfile::NamedTempFile,
    /// The config's bytes in the file.
    pub(super) config: Range<u64>,
    /// Each layer bottom-up.
    pub(super) layers: Vec<Layer>,
    /// The diff IDs of the layers, what `RootFS.Layers` says of the image on any engine.
    pub(super) diff_ids: Vec<String>,
    /// The small files of every tarball sent, by name: `oci-layout`, `index.json` (one manifest, no name, so that
    /// an interrupted push leaves no tag), the OCI manifest, and `manifest.json` for the classic store's loader.
    pub(super) documents: Vec<(String, Vec<u8>)>,
    /// How long the export took, in seconds.
    pub(super) seconds: f64,
}

/// One layer of an exported image.
pub(super) struct Layer {
    /// Its chain ID: how an engine names the stack of layers up to this one.
    pub(super) chain: String,
    /// The digest of its blob as stored (compressed or not).
    pub(super) digest: String,
    /// The blob's bytes in the file.
    pub(super) data: Range<u64>,
}

/// A tar entry's size with its header and padding.
pub(super) fn entry_size(data: u64) -> u64 {
    512 + data.div_ceil(512) * 512
}

/// The path of a blob in an OCI layout.
pub(super) fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

impl Export {
    /// The layers to send to a host lacking the layers `missing`, each blob once.
    pub(super) fn layers_to_send(&self, missing: &[bool]) -> Vec<&Layer> {
        let mut seen = std::collections::HashSet::new();
        self.layers
            .iter()
            .zip(missing)
            .filter(|(layer, missing)| **missing && seen.insert(layer.digest.as_str()))
            .map(|(layer, _)| layer)
            .collect()
    }

    /// The bytes of the tarball a host lacking the layers `missing` gets.
    pub(super) fn bytes_for(&self, missing: &[bool]) -> u64 {
        let documents: u64 = self
            .documents
            .iter()
            .map(|(_, bytes)| entry_size(bytes.len() as u64))
            .sum();
        let layers: u64 = self
            .layers_to_send(missing)
            .iter()
            .map(|layer| entry_size(layer.data.end - layer.data.start))
            .sum();
        documents + entry_size(self.config.end - self.config.start) + layers + 1024
    }
}

/// What the tarball says of the image chosen in it: its config's and layers' paths, and its tags.
struct Chosen {
    config: String,
    layers: Vec<String>,
    tags: Vec<String>,
}

/// Reads the spooled tarball's table of entries, its manifest (`manifest.json`, else `index.json` and the manifests
/// it leads to) and config, and makes the documents each host gets.
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
    // Each entry: its path and its data's bytes in the file.
    let mut entries: Vec<(String, Range<u64>)> = Vec::new();
    {
        let reader = file
            .reopen()
            .map_err(ImageError::file("read", file.path()))?;
        let mut archive = tar::Archive::new(reader);
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
            entries.push((path, data..data + entry.size()));
        }
    }
    let spool = file.path().to_owned();
    let find = |name: &str| {
        entries
            .iter()
            .find(|(path, _)| path == name)
            .map(|(_, data)| data.clone())
    };
    let mut read = |data: &Range<u64>, what: &str| -> Result<Vec<u8>, ImageError> {
        let size = data.end - data.start;
        if size > JSON_LIMIT {
            return Err(bad(format!("its {what} is larger than 16 MiB")));
        }
        let mut bytes = vec![0u8; usize::try_from(size).unwrap_or(0)];
        let file = file.as_file_mut();
        file.seek(SeekFrom::Start(data.start))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(ImageError::file("read", &spool))?;
        Ok(bytes)
    };
    let mut json = |path: &str, what: &str| -> Result<Value, ImageError> {
        let data = find(path).ok_or_else(|| bad(format!("it lacks the {what} {path}")))?;
        serde_json::from_slice(&read(&data, what)?)
            .map_err(|e| bad(format!("its {what} {path} is not JSON: {e}")))
    };
    let chosen = if find("manifest.json").is_some() {
        from_manifest_json(&json("manifest.json", "list of images")?, image)
    } else if find("index.json").is_some() {
        from_index(&mut json, image)
    } else {
        Err("it has neither manifest.json nor index.json".into())
    }
    .map_err(|why| match why {
        Choice::Which => ImageError::WhichImage {
            what: described(),
            image: image.to_owned(),
        },
        Choice::Bad(why) => bad(why),
    })?;
    let config_data = find(&chosen.config)
        .ok_or_else(|| bad(format!("it lacks the config {}", chosen.config)))?;
    let config_bytes = read(&config_data, "config")?;
    let id = digest_of(&config_bytes);
    let config: Value = serde_json::from_slice(&config_bytes)
        .map_err(|e| bad(format!("its config is not JSON: {e}")))?;
    let diff_ids = strings(&config["rootfs"]["diff_ids"]);
    if chosen.layers.len() != diff_ids.len() {
        return Err(bad(format!(
            "its manifest lists {} layers and its config {}",
            chosen.layers.len(),
            diff_ids.len()
        )));
    }
    let chains = chain_ids(&diff_ids);
    let mut layers = Vec::new();
    let mut descriptors = Vec::new();
    for ((path, diff_id), chain) in chosen.layers.iter().zip(&diff_ids).zip(chains) {
        let data = find(path).ok_or_else(|| bad(format!("it lacks the layer {path}")))?;
        let compression = Compression::of(&mut file, &data)?;
        // A blob's name in an OCI layout is its digest, and an uncompressed layer's digest is its diff ID; only a
        // compressed layer under another name is read again to be named.
        let digest = match (path.strip_prefix("blobs/sha256/"), compression) {
            (Some(hex), _) if is_digest_hex(hex) => format!("sha256:{hex}"),
            (_, Compression::None) => diff_id.clone(),
            _ => digest_of_range(file.as_file_mut(), &data)
                .map_err(ImageError::file("read", &spool))?,
        };
        descriptors.push(json!({
            "mediaType": compression.media_type(),
            "digest": digest,
            "size": data.end - data.start,
        }));
        layers.push(Layer {
            chain,
            digest,
            data,
        });
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": id,
            "size": config_bytes.len(),
        },
        "layers": descriptors,
    });
    let manifest = serde_json::to_vec(&manifest).map_err(|e| bad(e.to_string()))?;
    let manifest_digest = digest_of(&manifest);
    let mut platform = json!({"architecture": config["architecture"], "os": config["os"]});
    if let Some(variant) = config["variant"].as_str() {
        platform["variant"] = json!(variant);
    }
    let index_json = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": OCI_MANIFEST,
            "digest": manifest_digest,
            "size": manifest.len(),
            "platform": platform,
        }],
    });
    let manifest_json = json!([{
        "Config": blob_path(&id),
        "RepoTags": null,
        "Layers": layers.iter().map(|l| blob_path(&l.digest)).collect::<Vec<_>>(),
    }]);
    let documents = vec![
        (
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        (
            "index.json".to_owned(),
            serde_json::to_vec(&index_json).map_err(|e| bad(e.to_string()))?,
        ),
        (
            "manifest.json".to_owned(),
            serde_json::to_vec(&manifest_json).map_err(|e| bad(e.to_string()))?,
        ),
        (blob_path(&manifest_digest), manifest),
    ];
    Ok(Export {
        name: image.to_owned(),
        id,
        manifest_digest,
        tags: chosen.tags,
        file,
        config: config_data,
        layers,
        diff_ids,
        documents,
        seconds: 0.0,
    })
}

/// The media type of an OCI image manifest.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Why no image could be chosen in a tarball.
enum Choice {
    /// Several images, none of them the one asked for.
    Which,
    /// The tarball is not as an engine writes it.
    Bad(String),
}

impl From<&str> for Choice {
    fn from(why: &str) -> Choice {
        Choice::Bad(why.to_owned())
    }
}

/// The image of `manifest.json` (docker's list of images): the only one, or the one tagged `image`.
fn from_manifest_json(manifest: &Value, image: &str) -> Result<Chosen, Choice> {
    let images = manifest.as_array().ok_or("manifest.json is not a list")?;
    let tags_of = |m: &Value| strings(&m["RepoTags"]);
    let chosen = match images.len() {
        0 => return Err("manifest.json names no image".into()),
        1 => &images[0],
        _ => images
            .iter()
            .find(|m| {
                tags_of(m)
                    .iter()
                    .any(|t| t == image || *t == format!("{image}:latest"))
            })
            .ok_or(Choice::Which)?,
    };
    Ok(Chosen {
        config: chosen["Config"]
            .as_str()
            .ok_or("manifest.json names no config")?
            .to_owned(),
        layers: strings(&chosen["Layers"]),
        tags: tags_of(chosen),
    })
}

/// The image of an OCI layout without `manifest.json`: from `index.json` (the only image, or the one named
/// `image`) down through nested indexes to the manifest for this machine's platform, passing over attestations
/// (platform `unknown/unknown`).
fn from_index(
    json: &mut impl FnMut(&str, &str) -> Result<Value, ImageError>,
    image: &str,
) -> Result<Chosen, Choice> {
    let error = |e: ImageError| Choice::Bad(e.to_string());
    let index = json("index.json", "index").map_err(error)?;
    let entries = index["manifests"]
        .as_array()
        .ok_or("index.json lists no manifests")?;
    let name_of = |m: &Value| {
        [
            "io.containerd.image.name",
            "org.opencontainers.image.ref.name",
        ]
        .iter()
        .find_map(|key| m["annotations"][key].as_str().map(str::to_owned))
    };
    let named = |m: &&Value| {
        name_of(m).is_some_and(|n| {
            n == image
                || n.ends_with(&format!("/{image}"))
                || n.ends_with(&format!("/{image}:latest"))
        })
    };
    let mut descriptor = match entries.len() {
        0 => return Err("index.json lists no manifests".into()),
        1 => entries[0].clone(),
        _ => entries.iter().find(named).ok_or(Choice::Which)?.clone(),
    };
    let tags: Vec<String> = name_of(&descriptor)
        .filter(|n| n.contains(':') && !n.contains('@'))
        .into_iter()
        .collect();
    // Nested indexes: at most a few levels in any real layout.
    for _ in 0..4 {
        let digest = descriptor["digest"]
            .as_str()
            .ok_or("a descriptor has no digest")?;
        let document = json(&blob_path(digest), "manifest").map_err(error)?;
        let Some(manifests) = document["manifests"].as_array() else {
            let config = document["config"]["digest"]
                .as_str()
                .ok_or("its manifest names no config")?;
            let layers = document["layers"]
                .as_array()
                .ok_or("its manifest lists no layers")?
                .iter()
                .filter_map(|l| l["digest"].as_str().map(blob_path))
                .collect();
            return Ok(Chosen {
                config: blob_path(config),
                layers,
                tags,
            });
        };
        let images: Vec<&Value> = manifests
            .iter()
            .filter(|m| m["platform"]["os"].as_str() != Some("unknown"))
            .collect();
        let here = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        descriptor = images
            .iter()
            .find(|m| m["platform"]["architecture"].as_str() == Some(here))
            .or_else(|| images.first())
            .copied()
            .ok_or("its index holds no image manifest")?
            .clone();
    }
    Err("its indexes nest more than four deep".into())
}

/// How a layer blob is compressed, by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression of the blob at `data` in `file`.
    fn of(
        file: &mut tempfile::NamedTempFile,
        data: &Range<u64>,
    ) -> Result<Compression, ImageError> {
        let mut head = [0u8; 4];
        let length = usize::try_from((data.end - data.start).min(4)).unwrap_or(0);
        let path = file.path().to_owned();
        let file = file.as_file_mut();
        file.seek(SeekFrom::Start(data.start))
            .and_then(|_| file.read_exact(&mut head[..length]))
            .map_err(ImageError::file("read", &path))?;
        Ok(match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
            _ => Compression::None,
        })
    }

    /// The OCI media type of a layer so compressed.
    fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// Whether `hex` is the hex of a sha256.
fn is_digest_hex(hex: &str) -> bool {
    hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `sha256:<hex>` of `bytes`.
fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// `sha256:<hex>` of the bytes at `data` in `file`.
fn digest_of_range(file: &mut File, data: &Range<u64>) -> std::io::Result<String> {
    file.seek(SeekFrom::Start(data.start))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut (&mut *file).take(data.end - data.start), &mut hasher)?;
    Ok(format!("sha256:{}", hex(&hasher.finalize())))
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
