//! `run()` and `sudo()` against the test environment's sshd.

mod support;

use dfab_core::ssh::run;

#[test]
fn run_as_root_captures_output_and_status() {
    let t = require_env!();
    t.as_root();
    let result = run("echo hello; echo second").unwrap();
    assert_eq!(result.stdout, "hello\r\nsecond");
    assert_eq!(result.return_code, 0);
    assert!(result.succeeded());
    let who = run("whoami").unwrap();
    assert_eq!(who.stdout, "root");
}
