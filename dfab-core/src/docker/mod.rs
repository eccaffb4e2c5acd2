//! The Docker client: bollard behind a synchronous facade, reaching a host's engine through its SSH connection
//! (one channel per HTTP connection) or the local engine directly.

mod body;
mod build;
mod cache;
mod client;
mod endpoint;
mod errors;
mod guard;
mod image_error;
mod local_transport;
mod local_tunnel;
mod maintenance;
mod push;
mod runtime;
mod ssh_transport;
mod stream;

pub(crate) use body::{file_body, CHUNK};
pub use build::{build_image, BuildOptions, DockerFile};
pub use cache::{docker_client, forget};
pub use client::{DockerClient, MINIMUM_API, NEWEST_API};
pub use endpoint::{Endpoint, Tunnel, DEFAULT_SOCKET, SOCAT_MARK};
pub(crate) use errors::is_unreachable;
pub use errors::DockerError;
pub use image_error::ImageError;
pub use local_tunnel::{local_tunnel, LocalTunnel};
pub use maintenance::{ContainerRef, RemovedAll};
pub(crate) use push::{describe as describe_push, split_tag};
pub use push::{push_image_to_host, release_exports, PushOptions, PushReport};
