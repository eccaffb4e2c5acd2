use dfab_core::prelude::*;

struct Deployer;

impl Deployer {
    #[task]
    fn deploy(&self) {}
}

fn main() {}
