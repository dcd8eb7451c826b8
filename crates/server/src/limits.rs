//! What bounds a listener: connections overall and per client address,
//! and which address a request counts against (the socket's, or — only
//! from a configured reverse proxy — the one it forwards).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The socket address a request arrived from (put in its extensions by
/// the listener).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

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

/// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    /// Parses `limits.trusted_proxies` (comma-separated addresses).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpAddr>()
                    .map_err(|_| format!("limits.trusted_proxies: {s:?} is not an IP address"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// The client a request counts against: the socket's address, unless
    /// that is a trusted proxy, in which case the last address in
    /// `X-Forwarded-For` that is not a trusted proxy.
    pub fn client(&self, socket: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.0.contains(&socket) {
            return socket;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect();
        forwarded
            .into_iter()
            .rev()
            .find(|a| !self.0.contains(a))
            .unwrap_or(socket)
    }
}

/// Admits connections: at most `total` open, at most `per_client` from
/// one client address.
#[derive(Clone, Debug)]
pub struct ConnectionGate {
    total: Arc<Semaphore>,
    per_client: u32,
    open: Arc<Mutex<HashMap<String, u32>>>,
}

/// An admitted connection; dropping it frees its places.
#[derive(Debug)]
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
    key: String,
    open: Arc<Mutex<HashMap<String, u32>>>,
}

impl ConnectionGate {
    pub fn new(total: u32, per_client: u32) -> ConnectionGate {
        ConnectionGate {
            total: Arc::new(Semaphore::new(total.max(1) as usize)),
            per_client: per_client.max(1),
            open: Default::default(),
        }
    }

    /// A place for a connection from `ip`, or `None` (the caller drops it).
    pub fn admit(&self, ip: IpAddr) -> Option<Admitted> {
        let permit = self.total.clone().try_acquire_owned().ok()?;
        let key = client_key(ip);
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(key.clone()).or_default();
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(Admitted {
            _permit: permit,
            key,
            open: self.open.clone(),
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        // A poisoned map only means a panic elsewhere; the counts are intact.
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_apart_and_places_come_back() {
        let gate = ConnectionGate::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = gate.admit(a).unwrap();
        let _a2 = gate.admit(a).unwrap();
        assert!(gate.admit(a).is_none(), "a third from one client");
        let _b1 = gate.admit(b).unwrap();
        assert!(gate.admit(b).is_none(), "over the total");
        drop(a1);
        assert!(gate.admit(b).is_some());
        // One IPv6 /64 is one client.
        let gate = ConnectionGate::new(10, 1);
        let _x = gate.admit("2001:db8::1".parse().unwrap()).unwrap();
        assert!(gate.admit("2001:db8::ffff".parse().unwrap()).is_none());
        assert!(gate.admit("2001:db8:0:1::1".parse().unwrap()).is_some());
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.1, 10.0.0.2").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.2".parse().unwrap(),
        );
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "192.0.2.5".parse().unwrap();
        assert_eq!(
            proxies.client(proxy, &h),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(proxies.client(other, &h), other);
        assert_eq!(TrustedProxies::default().client(proxy, &h), proxy);
        assert!(TrustedProxies::parse("not-an-ip").is_err());
    }
}
