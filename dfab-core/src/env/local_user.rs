//! The local login name, Fabric's default for `env.user` and `env.local_user`.

use std::os::unix::fs::MetadataExt;

/// The name of the user running this process: `$USER`/`$LOGNAME`, else the passwd entry of our uid.
pub fn local_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .or_else(passwd_name)
        .unwrap_or_else(|| "root".to_owned())
}

fn passwd_name() -> Option<String> {
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
}
