//! Host strings: `[user@]host[:port]`, IPv6 in brackets.

use std::fmt;

/// A host string that cannot name a host.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad host string '{input}': {reason}")]
pub struct HostStringError {
    /// The host string as given.
    pub input: String,
    /// What is wrong and what was expected.
    pub reason: &'static str,
}

/// A parsed host string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostString {
    /// The user before the last `@`, if any.
    pub user: Option<String>,
    /// The host name or address (IPv6 without brackets).
    pub host: String,
    /// The port after the host, if any.
    pub port: Option<u16>,
}

impl HostString {
    /// Parses `[user@]host[:port]`; IPv6 addresses take a port only in brackets (`[::1]:2222`).
    pub fn parse(input: &str) -> Result<HostString, HostStringError> {
        let error = |reason| HostStringError {
            input: input.to_owned(),
            reason,
        };
        let (user, rest) = match input.rsplit_once('@') {
            Some((user, rest)) => (Some(user).filter(|u| !u.is_empty()), rest),
            None => (None, input),
        };
        let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| error("an IPv6 address in brackets needs the closing ']'"))?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(error("only ':port' may follow ']'")),
                },
            }
        } else if rest.matches(':').count() > 1 {
            (rest, None)
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host, Some(port).filter(|p| !p.is_empty())),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(error("expected [user@]host[:port] with a host name"));
        }
        if host.contains(':') && !is_ipv6(host) {
            return Err(error(
                "an address with colons must be IPv6, like [2001:db8::1]:22",
            ));
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | ',' | ';' | '[' | ']' | '@'))
        {
            return Err(error("a host name cannot contain spaces or / , ; [ ] @"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| error("the port must be a number from 1 to 65535"))?,
            ),
        };
        Ok(HostString {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
        })
    }

    /// The canonical `user@host:port` used to key connections and passwords.
    pub fn canonical(&self, default_user: &str, default_port: u16) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{}@{}:{}",
            self.user.as_deref().unwrap_or(default_user),
            host,
            self.port.unwrap_or(default_port)
        )
    }
}

fn is_ipv6(host: &str) -> bool {
    let address = host.split_once('%').map_or(host, |(a, _zone)| a);
    address.parse::<std::net::Ipv6Addr>().is_ok()
}

impl fmt::Display for HostString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(port)) => write!(f, "[{}]:{port}", self.host),
            (false, Some(port)) => write!(f, "{}:{port}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> (Option<&'static str>, String, Option<u16>) {
        let h = HostString::parse(input).unwrap();
        (
            h.user.map(|u| &*Box::leak(u.into_boxed_str())),
            h.host,
            h.port,
        )
    }

    #[test]
    fn parses_fabric_host_strings() {
        assert_eq!(ok("web1"), (None, "web1".into(), None));
        assert_eq!(
            ok("deploy@web1:2222"),
            (Some("deploy"), "web1".into(), Some(2222))
        );
        assert_eq!(ok("a@b@web1"), (Some("a@b"), "web1".into(), None));
        assert_eq!(ok("web1:"), (None, "web1".into(), None));
        assert_eq!(
            ok("[2001:db8::1]:2222"),
            (None, "2001:db8::1".into(), Some(2222))
        );
        assert_eq!(ok("user@[::1]:22"), (Some("user"), "::1".into(), Some(22)));
        assert_eq!(ok("2001:db8::1"), (None, "2001:db8::1".into(), None));
        assert_eq!(ok("fe80::1%eth0"), (None, "fe80::1%eth0".into(), None));
        assert_eq!(ok("[::1]"), (None, "::1".into(), None));
    }

    #[test]
    fn rejects_bad_host_strings() {
        for (input, reason) in [
            ("web1:abc", "the port must be a number from 1 to 65535"),
            ("web1:70000", "the port must be a number from 1 to 65535"),
            ("web1:0", "the port must be a number from 1 to 65535"),
            ("user@", "expected [user@]host[:port] with a host name"),
            ("", "expected [user@]host[:port] with a host name"),
            ("[::1", "an IPv6 address in brackets needs the closing ']'"),
            ("[::1]x", "only ':port' may follow ']'"),
            ("web 1", "a host name cannot contain spaces or / , ; [ ] @"),
            (
                "a:b:c",
                "an address with colons must be IPv6, like [2001:db8::1]:22",
            ),
        ] {
            let err = HostString::parse(input).unwrap_err();
            assert_eq!(err.reason, reason, "{input}");
        }
        assert_eq!(
            HostString::parse("web1:abc").unwrap_err().to_string(),
            "bad host string 'web1:abc': the port must be a number from 1 to 65535"
        );
    }

    #[test]
    fn canonical_forms() {
        let h = HostString::parse("[::1]:2222").unwrap();
        assert_eq!(h.canonical("me", 22), "me@[::1]:2222");
        assert_eq!(h.to_string(), "[::1]:2222");
        assert_eq!(
            HostString::parse("web1").unwrap().canonical("me", 22),
            "me@web1:22"
        );
    }
}
