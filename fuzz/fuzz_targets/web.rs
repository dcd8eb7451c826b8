//! What the web listeners take from outside before anything else: the
//! `next` of a sign-in, `X-Forwarded-For` chains, the proxy list, messages
//! echoing input. Nothing panics; a redirect never leaves the site; an
//! untrusted socket is always its own client; messages stay bounded.
#![no_main]
use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use liaison_core::web::{client_key, forwarded_client, parse_proxies, safe_next};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let next = safe_next(&text);
    assert!(next == "/" || next == text);
    assert!(next.starts_with('/') && !next[1..].starts_with(['/', '\\']));
    assert!(next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'));
    let _ = parse_proxies(&text);
    let socket: IpAddr = [192, 0, 2, data.first().copied().unwrap_or(1)].into();
    let trusted: Vec<IpAddr> = vec![[10, 0, 0, 1].into()];
    assert_eq!(forwarded_client(socket, &trusted, [text.as_ref()]), socket);
    let via_proxy = forwarded_client(trusted[0], &trusted, text.split('\n'));
    assert!(!client_key(via_proxy).is_empty());
    let bounded = liaison_core::bounded(text.into_owned());
    assert!(bounded.chars().count() <= liaison_core::MAX_MESSAGE_CHARS + 1);
});
