use dfab_core::prelude::*;

#[task]
fn deploy(#[arg(default = some_function())] branch: String) {
    let _ = branch;
}

fn main() {}
