//! Which sockets a process holds, read from `/proc`: the inodes behind its file descriptors
//! matched against the kernel's UDP tables of its network namespace.

use anyhow::{Context, Result};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The local addresses of every UDP socket (IPv4 and IPv6) process `pid` has open.
pub fn udp_sockets(pid: u32) -> Result<Vec<SocketAddr>> {
    let mut inodes = HashSet::new();
    let fds = format!("/proc/{pid}/fd");
    for entry in std::fs::read_dir(&fds).with_context(|| format!("reading {fds}"))? {
        let Ok(target) = std::fs::read_link(entry?.path()) else {
            continue; // closed meanwhile
        };
        if let Some(inode) = target
            .to_str()
            .and_then(|t| t.strip_prefix("socket:["))
            .and_then(|t| t.strip_suffix(']'))
        {
            inodes.insert(inode.to_owned());
        }
    }
    let mut found = Vec::new();
    for table in ["udp", "udp6"] {
        let path = format!("/proc/{pid}/net/{table}");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(inode)) = (fields.get(1), fields.get(9)) else {
                continue;
            };
            if inodes.contains(*inode) {
                found.push(parse_address(local).with_context(|| format!("{path}: {line}"))?);
            }
        }
    }
    Ok(found)
}

/// `0100007F:14E9` (IPv4) or 32 hex digits and a port (IPv6), as the kernel prints them: the
/// address in 32-bit words of host byte order, the port in big-endian hex.
fn parse_address(text: &str) -> Result<SocketAddr> {
    let (ip, port) = text.split_once(':').context("no port")?;
    let port = u16::from_str_radix(port, 16)?;
    let words = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16))
        .collect::<Result<Vec<_>, _>>()?;
    let ip = match words.as_slice() {
        [a] => IpAddr::V4(Ipv4Addr::from(a.to_ne_bytes())),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].into_iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => anyhow::bail!("an address of {} hex digits", ip.len()),
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn kernel_addresses_read_back() {
        assert_eq!(
            parse_address("0100007F:14E9").ok(),
            "127.0.0.1:5353".parse().ok()
        );
        assert_eq!(
            parse_address("00000000000000000000000001000000:0035").ok(),
            "[::1]:53".parse().ok()
        );
    }
}
