//! Pulling an image: registry login from the client's `auth_configs` and a progress bar per layer.

use std::collections::{BTreeMap, HashMap};

use bollard::auth::DockerCredentials;
use bollard::models::CreateImageInfo;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::docker::{split_tag, DockerClient, DockerError};
use crate::env::Env;
use crate::map::ClientConfig;
use crate::term::add_bar;

/// Pulls `image` (`repository[:tag]`) on the client's engine, logging in when the client (or else the env) has
/// credentials for its registry, with a bar per layer on a terminal.
pub(crate) fn pull(
    client: &DockerClient,
    what: &str,
    image: &str,
    client_config: Option<&ClientConfig>,
    env: &Env,
) -> Result<(), DockerError> {
    let (repository, tag) = split_tag(image);
    let (repository, tag) = (repository.to_owned(), tag.to_owned());
    let from_env: BTreeMap<String, serde_yaml::Value> = env
        .docker_auth_configs
        .iter()
        .filter_map(|(registry, login)| {
            serde_yaml::to_value(login)
                .ok()
                .map(|login| (registry.clone(), login))
        })
        .collect();
    let credentials = client_config
        .and_then(|c| credentials(&repository, &c.auth_configs))
        .or_else(|| credentials(&repository, &from_env));
    let docker = client.docker();
    client
        .block_on(async move {
            let mut reports = docker.create_image(
                Some(CreateImageOptions {
                    from_image: Some(repository),
                    tag: Some(tag),
                    ..Default::default()
                }),
                None,
                credentials,
            );
            let mut layers = Layers::default();
            while let Some(report) = reports.next().await {
                layers.show(&report?);
            }
            layers.finish();
            Ok::<_, bollard::errors::Error>(())
        })?
        .map_err(|e| client.explain(what, e))
}

/// The login for `repository` from a client's `auth_configs`, keyed by registry host (`registry.example.com`,
/// optionally with a port or `https://`), or by docker-map's key, the repository up to its last `/`. A registry
/// without an entry is pulled anonymously (docker-map failed with a key error, bug 29;
/// docs/docker-map-semantics.md#image-names-and-tags).
fn credentials(
    repository: &str,
    auth_configs: &BTreeMap<String, serde_yaml::Value>,
) -> Option<DockerCredentials> {
    let registry = repository
        .split_once('/')
        .map(|(first, _)| first)
        .filter(|first| first.contains(['.', ':']) || *first == "localhost")
        .unwrap_or("docker.io");
    let legacy = repository.rsplit_once('/').map(|(prefix, _)| prefix);
    let entry = auth_configs.iter().find_map(|(key, value)| {
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let host = host.split('/').next().unwrap_or(host);
        let docker_hub = registry == "docker.io" && host == "index.docker.io";
        (host == registry || docker_hub || Some(key.as_str()) == legacy).then_some(value)
    })?;
    let field = |name: &str| entry.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Some(DockerCredentials {
        username: field("username"),
        password: field("password"),
        email: field("email"),
        serveraddress: field("serveraddress").or_else(|| Some(registry.to_owned())),
        ..Default::default()
    })
}

/// The bars of one pull, one per layer, drawn only on a terminal.
#[derive(Default)]
struct Layers {
    layers: HashMap<String, ProgressBar>,
}

impl Layers {
    /// Shows one progress report: a layer's status, and its bytes while it downloads or extracts.
    fn show(&mut self, report: &CreateImageInfo) {
        let (Some(id), Some(status)) = (&report.id, &report.status) else {
            return;
        };
        let bar = self.layers.entry(id.clone()).or_insert_with(|| {
            let bar = add_bar(ProgressBar::new(0));
            if let Ok(style) =
                ProgressStyle::with_template("{prefix} {msg:12} [{bar:30}] {bytes}/{total_bytes}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(id.clone());
            bar
        });
        bar.set_message(status.clone());
        if let Some(detail) = &report.progress_detail {
            if let (Some(current), Some(total)) = (detail.current, detail.total) {
                bar.set_length(u64::try_from(total).unwrap_or(0));
                bar.set_position(u64::try_from(current).unwrap_or(0));
            }
        }
    }

    /// Clears the bars once the pull ends.
    fn finish(&self) {
        for bar in self.layers.values() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configs(yaml: &str) -> BTreeMap<String, serde_yaml::Value> {
        serde_yaml::from_str(yaml).expect("auth_configs")
    }

    #[test]
    fn logins_by_registry_host() {
        let auth = configs(
            "registry.example.com: {username: deploy, password: s3cret}\n\
             https://index.docker.io/v1/: {username: hub}\n\
             quay.io/org: {username: legacy}\n",
        );
        let login = |repository: &str| credentials(repository, &auth).and_then(|c| c.username);
        assert_eq!(
            login("registry.example.com/shop/web"),
            Some("deploy".into())
        );
        assert_eq!(login("nginx"), Some("hub".into()));
        assert_eq!(login("library/nginx"), Some("hub".into()));
        assert_eq!(login("quay.io/org/app"), Some("legacy".into()));
        // No entry: anonymous, not an error (docker-map's bug 29,
        // docs/docker-map-semantics.md#bugs-dfab-does-not-repeat).
        assert_eq!(login("ghcr.io/someone/tool"), None);
        assert_eq!(
            credentials("registry.example.com/web", &auth).and_then(|c| c.serveraddress),
            Some("registry.example.com".into())
        );
    }
}
