//! Envelopes: the signed messages nodes exchange.
//!
//! An envelope is signed with the sender's log key (Ed25519) over a canonical
//! text encoding, so it stays evidence after it leaves the transport:
//!
//! ```text
//! liaison-envelope/v1
//! id: <id>
//! sender: <party>
//! recipient: <party>
//! kind: <kind>
//! case: <case id>
//! created: <RFC 3339 UTC timestamp>
//! body-sha256: <hex SHA-256 of the canonical JSON body>
//! attachment: <hex sha256> <size> <JSON string name> <JSON string media type>   (zero or more, in order)
//! ```
//!
//! An envelope for several participants of a case (`also_to` not empty)
//! starts `liaison-envelope/v2` and has one `recipient:` line per recipient,
//! the first one first, then `also_to` in order; otherwise the text is
//! exactly version 1, so every envelope signed before stays valid.
//!
//! Every line ends in `\n`. The canonical JSON of the body is its compact
//! serialisation with object keys sorted by code point (what `serde_json`
//! prints for a `Value`); bodies carry only strings, integers, booleans,
//! null, arrays and objects. The envelope hash (what both logs commit to) is
//! SHA-256 of the canonical text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use liaison_log::Hash;
use liaison_log::note::{NoteSigner, NoteVerifier};
use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::leaf::LeafEntry;

/// Largest canonical body accepted (attachments travel separately).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Most attachments one envelope may reference.
pub const MAX_ATTACHMENTS: usize = 64;
/// Most recipients one envelope may name (a case's roster less its sender).
pub const MAX_RECIPIENTS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef {
    pub sha256: String,
    pub size: u64,
    pub name: String,
    pub media_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub id: String,
    pub sender: String,
    /// The first (or only) recipient.
    pub recipient: String,
    /// Every other recipient, for a case with more than two participants:
    /// the same signed envelope goes to each, and each logs and receipts it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_to: Vec<String>,
    pub kind: String,
    pub case_id: String,
    pub created: String,
    pub body: serde_json::Value,
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
}

/// An envelope with its sender's signature (base64 Ed25519).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedEnvelope {
    pub envelope: Envelope,
    pub signature: String,
}

fn check_token(field: &str, value: &str, max: usize) -> Result<(), CoreError> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.:/".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(format!(
            "{field} {value:?} must be 1 to {max} characters of a-z, 0-9, '-', '_', '.', ':' or '/'"
        )))
    }
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), CoreError> {
    if value.len() > max || value.chars().any(char::is_control) {
        return Err(CoreError::invalid(format!(
            "{field} must be at most {max} bytes without control characters"
        )));
    }
    Ok(())
}

/// Canonical JSON: compact, keys sorted; refuses floats (they have no single
/// canonical text).
pub fn canonical_json(value: &serde_json::Value) -> Result<Vec<u8>, CoreError> {
    fn no_floats(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => n.is_i64() || n.is_u64(),
            serde_json::Value::Array(a) => a.iter().all(no_floats),
            serde_json::Value::Object(o) => o.values().all(no_floats),
            _ => true,
        }
    }
    if !no_floats(value) {
        return Err(CoreError::invalid(
            "body numbers must be integers (write decimals as strings)",
        ));
    }
    serde_json::to_vec(value).map_err(|e| CoreError::invalid(format!("body is not encodable: {e}")))
}

impl Envelope {
    /// Checks every field's form (not the signature, not the parties).
    pub fn check_shape(&self) -> Result<(), CoreError> {
        check_token("id", &self.id, 64)?;
        crate::PartyCode::parse(&self.sender)?;
        crate::PartyCode::parse(&self.recipient)?;
        if self.also_to.len() >= MAX_RECIPIENTS {
            return Err(CoreError::invalid(format!(
                "an envelope may name at most {MAX_RECIPIENTS} recipients"
            )));
        }
        let mut seen = std::collections::BTreeSet::from([self.sender.as_str()]);
        for party in self.recipients() {
            crate::PartyCode::parse(party)?;
            if !seen.insert(party) {
                return Err(CoreError::invalid(format!(
                    "recipient {party:?} is named twice or is the sender"
                )));
            }
        }
        check_token("kind", &self.kind, 64)?;
        check_token("case_id", &self.case_id, 64)?;
        self.created.parse::<jiff::Timestamp>()?;
        if !self.body.is_object() {
            return Err(CoreError::invalid("body must be a JSON object"));
        }
        if canonical_json(&self.body)?.len() > MAX_BODY_BYTES {
            return Err(CoreError::invalid(format!(
                "body is larger than {MAX_BODY_BYTES} bytes"
            )));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(CoreError::invalid(format!(
                "an envelope may reference at most {MAX_ATTACHMENTS} attachments"
            )));
        }
        for a in &self.attachments {
            if Hash::from_hex(&a.sha256).is_none()
                || a.sha256.bytes().any(|b| b.is_ascii_uppercase())
            {
                return Err(CoreError::invalid(
                    "attachment sha256 must be 64 lowercase hex digits",
                ));
            }
            check_text("attachment name", &a.name, 255)?;
            check_text("attachment media_type", &a.media_type, 127)?;
        }
        Ok(())
    }

    /// The canonical text the signature covers.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, CoreError> {
        let body_hash = Hash::of_content(&canonical_json(&self.body)?).to_hex();
        let version = if self.also_to.is_empty() { 1 } else { 2 };
        let mut s = format!(
            "liaison-envelope/v{version}\nid: {}\nsender: {}\n",
            self.id, self.sender
        );
        for party in self.recipients() {
            s.push_str(&format!("recipient: {party}\n"));
        }
        s.push_str(&format!(
            "kind: {}\ncase: {}\ncreated: {}\nbody-sha256: {}\n",
            self.kind, self.case_id, self.created, body_hash
        ));
        for a in &self.attachments {
            let name =
                serde_json::to_string(&a.name).map_err(|e| CoreError::invalid(e.to_string()))?;
            let media = serde_json::to_string(&a.media_type)
                .map_err(|e| CoreError::invalid(e.to_string()))?;
            s.push_str(&format!(
                "attachment: {} {} {name} {media}\n",
                a.sha256, a.size
            ));
        }
        Ok(s.into_bytes())
    }

    /// Every recipient, the first one first.
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.recipient.as_str()).chain(self.also_to.iter().map(String::as_str))
    }

    /// Whether `party` is one of the recipients.
    pub fn is_addressed_to(&self, party: &str) -> bool {
        self.recipients().any(|r| r == party)
    }

    /// SHA-256 of the canonical text: what both parties' logs commit to.
    pub fn hash(&self) -> Result<Hash, CoreError> {
        Ok(Hash::of_content(&self.canonical_bytes()?))
    }

    /// The log entry committing to this envelope.
    pub fn leaf(&self) -> Result<LeafEntry, CoreError> {
        Ok(LeafEntry::envelope(self.hash()?))
    }

    pub fn sign(self, signer: &NoteSigner) -> Result<SignedEnvelope, CoreError> {
        self.check_shape()?;
        let sig = signer.sign_raw(&self.canonical_bytes()?);
        Ok(SignedEnvelope {
            envelope: self,
            signature: B64.encode(sig),
        })
    }
}

impl SignedEnvelope {
    /// Checks shape and signature against the sender's log key.
    pub fn verify(&self, sender_key: &NoteVerifier) -> Result<Hash, CoreError> {
        self.envelope.check_shape()?;
        let sig = B64
            .decode(&self.signature)
            .map_err(|_| CoreError::invalid("signature is not base64"))?;
        let canonical = self.envelope.canonical_bytes()?;
        sender_key.verify_raw(&canonical, &sig).map_err(|_| {
            CoreError::invalid("the signature does not verify with the sender's key")
        })?;
        Ok(Hash::of_content(&canonical))
    }
}

/// `POST /federation/v1/envelopes`: envelopes for one recipient, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRequest {
    pub envelopes: Vec<SignedEnvelope>,
}

/// The answer: one result per envelope, in the same order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryResponse {
    pub results: Vec<DeliveryResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryResult {
    pub id: String,
    /// The recipient's receipt (a C2SP tlog-proof) when it logged the envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// Why the recipient refused the envelope (permanently).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<liaison_proto::ErrorDetail>,
    /// Why the recipient cannot record the envelope yet (code `not_yet`:
    /// it lacks the case or the envelope this one follows, which another
    /// participant sends): nothing was recorded, deliver it again later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred: Option<liaison_proto::ErrorDetail>,
}

impl From<jiff::Error> for CoreError {
    fn from(e: jiff::Error) -> CoreError {
        CoreError::invalid(format!("created is not an RFC 3339 timestamp: {e}"))
    }
}

/// A new unique id: 12 hex digits of milliseconds since the epoch, then 20
/// random hex digits, so ids sort by creation time.
pub fn new_id(random: [u8; 10]) -> String {
    let millis = jiff::Timestamp::now().as_millisecond().max(0) as u64;
    let rand: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{millis:012x}{rand}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use liaison_log::note::ED25519;
    use proptest::prelude::*;
    use serde_json::json;

    fn sample() -> Envelope {
        Envelope {
            id: "0190a1b2c3d4e5f60718293a4b5c6d7e".into(),
            sender: "us".into(),
            recipient: "ru".into(),
            also_to: vec![],
            kind: "note".into(),
            case_id: "us-0190a1b2c3d4".into(),
            created: "2026-11-23T12:00:00Z".into(),
            body: json!({"text": "Привет", "subject": "Test"}),
            attachments: vec![],
        }
    }

    #[test]
    fn canonical_text_is_documented_form() {
        let text = String::from_utf8(sample().canonical_bytes().unwrap()).unwrap();
        assert!(text.starts_with(
            "liaison-envelope/v1\nid: 0190a1b2c3d4e5f60718293a4b5c6d7e\nsender: us\nrecipient: ru\n"
        ));
        // Keys sorted, compact.
        let body = canonical_json(&sample().body).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"subject":"Test","text":"Привет"}"#
        );
    }

    #[test]
    fn an_envelope_for_several_recipients_names_each_in_version_2() {
        let mut e = sample();
        let v1 = e.canonical_bytes().unwrap();
        e.also_to = vec!["ru-isp".into(), "ngo".into()];
        let text = String::from_utf8(e.canonical_bytes().unwrap()).unwrap();
        assert!(text.starts_with(
            "liaison-envelope/v2\nid: 0190a1b2c3d4e5f60718293a4b5c6d7e\nsender: us\nrecipient: ru\nrecipient: ru-isp\nrecipient: ngo\nkind: note\n"
        ));
        assert_ne!(text.as_bytes(), v1.as_slice());
        assert!(e.is_addressed_to("ngo") && !e.is_addressed_to("us"));
        // The wire form of a two-party envelope has no `also_to`.
        assert!(
            !serde_json::to_string(&sample())
                .unwrap()
                .contains("also_to")
        );
        for bad in [vec!["ru".to_owned()], vec!["us".into()], vec!["Bad".into()]] {
            let mut e = sample();
            e.also_to = bad.clone();
            assert!(e.check_shape().is_err(), "{bad:?}");
        }
        let mut e = sample();
        e.also_to = (0..MAX_RECIPIENTS).map(|i| format!("p{i}")).collect();
        assert!(e.check_shape().is_err());
        e.also_to.pop();
        e.check_shape().unwrap();
    }

    #[test]
    fn signatures_verify_and_every_tampering_fails() {
        let signer = NoteSigner::new("liaison/us/x", ED25519, [1; 32]).unwrap();
        let signed = sample().sign(&signer).unwrap();
        signed.verify(&signer.verifier()).unwrap();
        let mut tampered = signed.clone();
        tampered.envelope.body = json!({"text": "Пока", "subject": "Test"});
        assert!(tampered.verify(&signer.verifier()).is_err());
        let mut tampered = signed.clone();
        tampered.envelope.recipient = "cn".into();
        assert!(tampered.verify(&signer.verifier()).is_err());
        // A recipient added (or, for v2, dropped or reordered) breaks it too.
        let mut tampered = signed.clone();
        tampered.envelope.also_to = vec!["cn".into()];
        assert!(tampered.verify(&signer.verifier()).is_err());
        let mut many = sample();
        many.also_to = vec!["cn".into(), "in".into()];
        let many = many.sign(&signer).unwrap();
        many.verify(&signer.verifier()).unwrap();
        let mut swapped = many.clone();
        swapped.envelope.also_to.reverse();
        assert!(swapped.verify(&signer.verifier()).is_err());
        let mut dropped = many;
        dropped.envelope.also_to.pop();
        assert!(dropped.verify(&signer.verifier()).is_err());
        let other = NoteSigner::new("liaison/xx/y", ED25519, [2; 32]).unwrap();
        assert!(signed.verify(&other.verifier()).is_err());
    }

    #[test]
    fn malformed_fields_are_named() {
        let mut e = sample();
        e.kind = "No Spaces".into();
        assert!(e.check_shape().unwrap_err().to_string().contains("kind"));
        let mut e = sample();
        e.created = "yesterday".into();
        assert!(e.check_shape().unwrap_err().to_string().contains("created"));
        let mut e = sample();
        e.body = json!({"x": 1.5});
        assert!(
            e.check_shape()
                .unwrap_err()
                .to_string()
                .contains("integers")
        );
        let mut e = sample();
        e.body = json!([1]);
        assert!(e.check_shape().is_err());
    }

    proptest! {
        #[test]
        fn canonical_encoding_is_stable_across_json_round_trips(
            text in "\\PC{0,200}", n in any::<i64>(), names in proptest::collection::vec("[a-z]{1,8}", 0..5)
        ) {
            let mut e = sample();
            let mut body = serde_json::Map::new();
            body.insert("text".into(), json!(text));
            body.insert("n".into(), json!(n));
            for k in &names {
                body.insert(k.clone(), json!([k, n]));
            }
            e.body = serde_json::Value::Object(body);
            let wire = serde_json::to_string(&e).unwrap();
            let back: Envelope = serde_json::from_str(&wire).unwrap();
            prop_assert_eq!(e.canonical_bytes().unwrap(), back.canonical_bytes().unwrap());
        }
    }
}
