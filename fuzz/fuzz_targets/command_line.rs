//! Any command line (options, task strings, host strings, `--set` values) ends in a parse or a usage error, never a
//! panic: the bytes are split into arguments at NUL bytes and each is also tried as a task string, a host string
//! and a `--set` value.
#![no_main]

use dfab_core::cli::{apply_set, redacted, Options, TaskString};
use dfab_core::env::Env;
use dfab_core::ssh::HostString;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args: Vec<&str> = text.split('\0').collect();
    let _ = Options::parse(args.iter().copied());
    for arg in &args {
        let call = TaskString::parse(arg);
        for host in call.hosts.iter().flatten() {
            let _ = HostString::parse(host);
        }
        let _ = HostString::parse(arg);
        let mut env = Env::default();
        let _ = apply_set(arg, &mut env);
        let _ = redacted(arg);
    }
});
