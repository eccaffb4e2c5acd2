use dfab_core::prelude::*;

#[task]
async fn deploy() {}

fn main() {}
