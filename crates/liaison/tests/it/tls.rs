//! Mutual TLS with pinned peers: only pinned certificates get in, and a
//! peer's log can be verified over the federation listener.

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn pinned_peers_read_each_others_logs_and_strangers_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    let stranger = live_node(tmp.path(), "xx", "party").await;
    pin_each_other(&us.node, &ru.node).await;

    // us fetches ru's checkpoint over mutual TLS, pinned to ru's certificate.
    let ru_card = us.node.peer("ru").unwrap().unwrap();
    let client = liaison_node::tls::peer_http_client(&us.node.tls(), ru_card.fingerprint).unwrap();
    let text = client
        .get(format!("{}/log/checkpoint", ru.fed_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    liaison_log::Checkpoint::open(&text, &ru_card.log_key, &[]).unwrap();

    // The CLI verifies ru's whole log through the federation listener.
    let url = format!("{}/log", ru.fed_url());
    let as_dir = us.dir.to_str().unwrap().to_owned();
    let out =
        tokio::task::spawn_blocking(move || liaison(&["log", "verify", &url, "--as", &as_dir]))
            .await
            .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(ru.node.store().log_origin()));

    // A stranger (not pinned by ru) cannot get past the handshake.
    let stranger_client =
        liaison_node::tls::peer_http_client(&stranger.node.tls(), ru_card.fingerprint).unwrap();
    assert!(
        stranger_client
            .get(format!("{}/log/checkpoint", ru.fed_url()))
            .send()
            .await
            .is_err()
    );

    // A client without a certificate is refused too.
    let anonymous = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    assert!(
        anonymous
            .get(format!("{}/log/checkpoint", ru.fed_url()))
            .send()
            .await
            .is_err()
    );

    // us refuses to talk to a server whose certificate is not ru's pin.
    let wrong = liaison_node::tls::peer_http_client(&us.node.tls(), ru_card.fingerprint).unwrap();
    assert!(
        wrong
            .get(format!("{}/log/checkpoint", stranger.fed_url()))
            .send()
            .await
            .is_err()
    );

    // Pins added while serving apply at once.
    ru.node
        .pin_peer(&stranger.node.card(), false)
        .await
        .unwrap();
    let text = stranger_client
        .get(format!("{}/log/checkpoint", ru.fed_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with(ru.node.store().log_origin()));
}

/// The key exchange group a TLS 1.3 handshake with `addr` agreed on.
async fn negotiated_group(
    config: rustls::ClientConfig,
    addr: std::net::SocketAddr,
) -> Option<rustls::NamedGroup> {
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("peer.liaison.invalid").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    tls.get_ref()
        .1
        .negotiated_key_exchange_group()
        .map(|g| g.name())
}

#[tokio::test(flavor = "multi_thread")]
async fn federation_handshakes_prefer_the_hybrid_post_quantum_key_exchange() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    pin_each_other(&us.node, &ru.node).await;
    let ru_card = us.node.peer("ru").unwrap().unwrap();

    // Two Liaison nodes agree on X25519MLKEM768.
    let config = liaison_node::tls::client_config(&us.node.tls(), &[ru_card.fingerprint]).unwrap();
    assert_eq!(
        negotiated_group(config, ru.server.federation_addr).await,
        Some(rustls::NamedGroup::X25519MLKEM768)
    );

    // A classical client (OpenSSL 3.0's s_client, which has no ML-KEM)
    // still gets in, over X25519.
    let keys = us.dir.join("keys");
    let addr = ru.server.federation_addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("openssl")
            .args(["s_client", "-connect", &addr, "-tls1_3", "-brief"])
            .arg("-cert")
            .arg(keys.join("tls.crt"))
            .arg("-key")
            .arg(keys.join("tls.key"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl is installed (scripts/setup)")
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("CONNECTION ESTABLISHED"), "{text}");
    assert!(text.contains("X25519"), "{text}");
    assert!(!text.contains("MLKEM"), "{text}");
}
