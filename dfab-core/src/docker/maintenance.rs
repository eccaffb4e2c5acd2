//! Host maintenance on a `DockerClient`: removing exited containers, unused images, or every container.

use std::collections::{BTreeSet, HashMap, HashSet};

use bollard::models::{ContainerSummary, ImageSummary};
use bollard::query_parameters::{
    ListContainersOptions, ListImagesOptions, RemoveContainerOptions, RemoveImageOptions,
    StopContainerOptions,
};

use super::{DockerClient, DockerError};
use crate::term::output::warn;

/// A container as the maintenance calls report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerRef {
    /// The full id.
    pub id: String,
    /// The primary name, without the leading `/`.
    pub name: String,
}

/// What [`DockerClient::remove_all_containers`] did (or, with `list_only`, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemovedAll {
    /// Containers that were running and were stopped.
    pub stopped: Vec<String>,
    /// Every container removed.
    pub removed: Vec<String>,
}

impl DockerClient {
    fn all_containers(&self) -> Result<Vec<ContainerSummary>, DockerError> {
        self.call("listing containers", |d| async move {
            d.list_containers(Some(ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
        })
    }

    /// Removes containers that have exited (or died), and with `include_initial` those never started; names in
    /// `exclude` are kept. With `list_only` nothing is removed and the candidates are returned.
    pub fn cleanup_containers(
        &self,
        include_initial: bool,
        exclude: &[String],
        raise_on_error: bool,
        list_only: bool,
    ) -> Result<Vec<ContainerRef>, DockerError> {
        let exclude: HashSet<&str> = exclude.iter().map(|n| n.trim_start_matches('/')).collect();
        let candidates: Vec<ContainerRef> = self
            .all_containers()?
            .into_iter()
            .filter(|c| {
                let status = c.status.as_deref().unwrap_or_default();
                status.starts_with("Exited")
                    || status.starts_with("Dead")
                    || (include_initial && (status.is_empty() || status.starts_with("Created")))
            })
            .filter(|c| {
                !c.names
                    .iter()
                    .flatten()
                    .any(|n| exclude.contains(n.trim_start_matches('/')))
            })
            .map(|c| ContainerRef {
                name: primary_name(&c),
                id: c.id.unwrap_or_default(),
            })
            .collect();
        if list_only {
            return Ok(candidates);
        }
        let mut removed = Vec::new();
        for container in candidates {
            let target = container.name.clone();
            let outcome = self.act(&format!("remove_container {target}"), |d| async move {
                d.remove_container(&target, None::<RemoveContainerOptions>)
                    .await
            });
            if self.settle(outcome, raise_on_error)? {
                removed.push(container);
            }
        }
        Ok(removed)
    }

    /// Removes images no container uses and that have no tag (with `remove_old`: no `latest` tag and no tag in
    /// `keep_tags`), never an image whose descendants are kept, children before parents. With `list_only`
    /// nothing is removed and the candidates' ids are returned.
    pub fn cleanup_images(
        &self,
        remove_old: bool,
        keep_tags: &[String],
        force: bool,
        raise_on_error: bool,
        list_only: bool,
    ) -> Result<Vec<String>, DockerError> {
        let images = self.call("listing images", |d| async move {
            d.list_images(Some(ListImagesOptions {
                all: true,
                ..Default::default()
            }))
            .await
        })?;
        let used: HashSet<String> = self
            .all_containers()?
            .into_iter()
            .filter_map(|c| c.image_id)
            .collect();
        let candidates = unused_images(&images, &used, remove_old, keep_tags);
        if list_only {
            return Ok(candidates);
        }
        let mut removed = Vec::new();
        for id in candidates {
            let target = id.clone();
            let outcome = self.act(&format!("remove_image {}", short(&id)), |d| async move {
                d.remove_image(
                    &target,
                    Some(RemoveImageOptions {
                        force,
                        ..Default::default()
                    }),
                    None,
                )
                .await
                .map(drop)
            });
            if self.settle(outcome, raise_on_error)? {
                removed.push(id);
            }
        }
        Ok(removed)
    }

    /// Stops every running container (waiting `stop_timeout` seconds each) and removes every container. With
    /// `list_only` nothing changes and the running and all ids are returned.
    pub fn remove_all_containers(
        &self,
        stop_timeout: i32,
        raise_on_error: bool,
        list_only: bool,
    ) -> Result<RemovedAll, DockerError> {
        let containers = self.all_containers()?;
        let running: Vec<String> = containers
            .iter()
            .filter(|c| {
                let status = c.status.as_deref().unwrap_or_default();
                !(status.starts_with("Exited") || status.starts_with("Dead"))
            })
            .filter_map(|c| c.id.clone())
            .collect();
        let all: Vec<String> = containers.iter().filter_map(|c| c.id.clone()).collect();
        if list_only {
            return Ok(RemovedAll {
                stopped: running,
                removed: all,
            });
        }
        let mut done = RemovedAll::default();
        for id in running {
            let target = id.clone();
            let outcome = self.act(&format!("stop_container {}", short(&id)), |d| async move {
                d.stop_container(
                    &target,
                    Some(StopContainerOptions {
                        t: Some(stop_timeout),
                        ..Default::default()
                    }),
                )
                .await
            });
            if self.settle(outcome, raise_on_error)? {
                done.stopped.push(id);
            }
        }
        for id in all {
            let target = id.clone();
            let outcome = self.act(
                &format!("remove_container {}", short(&id)),
                |d| async move {
                    d.remove_container(&target, None::<RemoveContainerOptions>)
                        .await
                },
            );
            if self.settle(outcome, raise_on_error)? {
                done.removed.push(id);
            }
        }
        Ok(done)
    }

    /// Whether a maintenance step succeeded; a failure is a warning unless `raise_on_error`.
    fn settle(
        &self,
        outcome: Result<(), DockerError>,
        raise_on_error: bool,
    ) -> Result<bool, DockerError> {
        match outcome {
            Ok(()) => Ok(true),
            Err(e) if raise_on_error => Err(e),
            Err(e) => {
                warn(&e.to_string());
                Ok(false)
            }
        }
    }
}

/// The name a container is addressed by: the first without a second `/` (link aliases have one), else its id.
fn primary_name(container: &ContainerSummary) -> String {
    container
        .names
        .iter()
        .flatten()
        .map(|n| n.trim_start_matches('/'))
        .find(|n| !n.contains('/'))
        .map(str::to_owned)
        .unwrap_or_else(|| container.id.clone().unwrap_or_default())
}

fn short(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// The ids of images to remove, each after all of its children.
fn unused_images(
    images: &[ImageSummary],
    used: &HashSet<String>,
    remove_old: bool,
    keep_tags: &[String],
) -> Vec<String> {
    let real_tags = |image: &ImageSummary| {
        image
            .repo_tags
            .iter()
            .filter(|t| t.as_str() != "<none>:<none>")
            .cloned()
            .collect::<Vec<_>>()
    };
    let kept_by_tag = |image: &ImageSummary| {
        let tags = real_tags(image);
        if remove_old {
            tags.iter().any(|t| {
                t.ends_with(":latest") || keep_tags.iter().any(|k| t.ends_with(&format!(":{k}")))
            })
        } else {
            !tags.is_empty()
        }
    };
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for image in images {
        if !image.parent_id.is_empty() {
            children
                .entry(image.parent_id.as_str())
                .or_default()
                .push(image.id.as_str());
        }
    }
    let kept: HashSet<&str> = images
        .iter()
        .filter(|i| used.contains(&i.id) || kept_by_tag(i))
        .map(|i| i.id.as_str())
        .collect();
    // An image stays when it or any descendant is kept.
    fn stays<'a>(
        id: &'a str,
        kept: &HashSet<&'a str>,
        children: &HashMap<&'a str, Vec<&'a str>>,
        seen: &mut BTreeSet<&'a str>,
    ) -> bool {
        if kept.contains(id) {
            return true;
        }
        if !seen.insert(id) {
            return false;
        }
        children
            .get(id)
            .is_some_and(|c| c.iter().any(|child| stays(child, kept, children, seen)))
    }
    let candidates: Vec<&str> = images
        .iter()
        .map(|i| i.id.as_str())
        .filter(|id| !stays(id, &kept, &children, &mut BTreeSet::new()))
        .collect();
    // Children first: an image's depth below its farthest root orders removal, deepest first.
    let parent: HashMap<&str, &str> = images
        .iter()
        .filter(|i| !i.parent_id.is_empty())
        .map(|i| (i.id.as_str(), i.parent_id.as_str()))
        .collect();
    let depth = |id: &str| depth_below_root(id, &parent);
    let mut ordered: Vec<(usize, &str)> = candidates.iter().map(|id| (depth(id), *id)).collect();
    ordered.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    ordered.into_iter().map(|(_, id)| id.to_owned()).collect()
}

/// How many ancestors an image has (a broken parent chain ends the count).
fn depth_below_root<'a>(mut id: &'a str, parent: &HashMap<&str, &'a str>) -> usize {
    let mut depth = 0;
    let mut seen = HashSet::new();
    while let Some(p) = parent.get(id) {
        if !seen.insert(*p) {
            break;
        }
        depth += 1;
        id = p;
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, parent: &str, tags: &[&str]) -> ImageSummary {
        ImageSummary {
            id: id.into(),
            parent_id: parent.into(),
            repo_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn untagged_unused_images_go_children_first() {
        let images = [
            image("base", "", &[]),
            image("mid", "base", &[]),
            image("leaf", "mid", &["<none>:<none>"]),
            image("tagged", "", &["app:1"]),
            image("under-tagged", "", &[]),
            image("child-tagged", "under-tagged", &["web:2"]),
            image("used", "", &[]),
        ];
        let used: HashSet<String> = ["used".to_owned()].into();
        assert_eq!(
            unused_images(&images, &used, false, &[]),
            ["leaf", "mid", "base"]
        );
    }

    #[test]
    fn remove_old_keeps_latest_and_keep_tags() {
        let images = [
            image("a", "", &["app:latest"]),
            image("b", "", &["app:1"]),
            image("c", "", &["app:stable"]),
            image("d", "", &[]),
        ];
        let used = HashSet::new();
        assert_eq!(
            unused_images(&images, &used, true, &["stable".to_owned()]),
            ["b", "d"]
        );
        assert_eq!(unused_images(&images, &used, true, &[]), ["b", "c", "d"]);
    }

    #[test]
    fn primary_names_skip_link_aliases() {
        let container = ContainerSummary {
            id: Some("abc".into()),
            names: Some(vec!["/app/web".into(), "/web".into()]),
            ..Default::default()
        };
        assert_eq!(primary_name(&container), "web");
    }
}
