//! Tasks for my project: `cargo run -- --list`.

use dfab_core::prelude::*;

/// Say hello from every host: `hello:name=Ada -H web1,web2`.
#[task]
fn hello(#[arg(default = "world")] name: String) {
    puts(&format!("Hello, {name}!"));
}

/// Show what is deployed locally.
#[task]
fn status() -> anyhow::Result<CommandResult> {
    local_capture("uname -a")
}

dfab_core::main!("Tasks for my project.");
