//! Host-key checks against known_hosts files, with Fabric's defaults: unknown hosts are accepted unless `-r`.
//!
//! The files are read line by line as OpenSSH reads them: a line dfab cannot parse is skipped with a warning naming
//! `file:line`, and every other entry is still enforced (libssh2 gave up on a whole file at its first bad line, so a
//! changed key went unnoticed). Hashed host names, `[host]:port`, wildcards, negations, `@revoked` and
//! `@cert-authority` lines are understood.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use ssh2::Session;

use super::SshError;
use crate::env::Env;
use crate::input::expand_home;

/// What a known_hosts line says about the hosts it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    /// A plain entry: this is the host's key.
    None,
    /// `@revoked`: this key must never be accepted.
    Revoked,
    /// `@cert-authority`: a CA key for host certificates, which dfab does not check.
    CertAuthority,
}

/// One parsed known_hosts line.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    marker: Marker,
    /// Comma-separated host patterns, or one hashed name (`|1|salt|hash`).
    hosts: String,
    /// The key type, such as `ssh-ed25519`.
    key_type: String,
    /// The key blob, decoded.
    key: Vec<u8>,
}

/// Parses one line: `Ok(None)` for blank lines and comments, `Err` with the reason for a line OpenSSH would skip.
fn parse_line(line: &str) -> Result<Option<Entry>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next().unwrap_or_default();
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertAuthority,
        other if other.starts_with('@') => return Err(format!("unknown marker '{other}'")),
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next().ok_or("a marker without host names")?;
    }
    let key_type = fields.next().ok_or("no key after the host names")?;
    let blob = fields.next().ok_or("no key after the key type")?;
    let key = STANDARD
        .decode(blob)
        .map_err(|_| "the key is not valid base64".to_owned())?;
    // The blob starts with its own type name; a line whose two disagree is damaged.
    if blob_type(&key) != Some(key_type) {
        return Err(format!("the key is not a {key_type} key"));
    }
    if let Some(hashed) = first.strip_prefix("|1|") {
        let (salt, hash) = hashed
            .split_once('|')
            .ok_or("a hashed host name without its hash")?;
        let (salt, hash) = (STANDARD.decode(salt), STANDARD.decode(hash));
        if !matches!((&salt, &hash), (Ok(s), Ok(h)) if s.len() == 20 && h.len() == 20) {
            return Err("a hashed host name that is not |1|salt|hash".into());
        }
    } else if first.starts_with('|') {
        return Err("a hashed host name of an unknown kind".into());
    }
    Ok(Some(Entry {
        marker,
        hosts: first.to_owned(),
        key_type: key_type.to_owned(),
        key,
    }))
}

/// The type name at the start of a key blob (a length-prefixed string).
fn blob_type(blob: &[u8]) -> Option<&str> {
    let length = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    std::str::from_utf8(blob.get(4..4 + length)?).ok()
}

/// `*` and `?` wildcards, as in OpenSSH's host patterns.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p.eq_ignore_ascii_case(n) => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

impl Entry {
    /// Whether the entry names `name` (`host`, or `[host]:port` for other ports than 22).
    fn names(&self, name: &str) -> bool {
        if let Some(hashed) = self.hosts.strip_prefix("|1|") {
            let Some((salt, hash)) = hashed.split_once('|') else {
                return false;
            };
            let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
                return false;
            };
            let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
                return false;
            };
            mac.update(name.as_bytes());
            return mac.verify_slice(&hash).is_ok();
        }
        let mut matched = false;
        for pattern in self.hosts.split(',') {
            match pattern.strip_prefix('!') {
                // A negated pattern that matches rules the line out, whatever else matches.
                Some(negated) if wildcard(negated.as_bytes(), name.as_bytes()) => return false,
                Some(_) => {}
                None => matched |= wildcard(pattern.as_bytes(), name.as_bytes()),
            }
        }
        matched
    }
}

/// What the files say about one host's key.
#[derive(Debug, Default, PartialEq, Eq)]
struct Verdict {
    /// A line records this very key.
    known: bool,
    /// A line records another key of the same type, in this file.
    changed_in: Option<String>,
    /// `file:line` of an `@revoked` line for this key.
    revoked_at: Option<String>,
}

/// Checks `key` for `name` against the text of one known_hosts file, warning about lines it skips.
fn check_text(text: &str, file: &Path, name: &str, key: &[u8], verdict: &mut Verdict) {
    let key_type = blob_type(key).unwrap_or_default();
    for (index, line) in text.lines().enumerate() {
        let at = format!("{}:{}", file.display(), index + 1);
        let entry = match parse_line(line) {
            Ok(Some(entry)) => entry,
            Ok(None) => continue,
            Err(reason) => {
                warn_once(&at, &format!("{at}: {reason}; line skipped"));
                continue;
            }
        };
        if !entry.names(name) {
            continue;
        }
        match entry.marker {
            Marker::CertAuthority => warn_once(
                &at,
                &format!("{at}: @cert-authority lines are not checked by dfab; line skipped"),
            ),
            Marker::Revoked if entry.key == key => verdict.revoked_at = Some(at),
            Marker::Revoked => {}
            Marker::None if entry.key == key => verdict.known = true,
            Marker::None if entry.key_type == key_type => {
                verdict
                    .changed_in
                    .get_or_insert_with(|| file.display().to_string());
            }
            Marker::None => {}
        }
    }
}

/// Warns once per process about a line (parallel hosts would repeat it).
fn warn_once(at: &str, message: &str) {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let first = WARNED
        .get_or_init(Mutex::default)
        .lock()
        .map(|mut warned| warned.insert(at.to_owned()))
        .unwrap_or(true);
    if first {
        crate::term::output::warn(message);
    }
}

/// How a host is looked up in known_hosts: `host` on port 22, `[host]:port` on any other.
fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Checks the server's key against `env.system_known_hosts`, then `~/.ssh/known_hosts` unless `-D`.
pub(crate) fn check_host_key(
    session: &Session,
    host: &str,
    port: u16,
    env: &Env,
) -> Result<(), SshError> {
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(system) = &env.system_known_hosts {
        files.push(expand_home(system));
    }
    if !env.disable_known_hosts {
        files.push(expand_home("~/.ssh/known_hosts"));
    }
    let Some((key, _kind)) = session.host_key() else {
        return Err(SshError::Handshake {
            host: host.into(),
            reason: "the server sent no host key".into(),
        });
    };
    let name = lookup_name(host, port);
    let mut verdict = Verdict::default();
    for file in &files {
        match crate::input::read_text(file, "known_hosts file") {
            Ok(text) => check_text(&text, file, &name, key, &mut verdict),
            Err(e) if e.is_missing() => {}
            Err(e) => warn_once(&file.display().to_string(), &format!("{e}; file skipped")),
        }
    }
    if let Some(at) = verdict.revoked_at {
        return Err(SshError::HostKeyRevoked { host: name, at });
    }
    if verdict.known {
        return Ok(());
    }
    if let Some(file) = verdict.changed_in {
        return Err(SshError::HostKeyChanged { host: name, file });
    }
    if env.reject_unknown_hosts {
        let keyscan = if port == 22 {
            format!("ssh-keyscan {host}")
        } else {
            format!("ssh-keyscan -p {port} {host}")
        };
        return Err(SshError::UnknownHost {
            host: name,
            keyscan,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ed25519 key blob with 32 bytes of `fill`, base64-encoded.
    fn key(fill: u8) -> (Vec<u8>, String) {
        let mut blob = Vec::new();
        blob.extend(11u32.to_be_bytes());
        blob.extend(b"ssh-ed25519");
        blob.extend(32u32.to_be_bytes());
        blob.extend([fill; 32]);
        let text = STANDARD.encode(&blob);
        (blob, text)
    }

    fn hashed(name: &str, salt: &[u8; 20]) -> String {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(salt).unwrap();
        mac.update(name.as_bytes());
        format!(
            "|1|{}|{}",
            STANDARD.encode(salt),
            STANDARD.encode(mac.finalize().into_bytes())
        )
    }

    fn verdict(text: &str, name: &str, key: &[u8]) -> Verdict {
        let mut verdict = Verdict::default();
        check_text(text, Path::new("kh"), name, key, &mut verdict);
        verdict
    }

    #[test]
    fn a_bad_line_does_not_hide_the_others() {
        let (recorded, recorded_text) = key(1);
        let (presented, _) = key(2);
        let text = format!(
            "garbage\n|1|bad|hash ssh-ed25519 {recorded_text}\nbare-host-name\n[127.0.0.1]:2222 ssh-ed25519 {recorded_text}\n"
        );
        assert_eq!(
            verdict(&text, "[127.0.0.1]:2222", &presented),
            Verdict {
                changed_in: Some("kh".into()),
                ..Verdict::default()
            }
        );
        assert!(verdict(&text, "[127.0.0.1]:2222", &recorded).known);
        assert_eq!(
            parse_line("garbage"),
            Err("no key after the host names".into())
        );
        assert_eq!(
            parse_line("host ssh-ed25519 !!!"),
            Err("the key is not valid base64".into())
        );
    }

    #[test]
    fn patterns_hashes_and_markers() {
        let (k, text) = key(3);
        let (other, other_text) = key(4);
        assert!(
            verdict(
                &format!("web*.example.com,!web9.example.com ssh-ed25519 {text}"),
                "web1.example.com",
                &k
            )
            .known
        );
        assert!(
            !verdict(
                &format!("web*.example.com,!web9.example.com ssh-ed25519 {text}"),
                "web9.example.com",
                &k
            )
            .known
        );
        assert!(verdict(&format!("h? ssh-ed25519 {text}"), "h1", &k).known);
        let line = format!("{} ssh-ed25519 {text}", hashed("[10.0.0.5]:2200", &[7; 20]));
        assert!(verdict(&line, "[10.0.0.5]:2200", &k).known);
        assert!(!verdict(&line, "10.0.0.5", &k).known);
        let revoked = format!("@revoked * ssh-ed25519 {text}\nhost ssh-ed25519 {text}\n");
        assert_eq!(
            verdict(&revoked, "host", &k).revoked_at.as_deref(),
            Some("kh:1")
        );
        let ca = format!("@cert-authority *.example.com ssh-ed25519 {other_text}\n");
        assert_eq!(verdict(&ca, "a.example.com", &other), Verdict::default());
        assert_eq!(lookup_name("h", 22), "h");
        assert_eq!(lookup_name("h", 2222), "[h]:2222");
    }
}
