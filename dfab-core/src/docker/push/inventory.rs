//! What a host's engine already holds: the layer chains of its images, and which image store it uses.

use std::collections::HashSet;

use futures_util::StreamExt;

use super::super::{DockerClient, DockerError};
use super::layout::chain_ids;

/// How many image inspections the inventory keeps in flight on one host.
const INSPECTIONS_IN_FLIGHT: usize = 8;

/// What the host's engine holds: the chain IDs of every image's layers, and whether it keeps images in containerd
/// (whose importer may want every layer).
pub(super) fn inventory(client: &DockerClient) -> Result<(HashSet<String>, bool), DockerError> {
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
