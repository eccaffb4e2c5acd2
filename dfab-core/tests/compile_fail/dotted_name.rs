use dfab_core::prelude::*;

#[task(name = "db.migrate")]
fn migrate() {}

fn main() {}
