use dfab_core::prelude::*;

#[task]
fn deploy(branch: &str) {
    let _ = branch;
}

fn main() {}
