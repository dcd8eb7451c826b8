//! C2SP tlog-proof: an offline-verifiable proof that an entry is in a log —
//! Liaison's receipt format.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <N>
//! <base64 hash>…
//!
//! <signed checkpoint>
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::LogError;
use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::note::{NoteVerifier, VerifiedSignature};
use crate::tree::verify_inclusion;

const HEADER: &str = "c2sp.org/tlog-proof@v1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub inclusion: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

impl TlogProof {
    pub fn encode(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.inclusion {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    pub fn parse(text: &str) -> Result<TlogProof, LogError> {
        let bad = |why: &str| LogError::MalformedProof(why.to_owned());
        let rest = text
            .strip_prefix(HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or_else(|| bad("it does not start with c2sp.org/tlog-proof@v1"))?;
        let (head, checkpoint) = rest
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n').peekable();
        let mut extra = None;
        if let Some(line) = lines.peek()
            && let Some(b64) = line.strip_prefix("extra ")
        {
            extra = Some(B64.decode(b64).map_err(|_| bad("extra is not base64"))?);
            lines.next();
        }
        let index_line = lines.next().ok_or_else(|| bad("no index line"))?;
        let index_str = index_line
            .strip_prefix("index ")
            .ok_or_else(|| bad("no index line"))?;
        if index_str.is_empty()
            || !index_str.bytes().all(|b| b.is_ascii_digit())
            || (index_str.len() > 1 && index_str.starts_with('0'))
        {
            return Err(bad("the index is not a decimal without leading zeros"));
        }
        let index: u64 = index_str
            .parse()
            .map_err(|_| bad("the index is too large"))?;
        let inclusion = lines
            .map(|l| Hash::from_base64(l).map_err(|_| bad("a proof line is not a base64 hash")))
            .collect::<Result<Vec<_>, _>>()?;
        if inclusion.len() > 64 {
            return Err(bad("the inclusion proof is longer than 64 hashes"));
        }
        Ok(TlogProof {
            extra,
            index,
            inclusion,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Verifies that the entry whose leaf hash is `leaf` is at `index` in
    /// the checkpoint signed by `log_key`; returns the checkpoint and any
    /// verified cosignatures.
    pub fn verify(
        &self,
        leaf: &Hash,
        log_key: &NoteVerifier,
        witnesses: &[NoteVerifier],
    ) -> Result<(Checkpoint, Vec<VerifiedSignature>), LogError> {
        let (cp, cosigs) = Checkpoint::open(&self.checkpoint, log_key, witnesses)?;
        verify_inclusion(self.index, cp.size, leaf, &self.inclusion, &cp.root)?;
        Ok((cp, cosigs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontier::Frontier;
    use crate::hash::leaf_hash;
    use crate::note::{ED25519, NoteSigner};
    use crate::tree::{NodeReader, inclusion_proof};
    use std::collections::HashMap;

    fn log_of(n: u32) -> (HashMap<(u8, u64), Hash>, Frontier) {
        let mut nodes = HashMap::new();
        let mut f = Frontier::new();
        for i in 0..n {
            f.append(leaf_hash(&i.to_be_bytes()), |x| {
                nodes.insert((x.level, x.index), x.hash);
            });
        }
        (nodes, f)
    }

    #[test]
    fn receipt_round_trips_and_verifies() {
        let (nodes, f) = log_of(13);
        let reader = |l: u8, i: u64| {
            nodes
                .get(&(l, i))
                .copied()
                .ok_or(LogError::MissingNode { level: l, index: i })
        };
        let signer = NoteSigner::new("example.com/log", ED25519, [8; 32]).unwrap();
        let cp = Checkpoint::new("example.com/log", 13, f.root());
        let proof = TlogProof {
            extra: Some(b"hello".to_vec()),
            index: 6,
            inclusion: inclusion_proof(&reader as &dyn NodeReader, 6, 13).unwrap(),
            checkpoint: cp.sign(&signer).unwrap(),
        };
        let text = proof.encode();
        let parsed = TlogProof::parse(&text).unwrap();
        assert_eq!(parsed, proof);
        parsed
            .verify(&leaf_hash(&6u32.to_be_bytes()), &signer.verifier(), &[])
            .unwrap();
        assert!(
            parsed
                .verify(&leaf_hash(&7u32.to_be_bytes()), &signer.verifier(), &[])
                .is_err()
        );
    }

    #[test]
    fn malformed_proofs_are_refused() {
        for bad in [
            "",
            "c2sp.org/tlog-proof@v1\n",
            "c2sp.org/tlog-proof@v1\nindex 01\n\nx",
            "c2sp.org/tlog-proof@v1\nindex x\n\nx",
            "c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\nx",
            "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx",
        ] {
            assert!(TlogProof::parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
