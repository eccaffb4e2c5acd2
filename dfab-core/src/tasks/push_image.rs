//! `docker.push_image`: the task over `docker::push` (images to hosts without a registry, only the missing layers).

use std::time::Duration;

use anyhow::bail;

use crate::docker::{describe_push, push_image_to_host, PushOptions};
use crate::task;
use crate::term::output::{fastprint, puts};

/// Push images from the local engine (or `source=` a saved tarball) to the host, sending only the layers it lacks:
/// `push_image:app:v2`, several as `a;b`; `tag=` retags on the host, `dry_run=true` says what would be sent,
/// `format=json` prints one JSON line per image.
#[task(namespace = "docker")]
fn push_image(
    images: Vec<String>,
    source: Option<std::path::PathBuf>,
    tag: Option<String>,
    #[arg(default = false)] dry_run: bool,
    #[arg(default = 600)] timeout: u64,
    #[arg(default = "table")] format: String,
) -> anyhow::Result<()> {
    let json = match format.as_str() {
        "table" => false,
        "json" => true,
        other => bail!("format '{other}' is not a report format: expected table or json"),
    };
    if images.is_empty() {
        bail!("push_image needs an image: docker.push_image:app:v2");
    }
    if tag.is_some() && images.len() > 1 {
        bail!(
            "tag= retags one image; push {} one at a time to retag them",
            images.join(", ")
        );
    }
    let options = PushOptions {
        source,
        tag,
        dry_run,
        timeout: Duration::from_secs(timeout),
    };
    for image in &images {
        let report = push_image_to_host(image, &options)?;
        if json {
            fastprint(&format!("{}\n", serde_json::to_string(&report)?));
        } else {
            puts(&describe_push(&report));
        }
    }
    Ok(())
}
