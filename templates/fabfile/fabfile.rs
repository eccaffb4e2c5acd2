//! Tasks for my project: `dfab --list` in this directory (or `cargo run -- --list`).

use dfab_core::prelude::*;

/// Say hello from every host: `hello:name=Ada -H web1,web2`.
#[task]
fn hello(#[arg(default = "world")] name: String) {
    puts(&format!("Hello, {name}!"));
}

/// Show the kernel of each host, or of this machine without `-H`: `status -H web1`.
#[task]
fn status() -> anyhow::Result<CommandResult> {
    if env().host_string.is_some() {
        run("uname -a")
    } else {
        local("uname -a")
    }
}

fn main() -> std::process::ExitCode {
    Runner::new()
        .doc("Tasks for my project.")
        .setup(|env| {
            // The project's container map, for `dfab actions.startup:site,web`; `--set docker_maps=…` wins.
            if env.docker_maps.is_empty() {
                env.docker_maps = vec![concat!(env!("CARGO_MANIFEST_DIR"), "/map.yaml").into()];
            }
        })
        .run()
}
