//! Key changes: rotations, revocations and recovery rotations verified
//! against the pinned card, and what each refuses.

use liaison_log::note::{ED25519, NoteSigner};
use liaison_proto::{CARD_VERSION, NodeRole, PartyKind};

use super::*;

const ORIGIN: &str = "liaison/us/0a1b2c3d";

fn log_key(seed: u8) -> NoteSigner {
    NoteSigner::new(ORIGIN, ED25519, [seed; 32]).unwrap()
}

fn recovery_key(seed: u8) -> NoteSigner {
    NoteSigner::new("liaison/us/recovery", ED25519, [seed; 32]).unwrap()
}

/// A card; the certificate is opaque bytes (only its digest is pinned).
fn card(log: &NoteSigner, recovery: &NoteSigner, cert: u8) -> NodeCard {
    let der = vec![cert; 40];
    NodeCard {
        liaison_card: CARD_VERSION,
        party: "us".into(),
        name: "US".into(),
        role: NodeRole::Party,
        lang: "en".into(),
        federation_url: "https://us.example:7443".into(),
        log_origin: ORIGIN.into(),
        log_key: log.verifier().to_encoded(),
        cosigner_key: None,
        cosigner_key_ml_dsa: None,
        recovery_key: Some(recovery.verifier().to_encoded()),
        tls_certificate: format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            B64.encode(&der)
        ),
        tls_fingerprint: Hash::of_content(&der).to_hex(),
        calendar: None,
        kind: Some(PartyKind::Authority),
        jurisdiction: Some("US".into()),
        notification: None,
    }
}

fn rotation(pinned: &NodeCard, new: NodeCard, sequence: u64) -> KeyChange {
    KeyChange {
        liaison_key_change: KEY_CHANGE_VERSION,
        party: "us".into(),
        sequence,
        previous_card: card_digest(pinned).unwrap().to_hex(),
        card: new,
        change: ChangeKind::Rotation,
        issued_at: "2026-12-01T10:00:00Z".into(),
        overlap_until: Some("2026-12-02T10:00:00Z".into()),
        compromised_since: None,
    }
}

/// The chain as a peer knows it with `last_sequence`, at a fixed time
/// after the statements of these tests.
fn at(last_sequence: u64) -> Chain {
    Chain {
        last_sequence,
        revocations_after: None,
        now: "2026-12-01T12:00:00Z".parse().unwrap(),
        max_skew_secs: 300,
    }
}

fn checked(card: &NodeCard) -> CheckedCard {
    check_card(card).unwrap()
}

#[test]
fn a_rotation_signed_by_both_log_keys_is_followed_and_three_chain() {
    let recovery = recovery_key(9);
    let keys = [log_key(1), log_key(2), log_key(3), log_key(4)];
    let mut pinned = checked(&card(&keys[0], &recovery, 1));
    for (i, pair) in keys.windows(2).enumerate() {
        let new = card(&pair[1], &recovery, 2 + i as u8);
        let signed = rotation(&pinned.card, new.clone(), i as u64 + 1)
            .sign(&[&pair[0], &pair[1]])
            .unwrap();
        let verified = signed.verify(&pinned, &at(i as u64)).unwrap();
        assert_eq!(verified.card.card, new);
        assert_eq!(verified.hash, signed.hash());
        assert_eq!(
            verified.overlap_until.unwrap().to_string(),
            "2026-12-02T10:00:00Z"
        );
        // The same statement does not apply twice, nor out of order.
        assert!(signed.verify(&verified.card, &at(i as u64 + 1)).is_err());
        assert!(signed.verify(&pinned, &at(i as u64 + 1)).is_err());
        pinned = verified.card;
    }
}

#[test]
fn a_rotation_missing_a_signature_or_off_the_chain_is_refused() {
    let recovery = recovery_key(9);
    let (old, new, thief) = (log_key(1), log_key(2), log_key(7));
    let pinned = checked(&card(&old, &recovery, 1));
    let next = card(&new, &recovery, 2);
    let statement = rotation(&pinned.card, next.clone(), 1);
    let refused = |signed: SignedKeyChange, why: &str| {
        let e = signed.verify(&pinned, &at(0)).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    };
    refused(statement.sign(&[&new]).unwrap(), "the log key it replaces");
    refused(statement.sign(&[&old]).unwrap(), "the new log key");
    refused(
        statement.sign(&[&thief, &new]).unwrap(),
        "the log key it replaces",
    );
    // A signature moved onto another statement does not verify.
    let mut moved = statement.sign(&[&old, &new]).unwrap();
    moved.statement = moved.statement.replace("2026-12-02", "2026-12-03");
    refused(moved, "the log key it replaces");

    let mut other = statement.clone();
    other.previous_card = "not a digest".into();
    refused(other.sign(&[&old, &new]).unwrap(), "previous_card");
    let mut other = statement.clone();
    other.overlap_until = Some("2027-02-01T10:00:00Z".into());
    refused(other.sign(&[&old, &new]).unwrap(), "overlap");
    let mut other = statement.clone();
    other.overlap_until = None;
    refused(other.sign(&[&old, &new]).unwrap(), "overlap");
    let mut other = statement.clone();
    other.card.recovery_key = Some(recovery_key(8).verifier().to_encoded());
    refused(other.sign(&[&old, &new]).unwrap(), "recovery key");
    let mut other = statement.clone();
    other.party = "ru".into();
    refused(other.sign(&[&old, &new]).unwrap(), "not for party us");
    let mut other = statement.clone();
    other.card.role = NodeRole::Witness;
    other.card.kind = Some(PartyKind::Witness);
    other.card.jurisdiction = None;
    assert!(
        other
            .sign(&[&old, &new])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
    let mut other = statement.clone();
    other.compromised_since = Some("2026-12-01T09:00:00Z".into());
    refused(other.sign(&[&old, &new]).unwrap(), "compromise");
    let mut other = statement.clone();
    other.liaison_key_change = 2;
    refused(other.sign(&[&old, &new]).unwrap(), "version");
    let mut other = statement;
    other.sequence = 3;
    // Later sequences are fine (a peer may have pinned a later card) …
    assert!(
        other
            .sign(&[&old, &new])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_ok()
    );
    // … earlier ones are replays.
    let e = other
        .sign(&[&old, &new])
        .unwrap()
        .verify(&pinned, &at(3))
        .unwrap_err();
    assert!(e.to_string().contains("does not follow"), "{e}");
}

fn revocation(pinned: &NodeCard, new: NodeCard) -> KeyChange {
    KeyChange {
        change: ChangeKind::Revocation,
        overlap_until: None,
        compromised_since: Some("2026-11-30T00:00:00Z".into()),
        ..rotation(pinned, new, 1)
    }
}

#[test]
fn only_the_recovery_key_revokes_and_the_thief_cannot() {
    let recovery = recovery_key(9);
    let (stolen, fresh) = (log_key(1), log_key(2));
    let pinned = checked(&card(&stolen, &recovery, 1));
    let statement = revocation(&pinned.card, card(&fresh, &recovery, 2));
    let verified = statement
        .sign(&[&recovery, &fresh])
        .unwrap()
        .verify(&pinned, &at(0))
        .unwrap();
    assert_eq!(
        verified.compromised_since.unwrap().to_string(),
        "2026-11-30T00:00:00Z"
    );
    // The thief holds the log key, not the recovery key.
    let e = statement
        .sign(&[&stolen, &fresh])
        .unwrap()
        .verify(&pinned, &at(0))
        .unwrap_err();
    assert!(e.to_string().contains("recovery key"), "{e}");
    // A thief's rotation cannot take the recovery key away either.
    let mut takeover = rotation(&pinned.card, card(&fresh, &recovery_key(8), 2), 1);
    takeover.card.recovery_key = Some(recovery_key(8).verifier().to_encoded());
    assert!(
        takeover
            .sign(&[&stolen, &fresh])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
    // A revocation replaces the log key (the certificate may stay), has no
    // overlap, and its compromise precedes it.
    let same_cert = revocation(&pinned.card, card(&fresh, &recovery, 1));
    assert!(
        same_cert
            .sign(&[&recovery, &fresh])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_ok()
    );
    let same_key = revocation(&pinned.card, card(&stolen, &recovery, 2));
    assert!(
        same_key
            .sign(&[&recovery, &stolen])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
    let mut later = statement.clone();
    later.compromised_since = Some("2026-12-01T11:00:00Z".into());
    assert!(
        later
            .sign(&[&recovery, &fresh])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
    let mut overlapping = statement.clone();
    overlapping.overlap_until = Some("2026-12-02T10:00:00Z".into());
    assert!(
        overlapping
            .sign(&[&recovery, &fresh])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
    let mut no_time = statement;
    no_time.compromised_since = None;
    assert!(
        no_time
            .sign(&[&recovery, &fresh])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
    // A card without a recovery key cannot be revoked.
    let mut bare = card(&stolen, &recovery, 1);
    bare.recovery_key = None;
    let bare = checked(&bare);
    let mut next = card(&fresh, &recovery, 2);
    next.recovery_key = None;
    let e = revocation(&bare.card, next)
        .sign(&[&recovery, &fresh])
        .unwrap()
        .verify(&bare, &at(0))
        .unwrap_err();
    assert!(e.to_string().contains("no recovery key"), "{e}");
}

#[test]
fn a_revocation_supersedes_a_thiefs_rotation_but_not_an_earlier_recovery_statement() {
    let recovery = recovery_key(9);
    let (stolen, thiefs, fresh) = (log_key(1), log_key(2), log_key(3));
    let first = checked(&card(&stolen, &recovery, 1));
    // The thief rotates first (change 1), and the peer follows it.
    let thief = rotation(&first.card, card(&thiefs, &recovery, 2), 1)
        .sign(&[&stolen, &thiefs])
        .unwrap()
        .verify(&first, &at(0))
        .unwrap();
    // The owner's revocation names change 1 too and still holds.
    let owner = revocation(&first.card, card(&fresh, &recovery, 3))
        .sign(&[&recovery, &fresh])
        .unwrap();
    let verified = owner.verify(&thief.card, &at(1)).unwrap();
    assert_eq!(verified.card.log_key, fresh.verifier());
    // The thief's next rotation, signed by the key the owner replaced, does
    // not verify against the owner's card.
    let again = rotation(&thief.card.card, card(&log_key(4), &recovery, 4), 2)
        .sign(&[&thiefs, &log_key(4)])
        .unwrap();
    assert!(again.verify(&verified.card, &at(1)).is_err());
    // A revocation issued before the last recovery statement is a replay.
    let chain = Chain {
        revocations_after: Some("2026-12-01T10:00:01Z".parse().unwrap()),
        ..at(1)
    };
    let e = owner.verify(&thief.card, &chain).unwrap_err();
    assert!(e.to_string().contains("a replay"), "{e}");
    // A statement dated ahead of the clock (beyond the skew) is refused:
    // it would hold back the owner's revocation.
    let mut ahead = rotation(&first.card, card(&thiefs, &recovery, 2), 1);
    ahead.issued_at = "2026-12-01T12:10:00Z".into();
    ahead.overlap_until = Some("2026-12-01T13:00:00Z".into());
    let e = ahead
        .sign(&[&stolen, &thiefs])
        .unwrap()
        .verify(&first, &at(0))
        .unwrap_err();
    assert!(e.to_string().contains("in the future"), "{e}");
    // Only a revocation may reuse a sequence.
    let reuse = rotation(&thief.card.card, card(&log_key(5), &recovery, 5), 1)
        .sign(&[&thiefs, &log_key(5)])
        .unwrap();
    assert!(reuse.verify(&thief.card, &at(1)).is_err());
}

#[test]
fn the_recovery_key_replaces_itself_and_nothing_else() {
    let (recovery, successor) = (recovery_key(9), recovery_key(8));
    let log = log_key(1);
    let pinned = checked(&card(&log, &recovery, 1));
    let statement = KeyChange {
        change: ChangeKind::RecoveryRotation,
        overlap_until: None,
        ..rotation(&pinned.card, card(&log, &successor, 1), 1)
    };
    let verified = statement
        .sign(&[&recovery, &successor])
        .unwrap()
        .verify(&pinned, &at(0))
        .unwrap();
    assert_eq!(verified.card.recovery_key.unwrap(), successor.verifier());
    assert!(
        statement
            .sign(&[&recovery])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
    assert!(
        statement
            .sign(&[&log, &successor])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
    let mut more = statement;
    more.card = card(&log_key(2), &successor, 1);
    assert!(
        more.sign(&[&recovery, &successor])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_err()
    );
}

proptest::proptest! {
    #[test]
    fn garbage_statements_and_signatures_are_errors_not_panics(
        statement in ".{0,400}",
        key in ".{0,120}",
        signature in ".{0,120}",
    ) {
        let pinned = checked(&card(&log_key(1), &recovery_key(9), 1));
        let signed = SignedKeyChange {
            statement,
            signatures: vec![KeySignature { key, signature }],
        };
        proptest::prop_assert!(signed.verify(&pinned, &at(0)).is_err());
    }
}

/// A witness's card with `cosigner` as its cosigning key.
fn witness_card(
    log: &NoteSigner,
    recovery: &NoteSigner,
    cosigner: &NoteSigner,
    cert: u8,
) -> NodeCard {
    let mut card = card(log, recovery, cert);
    card.role = NodeRole::Witness;
    card.kind = Some(PartyKind::Witness);
    card.jurisdiction = None;
    card.cosigner_key = Some(cosigner.verifier().to_encoded());
    card
}

fn cosigner_key(seed: u8) -> NoteSigner {
    NoteSigner::new(
        "witness.example",
        liaison_log::note::COSIGNATURE_V1,
        [seed; 32],
    )
    .unwrap()
}

#[test]
fn a_witness_rotates_its_cosigning_key_only_by_proving_it_holds_the_new_one() {
    let recovery = recovery_key(9);
    let (old, new) = (log_key(1), log_key(2));
    let (old_cosigner, new_cosigner) = (cosigner_key(5), cosigner_key(6));
    let pinned = checked(&witness_card(&old, &recovery, &old_cosigner, 1));
    let statement = rotation(
        &pinned.card,
        witness_card(&new, &recovery, &new_cosigner, 2),
        1,
    );
    let e = statement
        .sign(&[&old, &new])
        .unwrap()
        .verify(&pinned, &at(0))
        .unwrap_err();
    assert!(e.to_string().contains("the new cosigning key"), "{e}");
    // Someone else's key countersigning proves nothing.
    let e = statement
        .sign(&[&old, &new, &old_cosigner])
        .unwrap()
        .verify(&pinned, &at(0))
        .unwrap_err();
    assert!(e.to_string().contains("the new cosigning key"), "{e}");
    let followed = statement
        .sign(&[&old, &new, &new_cosigner])
        .unwrap()
        .verify(&pinned, &at(0))
        .unwrap();
    assert_eq!(followed.card.cosigner_key, Some(new_cosigner.verifier()));
    // A rotation that keeps the cosigning key needs no such proof.
    let same = rotation(
        &pinned.card,
        witness_card(&new, &recovery, &old_cosigner, 2),
        1,
    );
    assert!(
        same.sign(&[&old, &new])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_ok()
    );
    // The recovery key revokes a witness's stolen keys, cosigning key included.
    let revoked = revocation(
        &pinned.card,
        witness_card(&new, &recovery, &new_cosigner, 1),
    );
    assert!(
        revoked
            .sign(&[&recovery, &new])
            .unwrap()
            .verify(&pinned, &at(0))
            .unwrap_err()
            .to_string()
            .contains("the new cosigning key")
    );
    assert!(
        revoked
            .sign(&[&recovery, &new, &new_cosigner])
            .unwrap()
            .verify(&pinned, &at(0))
            .is_ok()
    );
}
