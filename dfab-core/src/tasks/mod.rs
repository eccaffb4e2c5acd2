//! The built-in `docker.*` tasks of docker-fabric, and the host utilities behind them.

mod build_image;
mod cleanup;
mod image_transfer;
mod info;
mod listing;
mod net;
mod push_image;
mod socat;
mod table;

pub use image_transfer::{load_image_file, save_image_file};
pub use net::{expand_ipv6, get_ip4_address, get_ip6_address};
