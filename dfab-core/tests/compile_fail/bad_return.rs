use dfab_core::prelude::*;

#[task]
fn deploy() -> String {
    String::new()
}

fn main() {}
