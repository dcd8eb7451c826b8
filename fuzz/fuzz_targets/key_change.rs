//! Key changes from peers (an envelope body, or a `/federation/v1/key-changes`
//! answer) and ML-DSA-44 cosignature lines: checking never panics, and
//! nothing unsigned is accepted.
#![no_main]
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use liaison_core::card::{CheckedCard, check_card};
use liaison_core::keys::{Chain, SignedKeyChange};
use liaison_log::Checkpoint;
use liaison_log::mldsa::MlDsaCosigner;
use liaison_log::note::{ED25519, NoteSigner, parse_note};
use liaison_proto::{CARD_VERSION, NodeCard, NodeRole, PartyKind};

fn pinned() -> CheckedCard {
    let log = NoteSigner::new("liaison/us/0a1b2c3d", ED25519, [1; 32]).unwrap();
    let recovery = NoteSigner::new("liaison/us/recovery", ED25519, [2; 32]).unwrap();
    let der = vec![3u8; 40];
    check_card(&NodeCard {
        liaison_card: CARD_VERSION,
        party: "us".into(),
        name: "US".into(),
        role: NodeRole::Party,
        lang: "en".into(),
        federation_url: "https://us.example".into(),
        log_origin: "liaison/us/0a1b2c3d".into(),
        log_key: log.verifier().to_encoded(),
        cosigner_key: None,
        cosigner_key_ml_dsa: None,
        recovery_key: Some(recovery.verifier().to_encoded()),
        tls_certificate: format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(&der)
        ),
        tls_fingerprint: liaison_log::Hash::of_content(&der).to_hex(),
        calendar: None,
        kind: Some(PartyKind::Authority),
        jurisdiction: Some("US".into()),
        notification: None,
    })
    .unwrap()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(signed) = serde_json::from_slice::<SignedKeyChange>(data) {
        // No key the fuzzer knows signs for the pinned card's keys.
        let chain = Chain {
            last_sequence: 0,
            revocations_after: None,
            now: jiff::Timestamp::now(),
            max_skew_secs: 300,
        };
        assert!(signed.verify(&pinned(), &chain).is_err());
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(note) = parse_note(text)
        && let Ok(checkpoint) = Checkpoint::parse_text(&note.text)
    {
        let verifier = MlDsaCosigner::new("w", [4; 32]).unwrap().verifier();
        let _ = verifier.verify_any(&checkpoint, &note.signatures);
    }
});
