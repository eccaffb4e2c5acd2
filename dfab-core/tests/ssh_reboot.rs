//! `reboot()` closes the host's connection and connects again, and the next command runs on the new one; the file
//! takes its turn at the environment alone, so the reboot cuts no other file's connection.

use dfab_core::ssh::{reboot_with, run};
use dfab_test_support::require_env;

#[test]
fn reboot_reconnects() {
    let t = require_env!();
    t.as_root();
    run("true").unwrap();
    reboot_with(10, "true", false).unwrap();
    assert_eq!(run("echo back").unwrap().stdout, "back");
}
