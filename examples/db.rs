//! Database tasks: the `db` namespace.

use dfab_core::prelude::*;

/// Apply the pending migrations (the namespace's default task).
#[task(default)]
pub(crate) fn migrate(#[arg(default = "head")] target: String) {
    puts(&format!("migrating to {target}"));
}

/// Load the seed data.
#[task]
pub(crate) fn seed() {
    puts("seeding");
}
