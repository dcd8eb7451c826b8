//! C2SP tlog-checkpoint: the note text `origin\nsize\nbase64(root)\n` plus
//! optional extension lines.

use crate::LogError;
use crate::hash::Hash;
use crate::note::{NoteSigner, NoteVerifier, VerifiedSignature, open_note};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    pub fn new(origin: &str, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text (what is signed).
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses checkpoint note text.
    pub fn parse_text(text: &str) -> Result<Checkpoint, LogError> {
        let bad = |why: &str| LogError::MalformedCheckpoint(why.to_owned());
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("the text does not end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| bad("no origin line"))?;
        let size_line = lines.next().ok_or_else(|| bad("no tree size line"))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(bad("the tree size is not a decimal without leading zeros"));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| bad("the tree size is too large"))?;
        let root_line = lines.next().ok_or_else(|| bad("no root hash line"))?;
        let root = Hash::from_base64(root_line)
            .map_err(|_| bad("the root hash is not 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("an extension line is empty"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint with the log key: the signed note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, LogError> {
        signer.sign_note(&self.to_text())
    }

    /// Opens a signed checkpoint note: it must carry a valid signature by
    /// `log_key` and name `log_key`'s name as origin. Cosigners in `witnesses`
    /// are verified too; their verified signatures are returned.
    pub fn open(
        note: &str,
        log_key: &NoteVerifier,
        witnesses: &[NoteVerifier],
    ) -> Result<(Checkpoint, Vec<VerifiedSignature>), LogError> {
        let mut known = vec![log_key.clone()];
        known.extend(witnesses.iter().cloned());
        let (text, sigs) = open_note(note, &known)?;
        if !sigs
            .iter()
            .any(|s| s.name == log_key.name() && s.key_id == log_key.key_id())
        {
            return Err(LogError::NoVerifiedSignature);
        }
        let cp = Checkpoint::parse_text(&text)?;
        if cp.origin != log_key.name() {
            return Err(LogError::MalformedCheckpoint(format!(
                "origin {:?} is not the log key's name {:?}",
                cp.origin,
                log_key.name()
            )));
        }
        let cosigs = sigs.into_iter().filter(|s| s.timestamp.is_some()).collect();
        Ok((cp, cosigs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::ED25519;

    #[test]
    fn spec_example_text_parses() {
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let cp = Checkpoint::parse_text(text).unwrap();
        assert_eq!(cp.origin, "example.com/behind-the-sofa");
        assert_eq!(cp.size, 20852163);
        assert_eq!(cp.to_text(), text);
    }

    #[test]
    fn independent_implementation_parses_our_text() {
        let cp = Checkpoint::new("liaison/us/0a1b2c3d", 42, crate::hash::leaf_hash(b"x"));
        let theirs = tlog_tiles::Checkpoint::from_bytes(cp.to_text().as_bytes()).unwrap();
        assert_eq!(theirs.origin(), cp.origin);
        assert_eq!(theirs.size(), 42);
        assert_eq!(theirs.hash().0, cp.root.0);
    }

    #[test]
    fn malformed_texts_are_refused() {
        for bad in [
            "",
            "origin\n",
            "origin\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
            "origin\n1\nCsUY\n",
            "origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
            "origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
            "origin\n99999999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        ] {
            assert!(Checkpoint::parse_text(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn signed_checkpoint_opens_only_with_its_key_and_origin() {
        let signer = NoteSigner::new("example.com/log", ED25519, [1; 32]).unwrap();
        let cp = Checkpoint::new("example.com/log", 5, Hash::empty_root());
        let note = cp.sign(&signer).unwrap();
        let (got, _) = Checkpoint::open(&note, &signer.verifier(), &[]).unwrap();
        assert_eq!(got, cp);
        let other = NoteSigner::new("example.com/log", ED25519, [2; 32]).unwrap();
        assert!(Checkpoint::open(&note, &other.verifier(), &[]).is_err());
        let misnamed = NoteSigner::new("example.com/other", ED25519, [1; 32]).unwrap();
        let note = cp.sign(&misnamed).unwrap();
        assert!(Checkpoint::open(&note, &misnamed.verifier(), &[]).is_err());
    }
}
