use dfab_core::prelude::*;

#[task]
fn deploy(#[arg(default = "x")] rest: Args) {
    let _ = rest;
}

fn main() {}
