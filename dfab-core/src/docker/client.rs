//! `DockerClient`: bollard behind a synchronous facade, bound to one host's engine.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::endpoint::{Endpoint, Tunnel, DEFAULT_SOCKET};
use super::guard::{GuardError, LastError, Limits, LIMITS_HEADER};
use super::local_transport::LocalConnector;
use super::runtime::block_on;
use super::ssh_transport::SshConnector;
use super::DockerError;
use crate::env::Env;
use crate::ssh::Connection;
use crate::term::output;

/// The oldest engine API dfab speaks (Docker 1.12, 2016): every endpoint and field the tasks use exists there.
pub const MINIMUM_API: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 24,
};

/// The newest engine API dfab speaks unpinned (Docker 28.5): the newest it is tested against. A newer engine is
/// spoken to at this version, as long as it still accepts it.
pub const NEWEST_API: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 51,
};

/// A Docker engine client for one host (or the local engine), the counterpart of docker-fabric's
/// `docker_fabric()`.
pub struct DockerClient {
    docker: Docker,
    /// `localhost` for the local engine, else the host string.
    host: String,
    endpoint: Endpoint,
    tunnel: Option<Tunnel>,
    connection: Option<Arc<Connection>>,
    /// What one answer may take, in time and bytes; every request carries them to the watch on its connection.
    limits: Limits,
    /// The watch's last error on this client's connections.
    last: LastError,
    /// The API version every request's path carries.
    api: ClientVersion,
}

impl DockerClient {
    /// Connects to the engine of `env.host_string` (through its SSH connection) or, without a host, the local one,
    /// and settles the API version.
    pub fn connect(env: &Env) -> Result<DockerClient, DockerError> {
        let pinned = env
            .docker_api_version
            .as_deref()
            .map(parse_api_version)
            .transpose()?;
        let version = pinned.unwrap_or(NEWEST_API);
        let limits = Limits::of(env);
        let last = LastError::default();
        // Every connection, local or through SSH, is one of dfab's connectors' so that the watch sees it.
        let (host, endpoint, tunnel, connection, transport) = match &env.host_string {
            None => {
                let url = env
                    .docker_base_url
                    .clone()
                    .or_else(|| std::env::var("DOCKER_HOST").ok())
                    .unwrap_or_else(|| format!("unix://{DEFAULT_SOCKET}"));
                let endpoint = Endpoint::parse(&url, env.docker_tunnel_remote_port)?;
                if let Endpoint::Unix(path) = &endpoint {
                    if !std::path::Path::new(path).exists() {
                        return Err(DockerError::EngineNotRunning {
                            host: "localhost".into(),
                            socket: path.clone(),
                        });
                    }
                }
                let connector = LocalConnector::new(endpoint.clone(), limits, last.clone());
                let transport = http_transport(connector);
                ("localhost".to_owned(), endpoint, None, None, transport)
            }
            Some(host) => {
                let connector = SshConnector::from_env(env, host, last.clone())?;
                let (connection, tunnel, endpoint) = connector.route();
                let transport = http_transport(connector);
                (
                    host.clone(),
                    endpoint,
                    Some(tunnel),
                    Some(connection),
                    transport,
                )
            }
        };
        let docker = Docker::connect_with_custom_transport(
            transport,
            Some("http://docker"),
            limits.timeout,
            &version,
        )
        .map_err(|e| DockerError::Unusable {
            url: endpoint.describe(),
            reason: e.to_string(),
        })?;
        let mut client = DockerClient {
            docker,
            host,
            endpoint,
            tunnel,
            connection,
            limits,
            last,
            api: version,
        };
        if let Some(pin) = &pinned {
            check_version(&client.host, pin, true)?;
        }
        client.api = client.settle_version(pinned)?;
        client.docker = client.with_modifier(client.docker.clone());
        Ok(client)
    }

    /// The host string, or `localhost` for the local engine.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The engine's address on its host, such as `/var/run/docker.sock` or `tcp://127.0.0.1:2375`.
    pub fn engine(&self) -> String {
        self.endpoint.describe()
    }

    /// The docker command line's options on the engine's host that reach this engine at this client's API version,
    /// for commands dfab runs there (`docker save`): the same engine as the API requests, not the host's default.
    pub fn command_line(&self) -> String {
        format!(
            "DOCKER_API_VERSION={} docker -H {}",
            self.api,
            crate::ssh::quote(&self.endpoint.url())
        )
    }

    /// The API version in use, such as `1.41`.
    pub fn api_version(&self) -> String {
        self.api.to_string()
    }

    /// The SSH connection the client's channels use, if it talks to a remote host.
    pub fn connection(&self) -> Option<&Arc<Connection>> {
        self.connection.as_ref()
    }

    /// The bollard client, for async code that needs an API this facade does not cover.
    pub fn docker(&self) -> Docker {
        self.docker.clone()
    }

    /// Runs one bollard call to completion; `what` names it in errors.
    pub fn call<T, F, Fut>(&self, what: &str, call: F) -> Result<T, DockerError>
    where
        F: FnOnce(Docker) -> Fut,
        Fut: Future<Output = Result<T, BollardError>>,
    {
        block_on(call(self.docker.clone()))?.map_err(|e| self.explain(what, e))
    }

    /// The engine's description of the image `name` (a name or an ID), or `None` when it has no such image; `what`
    /// names the lookup in errors.
    pub fn find_image(
        &self,
        what: &str,
        name: &str,
    ) -> Result<Option<bollard::models::ImageInspect>, DockerError> {
        let name = name.to_owned();
        match self.call(what, |d| async move { d.inspect_image(&name).await }) {
            Ok(image) => Ok(Some(image)),
            Err(DockerError::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Like [`call`](Self::call), for calls that change the engine: prints `[host] docker: <what>` first.
    pub fn act<T, F, Fut>(&self, what: &str, call: F) -> Result<T, DockerError>
    where
        F: FnOnce(Docker) -> Fut,
        Fut: Future<Output = Result<T, BollardError>>,
    {
        output::running(&format!("docker: {what}"));
        self.call(what, call)
    }

    /// Runs any future on the Docker runtime (streams, progress loops); errors inside it go through
    /// [`explain`](Self::explain).
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, DockerError> {
        block_on(future)
    }

    /// Runs a request that streams (an upload, an export, a build) on the Docker runtime for at most `timeout`;
    /// running out of time is `DockerError::Timeout` naming `what`, and the request's own errors are left to the
    /// caller.
    pub(crate) fn block_on_within<F: Future>(
        &self,
        what: &str,
        timeout: Duration,
        request: F,
    ) -> Result<F::Output, DockerError> {
        // The timer is made inside the runtime: tokio's timers need its reactor.
        block_on(async move { tokio::time::timeout(timeout, request).await })?.map_err(|_elapsed| {
            DockerError::Timeout {
                host: self.host.clone(),
                what: what.to_owned(),
                seconds: timeout.as_secs(),
            }
        })
    }

    /// Turns a bollard error into the `DockerError` that says what happened, looking at the host when the
    /// transport failed (is the engine running, may the user use its socket, is socat installed).
    pub fn explain(&self, what: &str, error: BollardError) -> DockerError {
        match error {
            BollardError::DockerResponseServerError {
                status_code,
                message,
            } => DockerError::Api {
                host: self.host.clone(),
                what: what.to_owned(),
                status: status_code,
                message,
            },
            BollardError::DockerStreamError { error } => DockerError::Api {
                host: self.host.clone(),
                what: what.to_owned(),
                status: 500,
                message: error,
            },
            BollardError::JsonDataError { message, .. } => DockerError::BadAnswer {
                host: self.host.clone(),
                what: what.to_owned(),
                reason: message,
            },
            BollardError::JsonSerdeError { err } => DockerError::BadAnswer {
                host: self.host.clone(),
                what: what.to_owned(),
                reason: err.to_string(),
            },
            BollardError::RequestTimeoutError => DockerError::Timeout {
                host: self.host.clone(),
                what: what.to_owned(),
                seconds: self.limits.timeout,
            },
            other => {
                let noted = self
                    .last
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take()
                    .filter(|(when, _)| when.elapsed() < NOTED_FOR)
                    .map(|(_, error)| error);
                // Found in the chain of causes, or else noted by the watch just now: bollard's streams keep only
                // the text of the error that ended them (an I/O error).
                let noted = noted.filter(|_| matches!(other, BollardError::IOError { .. }));
                match GuardError::find(&other).cloned().or(noted) {
                    Some(guarded) => DockerError::Bounded {
                        host: self.host.clone(),
                        what: what.to_owned(),
                        reason: guarded.to_string(),
                    },
                    None => self.diagnose(what, &other),
                }
            }
        }
    }

    /// The timeout of one request, in seconds.
    pub fn timeout(&self) -> u64 {
        self.limits.timeout
    }

    /// A copy of this client whose requests may take `timeout`: a whole answer, and a stream without a byte (a build
    /// step or an engine unpacking a large load may be silent for long).
    pub fn with_timeout(&self, timeout: Duration) -> DockerClient {
        let mut client = DockerClient {
            docker: self.docker.clone().with_timeout(timeout),
            host: self.host.clone(),
            endpoint: self.endpoint.clone(),
            tunnel: self.tunnel.clone(),
            connection: self.connection.clone(),
            limits: Limits {
                timeout: timeout.as_secs(),
                idle: timeout.as_secs(),
                ..self.limits
            },
            last: self.last.clone(),
            api: self.api,
        };
        client.docker = client.with_modifier(client.docker.clone());
        client
    }

    /// `docker` with this client's request modifier: the API version on every path, and the limits for the watch.
    fn with_modifier(&self, docker: Docker) -> Docker {
        let prefix = format!("/v{}", self.api);
        let limits = hyper::header::HeaderValue::from_str(&self.limits.header()).ok();
        docker.with_request_modifier(move |request| {
            let mut request = with_version(request, &prefix);
            if let Some(limits) = &limits {
                request.headers_mut().insert(LIMITS_HEADER, limits.clone());
            }
            request
        })
    }

    /// The API version to speak: the pin, once the engine has taken a request at it; else dfab's newest, lowered to
    /// the engine's newest and raised to its oldest.
    fn settle_version(&self, pinned: Option<ClientVersion>) -> Result<ClientVersion, DockerError> {
        const WHAT: &str = "the API version negotiation";
        let ask = |version: Option<ClientVersion>| {
            let docker = match version {
                Some(version) => {
                    let prefix = format!("/v{version}");
                    self.docker
                        .clone()
                        .with_request_modifier(move |request| with_version(request, &prefix))
                }
                // Unversioned: every engine answers at its newest, whatever its oldest.
                None => self.docker.clone(),
            };
            self.call(WHAT, |_| async move { docker.version().await })
        };
        let range = |answer: &bollard::models::SystemVersion| {
            let newest = answer.api_version.as_deref().and_then(api_version);
            // Engines before API 1.25 do not say; they take anything from 1.12 on.
            let oldest = answer
                .min_api_version
                .as_deref()
                .and_then(api_version)
                .unwrap_or(ClientVersion {
                    major_version: 1,
                    minor_version: 12,
                });
            newest
                .map(|newest| (oldest, newest))
                .ok_or_else(|| DockerError::Api {
                    host: self.host.clone(),
                    what: WHAT.to_owned(),
                    status: 200,
                    message: format!(
                        "the engine's ApiVersion {:?} is not a version such as 1.41",
                        answer.api_version.as_deref().unwrap_or_default()
                    ),
                })
        };
        let Some(pin) = pinned else {
            let (oldest, newest) = range(&ask(None)?)?;
            let mut version = if key(&newest) < key(&NEWEST_API) {
                newest
            } else {
                NEWEST_API
            };
            if key(&version) < key(&oldest) {
                version = oldest;
            }
            check_version(&self.host, &version, false)?;
            return Ok(version);
        };
        let outside =
            |(oldest, newest): (ClientVersion, ClientVersion)| DockerError::PinOutsideEngine {
                host: self.host.clone(),
                version: pin.to_string(),
                engine_range: format!("{oldest} to {newest}"),
            };
        match ask(Some(pin)) {
            Ok(answer) => {
                let (oldest, newest) = range(&answer)?;
                if key(&pin) < key(&oldest) || key(&pin) > key(&newest) {
                    return Err(outside((oldest, newest)));
                }
                Ok(pin)
            }
            // The engine refuses a version outside its range ("client version 1.41 is too old"); an unversioned
            // request then tells the range for the message.
            Err(DockerError::Api { status: 400, .. }) => Err(outside(range(&ask(None)?)?)),
            Err(e) => Err(e),
        }
    }

    fn diagnose(&self, what: &str, error: &BollardError) -> DockerError {
        let reason = match &self.connection {
            Some(connection) if connection.is_broken() => {
                format!("the SSH connection to {} closed", self.host)
            }
            _ => innermost(error),
        };
        let socket = self.endpoint.describe();
        let finding = match (&self.connection, &self.endpoint) {
            (None, Endpoint::Unix(path)) => match std::os::unix::net::UnixStream::connect(path) {
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    Finding::NoPermission(
                        std::env::var("USER")
                            .unwrap_or_else(|_| crate::env::env().local_user.clone()),
                    )
                }
                Err(_) => Finding::NoEngine,
                Ok(_) => Finding::Nothing,
            },
            (Some(connection), Endpoint::Unix(path)) if !connection.is_broken() => probe_host(
                connection,
                path,
                self.tunnel
                    .as_ref()
                    .is_some_and(|t| super::ssh_transport::uses_socat(t, &self.host)),
            ),
            (None, Endpoint::Tcp { .. }) if reason.contains("refused") => Finding::NoEngine,
            _ => Finding::Nothing,
        };
        match finding {
            Finding::NoSocat => DockerError::SocatMissing {
                host: self.host.clone(),
            },
            Finding::NoEngine => DockerError::EngineNotRunning {
                host: self.host.clone(),
                socket,
            },
            Finding::NoPermission(user) => DockerError::PermissionDenied {
                host: self.host.clone(),
                socket,
                user,
            },
            Finding::Nothing => DockerError::TunnelDropped {
                host: self.host.clone(),
                what: what.to_owned(),
                reason,
            },
        }
    }
}

/// How long after the watch ended a connection its error is taken for the cause of a stream's failure.
const NOTED_FOR: Duration = Duration::from_secs(5);

/// A bollard transport: a request in, the engine's answer out.
type Transport = Box<
    dyn Fn(
            BollardRequest,
        ) -> std::pin::Pin<
            Box<
                dyn Future<Output = Result<hyper::Response<hyper::body::Incoming>, BollardError>>
                    + Send,
            >,
        > + Send
        + Sync,
>;

/// The transport that sends each request through a hyper client over `connector`'s connections.
fn http_transport<C>(connector: C) -> Transport
where
    C: tower_service::Service<hyper::Uri> + Clone + Send + Sync + 'static,
    C::Response: hyper::rt::Read
        + hyper::rt::Write
        + hyper_util::client::legacy::connect::Connection
        + Unpin
        + Send
        + 'static,
    C::Future: Send + Unpin + 'static,
    C::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let http = Arc::new(Client::builder(TokioExecutor::new()).build(connector));
    Box::new(move |request: BollardRequest| {
        let http = Arc::clone(&http);
        Box::pin(async move { http.request(request).await.map_err(BollardError::from) })
    })
}

/// What a look at the host found after a transport error.
enum Finding {
    NoSocat,
    NoEngine,
    NoPermission(String),
    Nothing,
}

/// Checks on the host why the engine's socket could not be used, in one command.
fn probe_host(connection: &Connection, socket: &str, needs_socat: bool) -> Finding {
    let quoted = crate::ssh::quote(socket);
    let command = format!(
        "{socat}test -S {quoted} || echo no-engine; test -r {quoted} -a -w {quoted} || echo no-permission; id -un",
        socat = if needs_socat {
            "command -v socat >/dev/null 2>&1 || echo no-socat; "
        } else {
            ""
        }
    );
    let Ok(opened) = connection.exec(&command, false, true) else {
        return Finding::Nothing;
    };
    let _ = opened.stream.shutdown(std::net::Shutdown::Write);
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut &opened.stream, &mut text);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if lines.contains(&"no-socat") {
        Finding::NoSocat
    } else if lines.contains(&"no-engine") {
        Finding::NoEngine
    } else if lines.contains(&"no-permission") {
        Finding::NoPermission(lines.last().copied().unwrap_or("the login user").to_owned())
    } else {
        Finding::Nothing
    }
}

/// The innermost cause of an error, which says what actually happened ("Connection reset by peer").
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// A version as a pair that orders as versions do.
fn key(version: &ClientVersion) -> (usize, usize) {
    (version.major_version, version.minor_version)
}

/// `MAJOR.MINOR` as the engine writes it, if it is one.
fn api_version(text: &str) -> Option<ClientVersion> {
    parse_api_version(text).ok()
}

/// The request with its path under `prefix` (`/v1.41`), in place of any version it carries: bollard 0.21 drops the
/// version it means to send (bollard issue #736), so without this every engine answers at its newest API.
fn with_version(mut request: BollardRequest, prefix: &str) -> BollardRequest {
    let mut parts = request.uri().clone().into_parts();
    let path = parts
        .path_and_query
        .as_ref()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str);
    let rest = strip_version(path);
    if let Ok(versioned) = format!("{prefix}{rest}").parse() {
        parts.path_and_query = Some(versioned);
        if let Ok(uri) = hyper::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// The path without a leading `/vMAJOR.MINOR`.
fn strip_version(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/v") else {
        return path;
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].split_once('.') {
        Some((major, minor))
            if !major.is_empty()
                && !minor.is_empty()
                && major
                    .bytes()
                    .chain(minor.bytes())
                    .all(|b| b.is_ascii_digit()) =>
        {
            &rest[end..]
        }
        _ => path,
    }
}

/// Refuses an API older than [`MINIMUM_API`], blaming the setting when the version was pinned.
fn check_version(host: &str, version: &ClientVersion, pinned: bool) -> Result<(), DockerError> {
    if *version >= MINIMUM_API {
        Ok(())
    } else if pinned {
        Err(DockerError::PinnedTooOld {
            version: version.to_string(),
            minimum: MINIMUM_API.to_string(),
        })
    } else {
        Err(DockerError::ApiTooOld {
            host: host.to_owned(),
            version: version.to_string(),
            minimum: MINIMUM_API.to_string(),
        })
    }
}

/// Reads `MAJOR.MINOR`.
fn parse_api_version(text: &str) -> Result<ClientVersion, DockerError> {
    let bad = || DockerError::BadApiVersion {
        version: text.to_owned(),
    };
    let (major, minor) = text.trim().split_once('.').ok_or_else(bad)?;
    Ok(ClientVersion {
        major_version: major.parse().map_err(|_| bad())?,
        minor_version: minor.parse().map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        assert_eq!(
            parse_api_version("1.41").ok(),
            Some(ClientVersion {
                major_version: 1,
                minor_version: 41
            })
        );
        assert_eq!(
            parse_api_version("latest").err().map(|e| e.to_string()),
            Some("docker_api_version 'latest' is not an API version such as 1.41".into())
        );
        assert!(parse_api_version("1").is_err());
    }

    #[test]
    fn every_path_carries_the_version() {
        let request = |uri: &str| {
            let request = hyper::Request::builder()
                .uri(uri)
                .body(bollard::body_full(bytes::Bytes::new()))
                .unwrap();
            with_version(request, "/v1.41").uri().to_string()
        };
        assert_eq!(
            request("http://docker/images/json?all=false"),
            "http://docker/v1.41/images/json?all=false"
        );
        assert_eq!(
            request("http://docker/v1.51/containers/create"),
            "http://docker/v1.41/containers/create"
        );
        assert_eq!(
            request("http://docker/volumes/v1.2/x"),
            "http://docker/v1.41/volumes/v1.2/x"
        );
        assert_eq!(strip_version("/version"), "/version");
        assert_eq!(strip_version("/v1.44"), "");
        assert_eq!(strip_version("/vx.1/a"), "/vx.1/a");
    }

    #[test]
    fn old_engines_and_old_settings() {
        let old = ClientVersion {
            major_version: 1,
            minor_version: 19,
        };
        assert_eq!(
            check_version("web1", &old, false)
                .err()
                .map(|e| e.to_string()),
            Some("the Docker engine on web1 speaks API 1.19; dfab needs API 1.24 or newer".into())
        );
        assert_eq!(
            check_version("web1", &old, true)
                .err()
                .map(|e| e.to_string()),
            Some("docker_api_version 1.19 is older than API 1.24, the oldest dfab speaks".into())
        );
        assert!(check_version("web1", &MINIMUM_API, false).is_ok());
    }
}
