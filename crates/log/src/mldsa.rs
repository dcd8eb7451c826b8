//! ML-DSA-44 cosignatures (c2sp.org/tlog-cosignature): a witness's
//! statement about a checkpoint that survives quantum computers. Unlike the
//! Ed25519 type it signs a binary `cosigned_message` — the cosigner's name,
//! the time, the log's origin, the tree's size and root — not the note text,
//! so extension lines are outside it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ml_dsa::{EncodedVerifyingKey, Keypair as _, MlDsa44, Signature, SigningKey, VerifyingKey};

use crate::LogError;
use crate::checkpoint::Checkpoint;
use crate::note::{NoteSignature, SignerKeyText, check_key_name, key_id, split_key};

/// The key-ID algorithm byte of ML-DSA-44 cosignatures.
pub const ML_DSA_44: u8 = 0x06;
/// Bytes of an ML-DSA-44 public key.
pub const PUBLIC_KEY_BYTES: usize = 1312;
/// Bytes of an ML-DSA-44 signature.
pub const SIGNATURE_BYTES: usize = 2420;
const LABEL: &[u8; 12] = b"subtree/v1\n\0";

/// The signed message: `cosigned_message` of a checkpoint (start 0, end the
/// tree size).
pub fn cosigned_message(
    cosigner: &str,
    timestamp: u64,
    checkpoint: &Checkpoint,
) -> Result<Vec<u8>, LogError> {
    let name = short_field(cosigner, "cosigner name")?;
    let origin = short_field(&checkpoint.origin, "log origin")?;
    let mut m = Vec::with_capacity(12 + 2 + name.len() + origin.len() + 8 * 3 + 32);
    m.extend_from_slice(LABEL);
    m.push(name.len() as u8);
    m.extend_from_slice(name);
    m.extend_from_slice(&timestamp.to_be_bytes());
    m.push(origin.len() as u8);
    m.extend_from_slice(origin);
    m.extend_from_slice(&0u64.to_be_bytes());
    m.extend_from_slice(&checkpoint.size.to_be_bytes());
    m.extend_from_slice(&checkpoint.root.0);
    Ok(m)
}

/// A field of 1 to 255 bytes (`opaque <1..2^8-1>`).
fn short_field<'a>(value: &'a str, what: &str) -> Result<&'a [u8], LogError> {
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 {
        return Err(LogError::MalformedNote(format!(
            "the {what} must be 1 to 255 bytes"
        )));
    }
    Ok(bytes)
}

/// A witness's ML-DSA-44 key, derived from a 32-byte seed (FIPS 204
/// `ML-DSA.KeyGen_internal`).
pub struct MlDsaCosigner {
    name: String,
    key: SigningKey<MlDsa44>,
    public: Box<[u8; PUBLIC_KEY_BYTES]>,
    key_id: u32,
}

impl std::fmt::Debug for MlDsaCosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MlDsaCosigner({}+{:08x})", self.name, self.key_id)
    }
}

impl MlDsaCosigner {
    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x06 ‖ seed)>`: the
    /// signer-key text of Go's `sumdb/note` with the ML-DSA-44 type byte
    /// and the 32-byte FIPS 204 seed as key material.
    pub fn parse(encoded: &str) -> Result<MlDsaCosigner, LogError> {
        let key = SignerKeyText::parse(encoded, "ML-DSA-44 signer key")?;
        if key.sig_type != ML_DSA_44 {
            return Err(LogError::MalformedKey(
                "ML-DSA-44 signer key: the type byte is not 0x06 (ML-DSA-44)".into(),
            ));
        }
        let signer = MlDsaCosigner::new(key.name, key.seed)?;
        key.check_id(signer.key_id)?;
        Ok(signer)
    }

    /// The encoding [`MlDsaCosigner::parse`] reads. Secret: store it mode 0600.
    pub fn to_encoded(&self) -> String {
        let mut material = vec![ML_DSA_44];
        material.extend_from_slice(self.key.to_seed().as_slice());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(material)
        )
    }

    pub fn new(name: &str, seed: [u8; 32]) -> Result<MlDsaCosigner, LogError> {
        check_key_name(name)?;
        let key = SigningKey::<MlDsa44>::from_seed(&seed.into());
        let encoded = key.verifying_key().encode();
        let public: Box<[u8; PUBLIC_KEY_BYTES]> =
            Box::new(encoded.as_slice().try_into().map_err(|_| {
                LogError::MalformedKey("an ML-DSA-44 key of the wrong size".into())
            })?);
        Ok(MlDsaCosigner {
            key_id: key_id(name, ML_DSA_44, public.as_slice()),
            name: name.to_owned(),
            key,
            public,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> &[u8; PUBLIC_KEY_BYTES] {
        &self.public
    }

    pub fn verifier(&self) -> MlDsaVerifier {
        MlDsaVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            key_id: self.key_id,
        }
    }

    /// The note signature line cosigning `checkpoint` at `timestamp`.
    ///
    /// Signed with the deterministic variant of FIPS 204 (pure ML-DSA,
    /// empty context): a witness's cosignature depends only on its key and
    /// the message, with no randomness to fail or leak at signing time.
    pub fn cosign(&self, checkpoint: &Checkpoint, timestamp: u64) -> Result<String, LogError> {
        if timestamp > i64::MAX as u64 {
            return Err(LogError::MalformedNote("a timestamp past 2^63 - 1".into()));
        }
        let message = cosigned_message(&self.name, timestamp, checkpoint)?;
        let signature = self
            .key
            .expanded_key()
            .sign_deterministic(&message, &[])
            .map_err(|e| LogError::MalformedNote(format!("cannot sign: {e}")))?;
        let mut blob = Vec::with_capacity(8 + SIGNATURE_BYTES);
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(signature.encode().as_slice());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            blob,
        }
        .to_line())
    }
}

/// Checks ML-DSA-44 cosignatures of one cosigner.
#[derive(Clone)]
pub struct MlDsaVerifier {
    name: String,
    key: VerifyingKey<MlDsa44>,
    key_id: u32,
}

impl std::fmt::Debug for MlDsaVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MlDsaVerifier({}+{:08x})", self.name, self.key_id)
    }
}

impl PartialEq for MlDsaVerifier {
    fn eq(&self, other: &MlDsaVerifier) -> bool {
        self.to_encoded() == other.to_encoded()
    }
}

impl MlDsaVerifier {
    /// Parses a vkey `<name>+<hex id>+<base64(0x06 ‖ public key)>`.
    pub fn parse(encoded: &str) -> Result<MlDsaVerifier, LogError> {
        let bad = |why: &str| LogError::MalformedKey(format!("ML-DSA-44 verifier key: {why}"));
        let (name, id, material) =
            split_key(encoded.trim()).ok_or_else(|| bad("expected name+id+key"))?;
        let bytes = B64.decode(material).map_err(|_| bad("key is not base64"))?;
        let (&sig_type, public) = bytes.split_first().ok_or_else(|| bad("key is empty"))?;
        if sig_type != ML_DSA_44 {
            return Err(bad("the type byte is not 0x06 (ML-DSA-44)"));
        }
        let verifier = MlDsaVerifier::new(name, public)?;
        if verifier.key_id != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(verifier)
    }

    pub fn new(name: &str, public_key: &[u8]) -> Result<MlDsaVerifier, LogError> {
        check_key_name(name)?;
        let encoded = EncodedVerifyingKey::<MlDsa44>::try_from(public_key).map_err(|_| {
            LogError::MalformedKey(format!(
                "an ML-DSA-44 public key is {PUBLIC_KEY_BYTES} bytes, not {}",
                public_key.len()
            ))
        })?;
        Ok(MlDsaVerifier {
            key: VerifyingKey::decode(&encoded),
            key_id: key_id(name, ML_DSA_44, public_key),
            name: name.to_owned(),
        })
    }

    /// The public key as a vkey: `name+keyid+base64(0x06 || key)`.
    pub fn to_encoded(&self) -> String {
        let mut material = vec![ML_DSA_44];
        material.extend_from_slice(self.key.encode().as_slice());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(material))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Whether `signature` is this cosigner's and holds for `checkpoint`;
    /// the time it states.
    pub fn verify(
        &self,
        checkpoint: &Checkpoint,
        signature: &NoteSignature,
    ) -> Result<u64, LogError> {
        let bad = || LogError::BadSignature(self.name.clone());
        if signature.name != self.name || signature.key_id != self.key_id {
            return Err(bad());
        }
        if signature.blob.len() != 8 + SIGNATURE_BYTES {
            return Err(bad());
        }
        let (time, sig) = signature.blob.split_at(8);
        let timestamp = u64::from_be_bytes(time.try_into().map_err(|_| bad())?);
        if timestamp > i64::MAX as u64 {
            return Err(bad());
        }
        let sig = ml_dsa::EncodedSignature::<MlDsa44>::try_from(sig).map_err(|_| bad())?;
        let sig = Signature::<MlDsa44>::decode(&sig).ok_or_else(bad)?;
        let message = cosigned_message(&self.name, timestamp, checkpoint)?;
        if self.key.verify_with_context(&message, &[], &sig) {
            Ok(timestamp)
        } else {
            Err(bad())
        }
    }

    /// The time of this cosigner's signature among a note's lines.
    pub fn verify_any(
        &self,
        checkpoint: &Checkpoint,
        signatures: &[NoteSignature],
    ) -> Result<u64, LogError> {
        signatures
            .iter()
            .filter(|s| s.name == self.name && s.key_id == self.key_id)
            .find_map(|s| self.verify(checkpoint, s).ok())
            .ok_or(LogError::NoVerifiedSignature)
    }
}

#[cfg(test)]
mod tests;
