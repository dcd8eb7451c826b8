//! ML-DSA-44 against NIST's ACVP vectors, and the cosignature format.

use ml_dsa::{B32, EncodedSignature, ExpandedSigningKey, ExpandedSigningKeyBytes};

use super::*;
use crate::hash::Hash;

fn vectors(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/data/acvp/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn bytes(v: &serde_json::Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

fn cases(file: &serde_json::Value) -> &Vec<serde_json::Value> {
    assert_eq!(file["parameterSet"], "ML-DSA-44");
    let tests = file["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    tests
}

#[test]
fn key_generation_matches_the_acvp_vectors() {
    let file = vectors("ml-dsa-44-keygen.json");
    for case in cases(&file) {
        let seed: [u8; 32] = bytes(case, "seed").try_into().unwrap();
        let cosigner = MlDsaCosigner::new("witness.example/w1", seed).unwrap();
        assert_eq!(
            cosigner.public_key().as_slice(),
            bytes(case, "pk").as_slice(),
            "tcId {}",
            case["tcId"]
        );
    }
}

#[test]
#[allow(deprecated)] // the expanded key encoding is what the vectors carry
fn signing_matches_the_acvp_vectors() {
    let file = vectors("ml-dsa-44-siggen.json");
    for case in cases(&file) {
        let sk =
            ExpandedSigningKeyBytes::<MlDsa44>::try_from(bytes(case, "sk").as_slice()).unwrap();
        let key = ExpandedSigningKey::<MlDsa44>::from_expanded(&sk);
        let rnd = if case["deterministic"].as_bool().unwrap() {
            B32::default()
        } else {
            B32::try_from(bytes(case, "rnd").as_slice()).unwrap()
        };
        let signature = key.sign_internal(&[&bytes(case, "message")], &rnd);
        assert_eq!(
            signature.encode().as_slice(),
            bytes(case, "signature").as_slice(),
            "tcId {}",
            case["tcId"]
        );
    }
}

#[test]
fn verification_matches_the_acvp_vectors_valid_and_invalid() {
    let file = vectors("ml-dsa-44-sigver.json");
    let pk = bytes(&file, "pk");
    let key = MlDsaVerifier::new("witness.example/w1", &pk).unwrap().key;
    let (mut valid, mut invalid) = (0, 0);
    for case in cases(&file) {
        let expected = case["testPassed"].as_bool().unwrap();
        let sig = bytes(case, "signature");
        let verified = EncodedSignature::<MlDsa44>::try_from(sig.as_slice())
            .ok()
            .and_then(|e| Signature::<MlDsa44>::decode(&e))
            .is_some_and(|s| key.verify_internal(&bytes(case, "message"), &s));
        assert_eq!(
            verified, expected,
            "tcId {} ({})",
            case["tcId"], case["reason"]
        );
        if expected { valid += 1 } else { invalid += 1 }
    }
    assert!(valid > 0 && invalid > 0);
}

fn checkpoint() -> Checkpoint {
    Checkpoint::new("example.com/log", 20852163, Hash([7; 32]))
}

#[test]
fn the_cosigned_message_is_the_specified_structure() {
    let m = cosigned_message("w.example/1", 1_679_315_147, &checkpoint()).unwrap();
    let mut expected = b"subtree/v1\n\0".to_vec();
    expected.push(11);
    expected.extend_from_slice(b"w.example/1");
    expected.extend_from_slice(&1_679_315_147u64.to_be_bytes());
    expected.push(15);
    expected.extend_from_slice(b"example.com/log");
    expected.extend_from_slice(&0u64.to_be_bytes());
    expected.extend_from_slice(&20852163u64.to_be_bytes());
    expected.extend_from_slice(&[7; 32]);
    assert_eq!(m, expected);
    let long = "x".repeat(256);
    assert!(cosigned_message(&long, 0, &checkpoint()).is_err());
}

#[test]
fn a_cosignature_verifies_and_any_change_is_refused() {
    let cosigner = MlDsaCosigner::new("witness.example/w1", [9; 32]).unwrap();
    let verifier = cosigner.verifier();
    let cp = checkpoint();
    let line = cosigner.cosign(&cp, 1_700_000_000).unwrap();
    let signed = format!("{}\n{line}", cp.to_text());
    let parsed = crate::note::parse_note(&signed).unwrap();
    assert_eq!(parsed.signatures.len(), 1);
    let sig = &parsed.signatures[0];
    assert_eq!(sig.blob.len(), 8 + SIGNATURE_BYTES);
    assert_eq!(verifier.verify(&cp, sig).unwrap(), 1_700_000_000);
    // The key ID commits to the name, the type byte and the key.
    assert_eq!(
        sig.key_id,
        key_id("witness.example/w1", ML_DSA_44, cosigner.public_key())
    );

    let mut other = cp.clone();
    other.size += 1;
    assert!(verifier.verify(&other, sig).is_err(), "another size");
    let mut other = cp.clone();
    other.root.0[0] ^= 1;
    assert!(verifier.verify(&other, sig).is_err(), "another root");
    let mut other = cp.clone();
    other.origin.push('x');
    assert!(verifier.verify(&other, sig).is_err(), "another origin");
    // Extension lines are not signed.
    let mut other = cp.clone();
    other.extensions.push("ext".into());
    assert!(verifier.verify(&other, sig).is_ok());
    for i in [0, 7, 8, 100, 8 + SIGNATURE_BYTES - 1] {
        let mut tampered = sig.clone();
        tampered.blob[i] ^= 0x40;
        assert!(verifier.verify(&cp, &tampered).is_err(), "byte {i}");
    }
    let mut short = sig.clone();
    short.blob.pop();
    assert!(verifier.verify(&cp, &short).is_err());
    // Another key with the same name is another key ID, and no signature.
    let stranger = MlDsaCosigner::new("witness.example/w1", [8; 32]).unwrap();
    assert!(stranger.verifier().verify(&cp, sig).is_err());
    assert!(
        stranger
            .verifier()
            .verify_any(&cp, &parsed.signatures)
            .is_err()
    );
    assert_eq!(
        verifier.verify_any(&cp, &parsed.signatures).unwrap(),
        1_700_000_000
    );
}

#[test]
fn keys_of_the_wrong_size_and_timestamps_past_2_63_are_refused() {
    assert!(MlDsaVerifier::new("w", &[0; 1311]).is_err());
    let cosigner = MlDsaCosigner::new("w", [1; 32]).unwrap();
    assert!(cosigner.cosign(&checkpoint(), 1 << 63).is_err());
    let vkey = cosigner.verifier().to_encoded();
    assert!(vkey.starts_with("w+"));
}

#[test]
fn keys_round_trip_through_their_text_and_bad_texts_are_refused() {
    let cosigner = MlDsaCosigner::new("liaison/w/witness/0a1b2c3d", [5; 32]).unwrap();
    let secret = cosigner.to_encoded();
    assert!(secret.starts_with("PRIVATE+KEY+liaison/w/witness/0a1b2c3d+"));
    let again = MlDsaCosigner::parse(&format!("{secret}\n")).unwrap();
    assert_eq!(again.public_key(), cosigner.public_key());
    let vkey = cosigner.verifier().to_encoded();
    let parsed = MlDsaVerifier::parse(&vkey).unwrap();
    assert_eq!(parsed, cosigner.verifier());
    assert_eq!(parsed.key_id(), cosigner.verifier().key_id());

    // An Ed25519 key is not an ML-DSA-44 key, a wrong id is refused.
    let ed = crate::note::NoteSigner::new("w", crate::note::COSIGNATURE_V1, [5; 32]).unwrap();
    assert!(MlDsaCosigner::parse(&ed.to_encoded()).is_err());
    assert!(MlDsaVerifier::parse(&ed.verifier().to_encoded()).is_err());
    let (name, rest) = vkey.split_once('+').unwrap();
    let (_, material) = rest.split_once('+').unwrap();
    assert!(MlDsaVerifier::parse(&format!("{name}+00000000+{material}")).is_err());
    for bad in [
        "",
        "w",
        "w+1+AA==",
        "PRIVATE+KEY+w+00000000+Bg==",
        "w+00000000+!!",
    ] {
        assert!(MlDsaVerifier::parse(bad).is_err(), "{bad:?}");
        assert!(MlDsaCosigner::parse(bad).is_err(), "{bad:?}");
    }
}

proptest::proptest! {
    #[test]
    fn garbage_keys_and_signatures_are_errors_not_panics(
        key in proptest::collection::vec(proptest::prelude::any::<u8>(), PUBLIC_KEY_BYTES),
        blob in proptest::prop_oneof![
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2500),
            proptest::collection::vec(proptest::prelude::any::<u8>(), 8 + SIGNATURE_BYTES),
        ],
    ) {
        let cp = checkpoint();
        // Any 1,312 bytes decode as some key; no blob is its signature.
        let verifier = MlDsaVerifier::new("w", &key).unwrap();
        let sig = NoteSignature { name: "w".into(), key_id: verifier.key_id(), blob };
        proptest::prop_assert!(verifier.verify(&cp, &sig).is_err());
    }
}
