//! Pure rules of the web listeners, kept here so they are tested and
//! fuzzed like every other parser of outside input: where a sign-in may
//! redirect, and which client address a request counts against.

use std::net::IpAddr;

/// Where to go after signing in: a plain path on this node, or `/`.
/// Browsers drop tabs and newlines inside URLs and read `\` as `/`, so
/// `/\t/evil.example` would leave the site: only printable ASCII without
/// backslashes, starting with one `/`, is kept.
pub fn safe_next(next: &str) -> String {
    let plain = next.len() <= 2048
        && next.starts_with('/')
        // Byte 1 is a character boundary: byte 0 is the ASCII `/`.
        && !next[1..].starts_with(['/', '\\'])
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if plain { next.to_owned() } else { "/".into() }
}

/// The part of an address one client is assumed to control: the address
/// itself for IPv4, the /64 for IPv6 (one subscriber's usual allocation).
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Parses a comma-separated list of proxy addresses (`limits.trusted_proxies`).
pub fn parse_proxies(list: &str) -> Result<Vec<IpAddr>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>()
                .map_err(|_| format!("limits.trusted_proxies: {s:?} is not an IP address"))
        })
        .collect()
}

/// The client a request counts against: the socket's address, unless that
/// is a trusted proxy, in which case the last address of its
/// `X-Forwarded-For` values that is not a trusted proxy (what the first
/// trusted proxy saw). Nothing a client sends directly changes it.
pub fn forwarded_client<'a>(
    socket: IpAddr,
    trusted: &[IpAddr],
    forwarded_for: impl IntoIterator<Item = &'a str>,
) -> IpAddr {
    if !trusted.contains(&socket) {
        return socket;
    }
    let chain: Vec<IpAddr> = forwarded_for
        .into_iter()
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect();
    chain
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_plain_local_path_or_home() {
        for ok in ["/", "/cases/us-1", "/search?q=a%20b&lang=ru"] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "https://evil.example",
            "evil",
            "",
            "/ab c",
            "/é",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(3000))), "/");
    }

    proptest::proptest! {
        #[test]
        fn whatever_next_is_the_redirect_stays_on_this_site(next in "\\PC{0,40}|/[\\x00-\\x7f]{0,40}") {
            let out = safe_next(&next);
            proptest::prop_assert!(out == "/" || out == next);
            proptest::prop_assert!(out.starts_with('/') && !out[1..].starts_with(['/', '\\']));
            proptest::prop_assert!(out.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'));
        }

        #[test]
        fn an_untrusted_socket_is_its_own_client_whatever_it_forwards(xff in "\\PC{0,80}", last in 0u8..=255) {
            let socket: IpAddr = format!("192.0.2.{last}").parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
            let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap_or(socket)];
            proptest::prop_assert_eq!(forwarded_client(socket, &trusted, [xff.as_str()]), socket);
        }
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxies = parse_proxies("10.0.0.1, 10.0.0.2").unwrap();
        let xff = ["203.0.113.9, 198.51.100.7, 10.0.0.2"];
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "192.0.2.5".parse().unwrap();
        assert_eq!(
            forwarded_client(proxy, &proxies, xff),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(forwarded_client(other, &proxies, xff), other);
        assert_eq!(forwarded_client(proxy, &[], xff), proxy);
        assert!(parse_proxies("not-an-ip").is_err());
        assert_eq!(
            client_key("2001:db8::1".parse().unwrap()),
            "2001:db8:0:0::/64"
        );
        assert_eq!(client_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    }
}
