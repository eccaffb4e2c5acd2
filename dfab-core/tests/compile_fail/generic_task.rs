use dfab_core::prelude::*;

#[task]
fn deploy<T: Default>(value: String) {
    let _ = (value, T::default());
}

fn main() {}
