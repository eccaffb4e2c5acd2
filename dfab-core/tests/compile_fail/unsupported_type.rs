use dfab_core::prelude::*;

struct Stage;

#[task]
fn deploy(stage: Stage) {
    let _ = stage;
}

fn main() {}
