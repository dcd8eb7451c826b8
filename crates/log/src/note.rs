//! C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and Ed25519
//! witness cosignatures (c2sp.org/tlog-cosignature, signature type 0x04).
//!
//! A note is text ending in a newline, a blank line, then lines
//! `— <key name> <base64(key id ‖ signature)>`. Verification follows the
//! spec: signatures by unknown keys are ignored, a failing signature by a
//! known key rejects the note, and at least one known signature must verify.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::LogError;

/// Signature type byte of plain Ed25519 note signatures.
pub const ED25519: u8 = 0x01;
/// Signature type byte of timestamped Ed25519 cosignatures.
pub const COSIGNATURE_V1: u8 = 0x04;

/// Notes above this size are refused before parsing (a checkpoint with a
/// hundred cosignatures is far below it).
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Notes with more signature lines than this are refused.
pub const MAX_SIGNATURES: usize = 100;

const SIG_PREFIX: &str = "\u{2014} ";

/// Checks a key name: non-empty, no Unicode spaces, no plus sign.
pub fn check_key_name(name: &str) -> Result<(), LogError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(LogError::MalformedKey(format!(
            "key name {name:?} must be non-empty and contain no spaces or '+'"
        )));
    }
    Ok(())
}

/// SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', sig_type]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A named Ed25519 signing key for notes (type 0x01) or cosignatures (0x04).
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    sig_type: u8,
    key: SigningKey,
    id: u32,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({}+{:08x})", self.name, self.id)
    }
}

impl NoteSigner {
    pub fn new(name: &str, sig_type: u8, seed: [u8; 32]) -> Result<NoteSigner, LogError> {
        check_key_name(name)?;
        if sig_type != ED25519 && sig_type != COSIGNATURE_V1 {
            return Err(LogError::MalformedKey(format!(
                "unsupported signature type 0x{sig_type:02x}"
            )));
        }
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, sig_type, key.verifying_key().as_bytes());
        Ok(NoteSigner {
            name: name.to_owned(),
            sig_type,
            key,
            id,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(type ‖ seed)>`, the
    /// signer-key encoding of Go's `sumdb/note`.
    pub fn parse(encoded: &str) -> Result<NoteSigner, LogError> {
        let key = SignerKeyText::parse(encoded, "signer key")?;
        let signer = NoteSigner::new(key.name, key.sig_type, key.seed)?;
        key.check_id(signer.id)?;
        Ok(signer)
    }

    /// The encoding [`NoteSigner::parse`] reads. Secret: store it mode 0600.
    pub fn to_encoded(&self) -> String {
        let mut material = vec![self.sig_type];
        material.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(material)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            sig_type: self.sig_type,
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    /// Raw Ed25519 signature over `msg` (for envelopes and receipts).
    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    /// Signs `text` as a note: returns the whole signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, LogError> {
        check_note_text(text)?;
        let line = self.signature_line(text, None)?;
        Ok(format!("{text}\n{line}"))
    }

    /// A signature line for `text`. Cosigners pass the timestamp (seconds
    /// since the Unix epoch) that the cosignature asserts.
    pub fn signature_line(&self, text: &str, timestamp: Option<u64>) -> Result<String, LogError> {
        let mut blob = self.id.to_be_bytes().to_vec();
        match (self.sig_type, timestamp) {
            (ED25519, None) => blob.extend_from_slice(&self.key.sign(text.as_bytes()).to_bytes()),
            (COSIGNATURE_V1, Some(ts)) => {
                let msg = cosigned_message(ts, text);
                blob.extend_from_slice(&ts.to_be_bytes());
                blob.extend_from_slice(&self.key.sign(msg.as_bytes()).to_bytes());
            }
            _ => {
                return Err(LogError::MalformedKey(
                    "a cosignature needs a timestamp; a note signature must not have one".into(),
                ));
            }
        }
        Ok(format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(blob)))
    }
}

fn cosigned_message(timestamp: u64, text: &str) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// The parts of a signer key's text, `PRIVATE+KEY+<name>+<hex id>+<base64(type ‖ seed)>`.
pub(crate) struct SignerKeyText<'a> {
    pub name: &'a str,
    pub id: u32,
    pub sig_type: u8,
    pub seed: [u8; 32],
    what: &'static str,
}

impl<'a> SignerKeyText<'a> {
    pub fn parse(encoded: &'a str, what: &'static str) -> Result<SignerKeyText<'a>, LogError> {
        let bad = |why: &str| LogError::MalformedKey(format!("{what}: {why}"));
        let rest = encoded
            .trim_end()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("does not start with PRIVATE+KEY+"))?;
        let (name, id, material) = split_key(rest).ok_or_else(|| bad("expected name+id+key"))?;
        let bytes = B64.decode(material).map_err(|_| bad("key is not base64"))?;
        let (&sig_type, seed) = bytes.split_first().ok_or_else(|| bad("key is empty"))?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| bad("seed is not 32 bytes"))?;
        Ok(SignerKeyText {
            name,
            id,
            sig_type,
            seed,
            what,
        })
    }

    /// The id the text names must be the key's.
    pub fn check_id(&self, actual: u32) -> Result<(), LogError> {
        if actual == self.id {
            Ok(())
        } else {
            Err(LogError::MalformedKey(format!(
                "{}: key id does not match the key",
                self.what
            )))
        }
    }
}

pub(crate) fn split_key(s: &str) -> Option<(&str, u32, &str)> {
    let mut parts = s.splitn(3, '+');
    let name = parts.next()?;
    let id_hex = parts.next()?;
    let material = parts.next()?;
    if id_hex.len() != 8 {
        return None;
    }
    let id = u32::from_str_radix(id_hex, 16).ok()?;
    Some((name, id, material))
}

/// A named Ed25519 public key that verifies notes or cosignatures.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    sig_type: u8,
    key: VerifyingKey,
    id: u32,
}

impl std::fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_encoded())
    }
}

impl NoteVerifier {
    /// Parses a verifier key `<name>+<hex id>+<base64(type ‖ public key)>`.
    pub fn parse(encoded: &str) -> Result<NoteVerifier, LogError> {
        let bad = |why: &str| LogError::MalformedKey(format!("verifier key {encoded:?}: {why}"));
        let (name, id, material) =
            split_key(encoded.trim()).ok_or_else(|| bad("expected name+id+key"))?;
        check_key_name(name)?;
        let bytes = B64.decode(material).map_err(|_| bad("key is not base64"))?;
        let (&sig_type, public) = bytes.split_first().ok_or_else(|| bad("key is empty"))?;
        if sig_type != ED25519 && sig_type != COSIGNATURE_V1 {
            return Err(bad("only Ed25519 keys (types 0x01 and 0x04) are supported"));
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| bad("public key is not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 point"))?;
        if key_id(name, sig_type, &public) != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            sig_type,
            key,
            id,
        })
    }

    pub fn to_encoded(&self) -> String {
        let mut material = vec![self.sig_type];
        material.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(material))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    pub fn is_cosigner(&self) -> bool {
        self.sig_type == COSIGNATURE_V1
    }

    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies a raw Ed25519 signature by this key.
    pub fn verify_raw(&self, msg: &[u8], signature: &[u8]) -> Result<(), LogError> {
        let sig = Signature::from_slice(signature)
            .map_err(|_| LogError::BadSignature(self.name.clone()))?;
        self.key
            .verify_strict(msg, &sig)
            .map_err(|_| LogError::BadSignature(self.name.clone()))
    }

    /// Verifies one signature blob (after the key id) over `text`; returns
    /// the cosignature timestamp for cosigners.
    fn verify_blob(&self, text: &str, blob: &[u8]) -> Result<Option<u64>, LogError> {
        match self.sig_type {
            COSIGNATURE_V1 => {
                let (ts, sig) = blob
                    .split_first_chunk::<8>()
                    .ok_or_else(|| LogError::BadSignature(self.name.clone()))?;
                let ts = u64::from_be_bytes(*ts);
                if ts > i64::MAX as u64 {
                    return Err(LogError::BadSignature(self.name.clone()));
                }
                self.verify_raw(cosigned_message(ts, text).as_bytes(), sig)?;
                Ok(Some(ts))
            }
            _ => {
                self.verify_raw(text.as_bytes(), blob)?;
                Ok(None)
            }
        }
    }
}

/// One signature line of a note, not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    /// The signature bytes after the 4-byte key id.
    pub blob: Vec<u8>,
}

impl NoteSignature {
    pub fn to_line(&self) -> String {
        let mut b = self.key_id.to_be_bytes().to_vec();
        b.extend_from_slice(&self.blob);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(b))
    }
}

/// A note split into its text and signature lines, not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedNote {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

/// A signature that verified: who signed, and when (for cosignatures).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub name: String,
    pub key_id: u32,
    pub timestamp: Option<u64>,
}

fn check_note_text(text: &str) -> Result<(), LogError> {
    if !text.ends_with('\n') {
        return Err(LogError::MalformedNote("text must end in a newline".into()));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(LogError::MalformedNote(
            "text must not contain control characters".into(),
        ));
    }
    Ok(())
}

/// Splits a signed note into text and signature lines.
pub fn parse_note(note: &str) -> Result<ParsedNote, LogError> {
    let bad = |why: &str| LogError::MalformedNote(why.to_owned());
    if note.len() > MAX_NOTE_BYTES {
        return Err(bad("the note is too large"));
    }
    if note.chars().any(|c| c < ' ' && c != '\n') {
        return Err(bad("the note contains control characters"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| bad("no blank line separates the text from the signatures"))?;
    let text = &note[..split + 1];
    let sigs = &note[split + 2..];
    if !sigs.ends_with('\n') {
        return Err(bad("the signatures must end in a newline"));
    }
    let mut signatures = Vec::new();
    for line in sigs[..sigs.len() - 1].split('\n') {
        if signatures.len() == MAX_SIGNATURES {
            return Err(bad("too many signatures"));
        }
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad("a signature line does not start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("a signature line lacks a space after the key name"))?;
        check_key_name(name).map_err(|_| bad("a signature line has an invalid key name"))?;
        let blob = B64
            .decode(b64)
            .map_err(|_| bad("a signature is not valid base64"))?;
        if blob.len() < 5 {
            return Err(bad("a signature is too short"));
        }
        let key_id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
        signatures.push(NoteSignature {
            name: name.to_owned(),
            key_id,
            blob: blob[4..].to_vec(),
        });
    }
    if signatures.is_empty() {
        return Err(bad("the note has no signatures"));
    }
    Ok(ParsedNote {
        text: text.to_owned(),
        signatures,
    })
}

/// Verifies a signed note against known keys: returns its text and the
/// signatures that verified. Rejects the note when a known key's signature
/// fails or when no known key signed it.
pub fn open_note(
    note: &str,
    known: &[NoteVerifier],
) -> Result<(String, Vec<VerifiedSignature>), LogError> {
    let parsed = parse_note(note)?;
    let verified = verify_signatures(&parsed, known)?;
    if verified.is_empty() {
        return Err(LogError::NoVerifiedSignature);
    }
    Ok((parsed.text, verified))
}

/// Verifies every signature of `parsed` made by a known key.
pub fn verify_signatures(
    parsed: &ParsedNote,
    known: &[NoteVerifier],
) -> Result<Vec<VerifiedSignature>, LogError> {
    // Two verifiers of one name and key id make a signature ambiguous (Go's
    // note.VerifierList refuses them the same way).
    for (i, v) in known.iter().enumerate() {
        if known[..i].iter().any(|w| w.name == v.name && w.id == v.id) {
            return Err(LogError::MalformedKey(format!(
                "the verifier list names the key {}+{:08x} twice",
                v.name, v.id
            )));
        }
    }
    let mut verified: Vec<VerifiedSignature> = Vec::new();
    for sig in &parsed.signatures {
        let Some(v) = known
            .iter()
            .find(|v| v.name == sig.name && v.id == sig.key_id)
        else {
            continue;
        };
        if verified
            .iter()
            .any(|s| s.name == sig.name && s.key_id == sig.key_id)
        {
            continue;
        }
        let timestamp = v.verify_blob(&parsed.text, &sig.blob)?;
        verified.push(VerifiedSignature {
            name: sig.name.clone(),
            key_id: sig.key_id,
            timestamp,
        });
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of Go's sumdb/note package (the origin of C2SP
    // signed-note): signer key, verifier key, text and signature.
    const GO_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const GO_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn worked_example_signs_byte_for_byte() {
        let signer = NoteSigner::parse(GO_SKEY).unwrap();
        assert_eq!(signer.verifier().to_encoded(), GO_VKEY);
        assert_eq!(signer.to_encoded(), GO_SKEY);
        let note = signer.sign_note(GO_TEXT).unwrap();
        assert_eq!(note, format!("{GO_TEXT}\n{GO_SIG}"));
    }

    #[test]
    fn a_verifier_list_naming_one_key_twice_is_refused() {
        let v = NoteVerifier::parse(GO_VKEY).unwrap();
        let note = format!("{GO_TEXT}\n{GO_SIG}");
        assert!(matches!(
            open_note(&note, &[v.clone(), v]),
            Err(LogError::MalformedKey(_))
        ));
    }

    #[test]
    fn worked_example_verifies() {
        let v = NoteVerifier::parse(GO_VKEY).unwrap();
        let (text, sigs) = open_note(&format!("{GO_TEXT}\n{GO_SIG}"), &[v]).unwrap();
        assert_eq!(text, GO_TEXT);
        assert_eq!(sigs.len(), 1);
        assert_eq!(sigs[0].key_id, 0xc74f20a3);
    }

    #[test]
    fn tampered_text_is_rejected() {
        let v = NoteVerifier::parse(GO_VKEY).unwrap();
        let note = format!("{}\n{GO_SIG}", GO_TEXT.replace("answer", "answers"));
        assert!(matches!(
            open_note(&note, &[v]),
            Err(LogError::BadSignature(_))
        ));
    }

    #[test]
    fn unknown_signers_are_ignored_but_one_known_is_needed() {
        let other = NoteSigner::new("other.example", ED25519, [7; 32]).unwrap();
        let note = format!(
            "{GO_TEXT}\n{GO_SIG}{}",
            other.signature_line(GO_TEXT, None).unwrap()
        );
        let v = NoteVerifier::parse(GO_VKEY).unwrap();
        assert_eq!(open_note(&note, &[v]).unwrap().1.len(), 1);
        let stranger = NoteSigner::new("stranger", ED25519, [9; 32])
            .unwrap()
            .verifier();
        assert!(matches!(
            open_note(&note, &[stranger]),
            Err(LogError::NoVerifiedSignature)
        ));
    }

    #[test]
    fn malformed_notes_are_rejected_without_panicking() {
        for bad in [
            "",
            "text\n",
            "text\n\n",
            "text\n\n— \n",
            "text\n\n- PeterNeumann AAAA\n",
            "text\n\n— PeterNeumann !!!\n",
            "text\n\n— PeterNeumann AAAA\n",
            "text\u{0}\n\n— a AAAAAAAA\n",
            "text\n\n— Peter+Neumann AAAAAAAA\n",
            "text\n\n— a AAAAAAAA",
        ] {
            assert!(parse_note(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn verifier_keys_reject_mismatched_ids_and_types() {
        assert!(
            NoteVerifier::parse(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
        assert!(
            NoteVerifier::parse(
                "PeterNeumann+c74f20a3+AhpcMQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
        assert!(NoteVerifier::parse("nonsense").is_err());
    }

    #[test]
    fn cosignatures_verify_with_timestamps() {
        let body = "example.com/log\n3\nqwertyuiopasdfghjklzxcvbnm1234567890ABCDEFG=\n";
        let cosigner = NoteSigner::new("witness.example/w1", COSIGNATURE_V1, [3; 32]).unwrap();
        let log = NoteSigner::new("example.com/log", ED25519, [4; 32]).unwrap();
        let note = format!(
            "{}{}",
            log.sign_note(body).unwrap(),
            cosigner.signature_line(body, Some(1_700_000_000)).unwrap()
        );
        let (_, sigs) = open_note(&note, &[log.verifier(), cosigner.verifier()]).unwrap();
        assert_eq!(sigs.len(), 2);
        assert_eq!(sigs[1].timestamp, Some(1_700_000_000));
        // A cosignature key id uses type 0x04, so the same key as a plain
        // Ed25519 verifier does not match it.
        assert_ne!(
            cosigner.key_id(),
            key_id(
                "witness.example/w1",
                ED25519,
                cosigner.verifier().public_key().as_bytes()
            )
        );
    }

    #[test]
    fn independent_implementation_verifies_our_notes() {
        // signed_note is Cloudflare's port of Go's sumdb/note.
        use signed_note::{Note, StandardVerifier, VerifierList};
        let signer = NoteSigner::new("liaison/us/test", ED25519, [5; 32]).unwrap();
        let note = signer
            .sign_note("liaison/us/test\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
            .unwrap();
        let verifier = StandardVerifier::new(&signer.verifier().to_encoded()).unwrap();
        let parsed = Note::from_bytes(note.as_bytes()).unwrap();
        let (verified, _) = parsed
            .verify(&VerifierList::new(vec![Box::new(verifier)]))
            .unwrap();
        assert_eq!(verified.len(), 1);
    }
}
