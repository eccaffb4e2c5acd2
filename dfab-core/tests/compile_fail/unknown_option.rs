use dfab_core::prelude::*;

#[task(frobnicate)]
fn deploy() {}

fn main() {}
