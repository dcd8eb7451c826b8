//! Checking a node card before it is pinned: every field well-formed, the
//! log key named after the log origin, the fingerprint that of the
//! certificate.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use liaison_log::Hash;
use liaison_log::mldsa::MlDsaVerifier;
use liaison_log::note::NoteVerifier;
use liaison_proto::{CARD_VERSION, CARD_VERSION_1, NodeCard, NodeRole, PartyKind};

use crate::{CoreError, PartyCode};

/// A card whose fields have been checked, with its parsed parts.
#[derive(Clone, Debug)]
pub struct CheckedCard {
    pub card: NodeCard,
    pub party: PartyCode,
    pub log_key: NoteVerifier,
    pub cosigner_key: Option<NoteVerifier>,
    /// The witness's ML-DSA-44 cosigning key, if its card names one. Shared:
    /// the key holds its expanded matrix (about 20 KB on the heap), which a
    /// clone of the card (`Node::peers` makes one per peer) would copy.
    pub ml_dsa_cosigner: Option<std::sync::Arc<MlDsaVerifier>>,
    /// The key that revokes the log key (none on cards made before it).
    pub recovery_key: Option<NoteVerifier>,
    pub certificate_der: Vec<u8>,
    pub fingerprint: [u8; 32],
    /// The party's kind (a version 1 card's party is an authority, or a
    /// witness by its role).
    pub kind: PartyKind,
}

/// The name of a party's recovery key.
pub fn recovery_key_name(party: &PartyCode) -> String {
    format!("liaison/{party}/recovery")
}

/// The DER bytes of the first certificate in a PEM text.
pub fn pem_certificate_der(pem: &str) -> Result<Vec<u8>, CoreError> {
    let bad = || CoreError::invalid("tls_certificate is not a PEM certificate");
    let start = pem.find("-----BEGIN CERTIFICATE-----").ok_or_else(bad)?;
    let body = &pem[start + "-----BEGIN CERTIFICATE-----".len()..];
    let end = body.find("-----END CERTIFICATE-----").ok_or_else(bad)?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(b64).map_err(|_| bad())
}

/// SHA-256 of a certificate's DER: the pin.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Hash::of_content(der).0
}

/// The kind of a party whose card names none (version 1, and nodes made
/// before party kinds): an authority, or a witness by its role.
pub fn implied_kind(role: NodeRole) -> PartyKind {
    match role {
        NodeRole::Party => PartyKind::Authority,
        NodeRole::Witness => PartyKind::Witness,
    }
}

/// A kind and a role agree (a witness has kind witness, and only a
/// witness does), and a jurisdiction is an assigned ISO 3166-1 alpha-2 code.
pub fn check_kind(
    kind: PartyKind,
    role: NodeRole,
    jurisdiction: Option<&str>,
) -> Result<(), CoreError> {
    if (kind == PartyKind::Witness) != (role == NodeRole::Witness) {
        return Err(CoreError::invalid(
            "kind witness goes with role witness, and only with it",
        ));
    }
    if let Some(j) = jurisdiction
        && !crate::jurisdiction::is_jurisdiction(j)
    {
        return Err(CoreError::invalid(format!(
            "jurisdiction {j:?} is not an ISO 3166-1 alpha-2 code such as US or RU"
        )));
    }
    Ok(())
}

pub fn check_card(card: &NodeCard) -> Result<CheckedCard, CoreError> {
    let kind = match (card.liaison_card, card.kind) {
        (CARD_VERSION, Some(kind)) => kind,
        (CARD_VERSION, None) => {
            return Err(CoreError::invalid("a version 2 card must name its kind"));
        }
        (CARD_VERSION_1, None) if card.jurisdiction.is_none() => implied_kind(card.role),
        (CARD_VERSION_1, _) => {
            return Err(CoreError::invalid(
                "a version 1 card names no kind or jurisdiction (those are version 2)",
            ));
        }
        (v, _) => {
            return Err(CoreError::invalid(format!(
                "card version {v} is not supported (expected {CARD_VERSION_1} or {CARD_VERSION})"
            )));
        }
    };
    check_kind(kind, card.role, card.jurisdiction.as_deref())?;
    if let Some(n) = &card.notification {
        if kind != PartyKind::Authority || card.jurisdiction.is_none() {
            return Err(CoreError::invalid(
                "only an authority with a jurisdiction requires notification of orders",
            ));
        }
        crate::order::check_notification(n)?;
    }
    let party = PartyCode::parse(&card.party)?;
    if card.name.trim().is_empty() || card.name.len() > 200 {
        return Err(CoreError::invalid("name must be 1 to 200 characters"));
    }
    if !matches!(card.lang.as_str(), "en" | "ru") {
        return Err(CoreError::invalid("lang must be \"en\" or \"ru\""));
    }
    if !card.federation_url.starts_with("https://") {
        return Err(CoreError::invalid("federation_url must be an https:// URL"));
    }
    let log_key = NoteVerifier::parse(&card.log_key)
        .map_err(|e| CoreError::invalid(format!("log_key: {e}")))?;
    if log_key.is_cosigner() || log_key.name() != card.log_origin {
        return Err(CoreError::invalid(
            "log_key must be an Ed25519 note key named after log_origin",
        ));
    }
    // The origin names the party: a witness that cosigns a log vouches for
    // whose it is, so no one can present its own log as another party's.
    let named = card
        .log_origin
        .strip_prefix("liaison/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(p, tag)| p == party.as_str() && !tag.is_empty() && !tag.contains('/'));
    if !named {
        return Err(CoreError::invalid(format!(
            "log_origin must be liaison/{party}/<key tag>: the log of party {party}"
        )));
    }
    let cosigner_key = match &card.cosigner_key {
        None => None,
        Some(k) => {
            let v = NoteVerifier::parse(k)
                .map_err(|e| CoreError::invalid(format!("cosigner_key: {e}")))?;
            if !v.is_cosigner() {
                return Err(CoreError::invalid(
                    "cosigner_key must be a cosignature key (type 0x04)",
                ));
            }
            Some(v)
        }
    };
    if card.cosigner_key.is_some() != (card.role == NodeRole::Witness) {
        return Err(CoreError::invalid(
            "a witness's card names its cosigner_key, and only a witness's does",
        ));
    }
    let ml_dsa_cosigner = match (&card.cosigner_key_ml_dsa, &cosigner_key) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(CoreError::invalid(
                "cosigner_key_ml_dsa goes with a cosigner_key",
            ));
        }
        (Some(k), Some(ed)) => {
            let v = MlDsaVerifier::parse(k)
                .map_err(|e| CoreError::invalid(format!("cosigner_key_ml_dsa: {e}")))?;
            // One cosigner, two keys: a note names the witness once.
            if v.name() != ed.name() {
                return Err(CoreError::invalid(
                    "cosigner_key_ml_dsa must have the name of cosigner_key",
                ));
            }
            Some(std::sync::Arc::new(v))
        }
    };
    let recovery_key = match &card.recovery_key {
        None => None,
        Some(k) => {
            let v = NoteVerifier::parse(k)
                .map_err(|e| CoreError::invalid(format!("recovery_key: {e}")))?;
            if v.is_cosigner() || v.name() != recovery_key_name(&party) {
                return Err(CoreError::invalid(format!(
                    "recovery_key must be an Ed25519 note key named {}",
                    recovery_key_name(&party)
                )));
            }
            if v.public_key() == log_key.public_key() {
                return Err(CoreError::invalid(
                    "recovery_key must not be the log key: it is kept apart from the node",
                ));
            }
            Some(v)
        }
    };
    let certificate_der = pem_certificate_der(&card.tls_certificate)?;
    let fp = fingerprint(&certificate_der);
    if Hash(fp).to_hex() != card.tls_fingerprint {
        return Err(CoreError::invalid(
            "tls_fingerprint is not the SHA-256 of tls_certificate",
        ));
    }
    Ok(CheckedCard {
        card: card.clone(),
        party,
        log_key,
        cosigner_key,
        ml_dsa_cosigner,
        recovery_key,
        certificate_der,
        fingerprint: fp,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checked_card_stays_small() {
        // A node holds one per peer (193 at the scale of the UN) and clones
        // them freely: large keys live behind a pointer.
        let size = std::mem::size_of::<CheckedCard>();
        assert!(size < 2048, "CheckedCard is {size} bytes");
    }
}
