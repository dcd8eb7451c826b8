//! The key files of a node and the key changes on record: finishing or
//! dropping a change a crash interrupted, and which keys sign, present
//! and cosign now (with the replaced ones while an overlap lasts).

use std::path::Path;
use std::sync::Arc;

use liaison_core::keys::{ChangeKind, KeyChange, SignedKeyChange};
use liaison_log::mldsa::MlDsaCosigner;
use liaison_log::note::{NoteSigner, NoteVerifier};
use liaison_proto::NodeCard;
use liaison_store::keys as db;
use liaison_store::{LogSigners, Store};

use super::rows::{corrupt, parse_signed};
use crate::tls::{TlsIdentity, TlsSet};
use crate::{NodeDir, NodeError};

/// A node's last key change as recorded: the statement, what it says, and
/// the card it replaced. Every key file is settled against it.
pub(crate) type ParsedChange = (SignedKeyChange, KeyChange, NodeCard);

/// The node's last key change (none before its first).
pub(crate) fn last_change(store: &Store, party: &str) -> Result<Option<ParsedChange>, NodeError> {
    store
        .read(|c| db::of_party(c, party))?
        .last()
        .map(parse_signed)
        .transpose()
}

/// When a rotation's overlap ends (Unix seconds); none for other changes.
fn overlap_end(change: &KeyChange) -> Result<Option<i64>, NodeError> {
    match (&change.overlap_until, change.change) {
        (Some(until), ChangeKind::Rotation) => until
            .parse::<jiff::Timestamp>()
            .map(|t| Some(t.as_second()))
            .map_err(|_| corrupt(format!("overlap_until {until:?} is not a time"))),
        _ => Ok(None),
    }
}

fn read_signer(path: &Path) -> Result<NoteSigner, NodeError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| NodeError::io(format!("cannot read {}", path.display()), e))?;
    NoteSigner::parse(&text).map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))
}

fn rename(from: &Path, to: &Path) -> Result<(), NodeError> {
    std::fs::rename(from, to).map_err(|e| {
        NodeError::io(
            format!("cannot move {} to {}", from.display(), to.display()),
            e,
        )
    })
}

pub(super) fn remove_if_exists(path: &Path) -> Result<(), NodeError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NodeError::io(
            format!("cannot remove {}", path.display()),
            e,
        )),
    }
}

pub(super) fn sync_dir(dir: &Path) -> Result<(), NodeError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| NodeError::io(format!("cannot sync {}", dir.display()), e))
}

/// Brings the key files in line with the node's last committed key change
/// (finishing or dropping a rotation a crash interrupted) and returns the
/// keys that sign its log now.
pub(crate) fn settle_log_keys(
    dir: &NodeDir,
    expected: Option<&ParsedChange>,
) -> Result<LogSigners, NodeError> {
    let new_path = dir.pending_log_key();
    if new_path.exists() {
        let pending = read_signer(&new_path)?;
        let committed = expected
            .as_ref()
            .is_some_and(|(_, change, _)| change.card.log_key == pending.verifier().to_encoded());
        let current = read_signer(&dir.log_key())?;
        if committed && current.verifier().to_encoded() != pending.verifier().to_encoded() {
            rename(&dir.log_key(), &dir.previous_log_key())?;
            rename(&new_path, &dir.log_key())?;
        } else {
            // The rotation never committed (or was finished elsewhere).
            remove_if_exists(&new_path)?;
        }
        sync_dir(&dir.keys())?;
    }
    settle_recovery_key(dir, expected.map(|(_, change, _)| change))?;
    let current = read_signer(&dir.log_key())?;
    let Some((_, change, previous)) = expected else {
        return Ok(LogSigners::single(current));
    };
    if change.card.log_key != current.verifier().to_encoded() {
        return Err(corrupt(format!(
            "{} is not the log key of this node's last key change ({})",
            dir.log_key().display(),
            change.sequence
        )));
    }
    // Within the overlap the replaced key signs checkpoints too.
    let overlap = match overlap_end(change)? {
        Some(until) if dir.previous_log_key().exists() => {
            let old = read_signer(&dir.previous_log_key())?;
            (old.verifier().to_encoded() == previous.log_key).then_some((old, until))
        }
        _ => None,
    };
    Ok(LogSigners { current, overlap })
}

/// Brings the TLS files in line with the node's last committed key change
/// (finishing or dropping a TLS rotation a crash interrupted) and returns
/// its identities: the current one and, while a rotation's overlap lasts,
/// the one it replaced.
pub(crate) fn settle_tls(
    dir: &NodeDir,
    expected: Option<&ParsedChange>,
    post_quantum: bool,
) -> Result<TlsSet, NodeError> {
    let load = |cert: &Path, key: &Path| -> Result<Arc<TlsIdentity>, NodeError> {
        let mut identity = TlsIdentity::load(cert, key)?;
        identity.post_quantum = post_quantum;
        Ok(Arc::new(identity))
    };
    let (new_cert, new_key) = (dir.pending_tls_cert(), dir.pending_tls_key());
    if new_cert.exists() || new_key.exists() {
        let committed = new_cert.exists()
            && new_key.exists()
            && expected.is_some_and(|(_, change, _)| {
                load(&new_cert, &new_key)
                    .is_ok_and(|t| t.fingerprint_hex() == change.card.tls_fingerprint)
            });
        let current = load(&dir.tls_cert(), &dir.tls_key())?.fingerprint_hex();
        let moved = expected
            .as_ref()
            .is_some_and(|(_, change, _)| change.card.tls_fingerprint == current);
        if committed && !moved {
            rename(&dir.tls_cert(), &dir.previous_tls_cert())?;
            rename(&dir.tls_key(), &dir.previous_tls_key())?;
            rename(&new_cert, &dir.tls_cert())?;
            rename(&new_key, &dir.tls_key())?;
        } else {
            remove_if_exists(&new_cert)?;
            remove_if_exists(&new_key)?;
        }
        sync_dir(&dir.keys())?;
    }
    let current = load(&dir.tls_cert(), &dir.tls_key())?;
    let Some((_, change, previous_card)) = expected else {
        return Ok(TlsSet {
            current,
            previous: None,
        });
    };
    if change.card.tls_fingerprint != current.fingerprint_hex() {
        return Err(corrupt(format!(
            "{} is not the certificate of this node's last key change ({})",
            dir.tls_cert().display(),
            change.sequence
        )));
    }
    let previous = match overlap_end(change)? {
        Some(until)
            if dir.previous_tls_cert().exists()
                && previous_card.tls_fingerprint != change.card.tls_fingerprint =>
        {
            let old = load(&dir.previous_tls_cert(), &dir.previous_tls_key())?;
            (old.fingerprint_hex() == previous_card.tls_fingerprint).then_some((old, until))
        }
        _ => None,
    };
    Ok(TlsSet { current, previous })
}

/// Finishes or drops a recovery rotation a crash interrupted: the new
/// public half replaces `recovery.pub` only if the last committed change
/// names it.
fn settle_recovery_key(dir: &NodeDir, latest: Option<&KeyChange>) -> Result<(), NodeError> {
    let pending = dir.pending_recovery_public_key();
    if !pending.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&pending)
        .map_err(|e| NodeError::io(format!("cannot read {}", pending.display()), e))?;
    if latest.and_then(|c| c.card.recovery_key.as_deref()) == Some(text.trim()) {
        rename(&pending, &dir.recovery_public_key())?;
    } else {
        remove_if_exists(&pending)?;
    }
    sync_dir(&dir.keys())
}

/// The recovery key's public half on disk (none for a node made before
/// recovery keys).
pub(crate) fn read_recovery_key(dir: &NodeDir) -> Result<Option<NoteVerifier>, NodeError> {
    let path = dir.recovery_public_key();
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| NodeError::io(format!("cannot read {}", path.display()), e))?;
    NoteVerifier::parse(&text)
        .map(Some)
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))
}

/// One cosigner of a witness: its Ed25519 key and, for a witness made
/// since post-quantum cosignatures, its ML-DSA-44 key (one name, two keys).
#[derive(Clone, Debug)]
pub(crate) struct Cosigner {
    pub ed25519: NoteSigner,
    pub ml_dsa: Option<Arc<MlDsaCosigner>>,
}

/// A witness's cosigners: the current one and, while a rotation's overlap
/// lasts, the one it replaced (so that a party which still pins the old
/// keys keeps verifying).
#[derive(Clone, Debug)]
pub(crate) struct CosignerSet {
    pub current: Cosigner,
    /// The replaced cosigner and the end of its overlap (Unix seconds).
    pub previous: Option<(Cosigner, i64)>,
}

impl CosignerSet {
    /// The cosigners that sign at `now`, the current one first.
    pub fn signing(&self, now: i64) -> impl Iterator<Item = &Cosigner> {
        std::iter::once(&self.current).chain(
            self.previous
                .as_ref()
                .filter(|(_, until)| now <= *until)
                .map(|(c, _)| c),
        )
    }
}

fn read_cosigner(ed25519: &Path, ml_dsa: &Path) -> Result<Cosigner, NodeError> {
    let ml_dsa = if ml_dsa.exists() {
        let text = std::fs::read_to_string(ml_dsa)
            .map_err(|e| NodeError::io(format!("cannot read {}", ml_dsa.display()), e))?;
        Some(Arc::new(MlDsaCosigner::parse(&text).map_err(|e| {
            NodeError::Invalid(format!("{}: {e}", ml_dsa.display()))
        })?))
    } else {
        None
    };
    Ok(Cosigner {
        ed25519: read_signer(ed25519)?,
        ml_dsa,
    })
}

/// Whether `cosigner` holds the keys `card` names.
fn names(card: &NodeCard, cosigner: &Cosigner) -> bool {
    card.cosigner_key.as_deref() == Some(cosigner.ed25519.verifier().to_encoded().as_str())
        && card.cosigner_key_ml_dsa == cosigner.ml_dsa.as_ref().map(|k| k.verifier().to_encoded())
}

/// Brings a witness's cosigning key files in line with its last committed
/// key change (finishing or dropping a rotation a crash interrupted) and
/// returns its cosigners.
pub(crate) fn settle_cosigners(
    dir: &NodeDir,
    expected: Option<&ParsedChange>,
) -> Result<CosignerSet, NodeError> {
    let (new_ed, new_ml) = (
        dir.pending_cosigner_key(),
        dir.pending_ml_dsa_cosigner_key(),
    );
    let (ed, ml) = (dir.cosigner_key(), dir.ml_dsa_cosigner_key());
    if new_ed.exists() || new_ml.exists() {
        let committed = new_ed.exists()
            && expected.is_some_and(|(_, change, _)| {
                read_cosigner(&new_ed, &new_ml).is_ok_and(|c| names(&change.card, &c))
            });
        let moved = expected.is_some_and(|(_, change, _)| {
            read_cosigner(&ed, &ml).is_ok_and(|c| names(&change.card, &c))
        });
        if committed && !moved {
            rename(&ed, &dir.previous_cosigner_key())?;
            if ml.exists() {
                rename(&ml, &dir.previous_ml_dsa_cosigner_key())?;
            } else {
                remove_if_exists(&dir.previous_ml_dsa_cosigner_key())?;
            }
            rename(&new_ed, &ed)?;
            if new_ml.exists() {
                rename(&new_ml, &ml)?;
            }
        } else {
            remove_if_exists(&new_ed)?;
            remove_if_exists(&new_ml)?;
        }
        sync_dir(&dir.keys())?;
    }
    let current = read_cosigner(&ed, &ml)?;
    let Some((_, change, previous_card)) = expected else {
        return Ok(CosignerSet {
            current,
            previous: None,
        });
    };
    if !names(&change.card, &current) {
        return Err(corrupt(format!(
            "{} is not the cosigning key of this node's last key change ({})",
            ed.display(),
            change.sequence
        )));
    }
    let previous = match overlap_end(change)? {
        Some(until)
            if dir.previous_cosigner_key().exists()
                && previous_card.cosigner_key != change.card.cosigner_key =>
        {
            let old = read_cosigner(
                &dir.previous_cosigner_key(),
                &dir.previous_ml_dsa_cosigner_key(),
            )?;
            names(previous_card, &old).then_some((old, until))
        }
        _ => None,
    };
    Ok(CosignerSet { current, previous })
}
