//! `docker.get_ip`, `docker.get_ipv6` and the functions behind them: a host interface's address.

use std::net::Ipv6Addr;

use anyhow::bail;

use crate::ssh::{quote, run_with, RunOptions};
use crate::task;
use crate::task::FromArg;
use crate::term::output::puts;

/// The IPv4 address of `interface` on the current host (docker-fabric's `get_ip4_address`).
pub fn get_ip4_address(interface: &str) -> anyhow::Result<String> {
    address(interface, Family::V4)
}

/// The IPv6 address of `interface` on the current host, all eight groups written out when `expand`
/// (docker-fabric's `get_ip6_address`). A global address is preferred to a link-local one.
pub fn get_ip6_address(interface: &str, expand: bool) -> anyhow::Result<String> {
    let found = address(interface, Family::V6)?;
    if expand {
        expand_ipv6(&found)
    } else {
        Ok(found)
    }
}

/// Writes an IPv6 address with all eight groups of four digits: `fe80:0000:…:0001`.
pub fn expand_ipv6(address: &str) -> anyhow::Result<String> {
    let parsed: Ipv6Addr = address
        .parse()
        .map_err(|_| anyhow::anyhow!("'{address}' is not an IPv6 address"))?;
    Ok(parsed
        .segments()
        .iter()
        .map(|s| format!("{s:04x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// An interface the host does not have.
#[derive(Debug, thiserror::Error)]
#[error("interface '{interface}' does not exist on {host}")]
struct NoSuchInterface {
    interface: String,
    host: String,
}

/// Marker the probe prints when the interface does not exist.
const NO_INTERFACE: &str = "dfab-no-such-interface";

fn address(interface: &str, family: Family) -> anyhow::Result<String> {
    let (flag, word) = match family {
        Family::V4 => ("-4", "IPv4"),
        Family::V6 => ("-6", "IPv6"),
    };
    let name = quote(interface);
    // `ip` where it exists; both `ifconfig` output formats otherwise.
    // Where /sys lists the interfaces it alone decides: `ifconfig eth0:True` would answer for eth0's alias label
    // and swallow the `:True` of docker-fabric's colon form.
    let command = format!(
        "if [ -d /sys/class/net ] && [ -e /sys/class/net/{name} ] || \
         {{ [ ! -d /sys/class/net ] && ifconfig {name} >/dev/null 2>&1; }}; then \
         ip -o {flag} addr show dev {name} 2>/dev/null || ifconfig {name} 2>/dev/null || /sbin/ifconfig {name}; \
         else echo {NO_INTERFACE}; fi"
    );
    // Without a host, the local machine's interface, as the other docker tasks use the local engine.
    let remote = crate::env::env().host_string.is_some();
    let stdout = if remote {
        run_with(
            &command,
            &RunOptions {
                quiet: true,
                pty: Some(false),
                ..RunOptions::default()
            },
        )?
        .stdout
    } else {
        let _quiet = crate::env::hide(&[crate::env::Level::Running]);
        crate::command::local_capture(&command)?.stdout
    };
    let host = crate::env::env()
        .host_string
        .clone()
        .unwrap_or_else(|| "localhost".into());
    if stdout.trim() == NO_INTERFACE {
        return Err(NoSuchInterface {
            interface: interface.to_owned(),
            host,
        }
        .into());
    }
    match parse_addresses(&stdout, family).into_iter().next() {
        Some(found) => Ok(found),
        None => bail!("interface '{interface}' has no {word} address on {host}"),
    }
}

/// The addresses of one family in `ip -o addr` or `ifconfig` output (old `inet addr:` and new `inet` formats),
/// global ones first.
fn parse_addresses(output: &str, family: Family) -> Vec<String> {
    let keyword = match family {
        Family::V4 => "inet",
        Family::V6 => "inet6",
    };
    let mut found = Vec::new();
    for line in output.lines() {
        let mut words = line.split_whitespace();
        while let Some(word) = words.next() {
            if word != keyword {
                continue;
            }
            let mut value = words.next().unwrap_or_default();
            if value == "addr:" {
                value = words.next().unwrap_or_default();
            }
            let value = value.trim_start_matches("addr:");
            let value = value.split('/').next().unwrap_or_default();
            if !value.is_empty() {
                found.push(value.to_owned());
            }
            break;
        }
    }
    found.sort_by_key(|a| a.to_ascii_lowercase().starts_with("fe80"));
    found
}

/// Print the IPv4 address of a host interface: `get_ip:eth0` (default `docker0`).
#[task(namespace = "docker")]
fn get_ip(#[arg(default = "docker0")] interface: String) -> anyhow::Result<()> {
    puts(&get_ip4_address(&interface)?);
    Ok(())
}

/// Print the IPv6 address of a host interface, expanded to eight groups with `expand=true`.
#[task(namespace = "docker")]
fn get_ipv6(
    #[arg(default = "docker0")] interface: String,
    #[arg(default = false)] expand: bool,
) -> anyhow::Result<()> {
    let whole = get_ip6_address(&interface, expand);
    // docker-fabric's guide writes `get_ipv6:eth0:True`; Fabric (and dfab) separate arguments with commas only.
    if let (Err(error), Some((name, flag))) = (&whole, interface.rsplit_once(':')) {
        if let (Some(_), Some(flag)) = (
            error.downcast_ref::<NoSuchInterface>(),
            bool::from_arg(flag),
        ) {
            let comma = format!("docker.get_ipv6:{name},{flag}");
            if expand {
                bail!("'{interface}' is no interface, and expand is given twice: write {comma}");
            }
            if let Ok(found) = get_ip6_address(name, flag) {
                crate::term::output::warn(&format!(
                    "read docker.get_ipv6:{interface} as {comma}: arguments are separated by commas"
                ));
                puts(&found);
                return Ok(());
            }
        }
    }
    match whole {
        Ok(found) => puts(&found),
        Err(error) => match interface.split_once(':') {
            Some((name, rest)) if error.downcast_ref::<NoSuchInterface>().is_some() => {
                bail!("{error}; arguments are separated by commas: docker.get_ipv6:{name},{rest}")
            }
            _ => return Err(error),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_output_format() {
        let ip4 = "3: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever preferred_lft forever\n";
        let ip6 = "1: lo    inet6 fe80::1/64 scope link \\       valid_lft forever\n1: lo    inet6 2001:db8::5/64 scope global \\ valid_lft forever\n";
        let new = "docker0: flags=4099<UP,BROADCAST,MULTICAST>  mtu 1500\n        inet 172.17.0.1  netmask 255.255.0.0  broadcast 172.17.255.255\n        inet6 fe80::42:acff:fe11:1  prefixlen 64  scopeid 0x20<link>\n";
        let old = "docker0   Link encap:Ethernet  HWaddr 02:42:ac:11:00:01\n          inet addr:172.17.0.1  Bcast:172.17.255.255  Mask:255.255.0.0\n          inet6 addr: fe80::42:acff:fe11:1/64 Scope:Link\n";
        assert_eq!(parse_addresses(ip4, Family::V4), ["172.17.0.1"]);
        assert_eq!(parse_addresses(ip6, Family::V6), ["2001:db8::5", "fe80::1"]);
        assert_eq!(parse_addresses(new, Family::V4), ["172.17.0.1"]);
        assert_eq!(parse_addresses(new, Family::V6), ["fe80::42:acff:fe11:1"]);
        assert_eq!(parse_addresses(old, Family::V4), ["172.17.0.1"]);
        assert_eq!(parse_addresses(old, Family::V6), ["fe80::42:acff:fe11:1"]);
        assert!(parse_addresses(ip4, Family::V6).is_empty());
    }

    #[test]
    fn expansion() {
        assert_eq!(
            expand_ipv6("fe80::42:acff:fe11:1").ok().as_deref(),
            Some("fe80:0000:0000:0000:0042:acff:fe11:0001")
        );
        assert_eq!(
            expand_ipv6("::1").ok().as_deref(),
            Some("0000:0000:0000:0000:0000:0000:0000:0001")
        );
        assert!(expand_ipv6("172.17.0.1").is_err());
    }
}
