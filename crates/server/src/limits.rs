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

pub use liaison_core::web::client_key;

/// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    /// Parses `limits.trusted_proxies` (comma-separated addresses).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        liaison_core::web::parse_proxies(list).map(TrustedProxies)
    }

    /// The client a request counts against (see [`liaison_core::web::forwarded_client`]).
    pub fn client(&self, socket: IpAddr, headers: &HeaderMap) -> IpAddr {
        liaison_core::web::forwarded_client(
            socket,
            &self.0,
            headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
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
}
