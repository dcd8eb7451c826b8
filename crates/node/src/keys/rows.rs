//! Reading a chain of key changes as stored: a row's statement and the
//! card it replaced, and which rotations' overlaps are still open.

use liaison_core::keys::{ChangeKind, KeyChange, SignedKeyChange};
use liaison_proto::NodeCard;
use liaison_store::StoreError;
use liaison_store::keys::KeyChangeRow;

use crate::NodeError;

pub(crate) fn corrupt(what: String) -> NodeError {
    NodeError::Store(StoreError::Corrupt(what))
}

pub(crate) fn parse_signed(
    row: &KeyChangeRow,
) -> Result<(SignedKeyChange, KeyChange, NodeCard), NodeError> {
    let bad = |e: String| {
        corrupt(format!(
            "stored key change {} of {}: {e}",
            row.sequence, row.party
        ))
    };
    let signed: SignedKeyChange =
        serde_json::from_str(&row.signed).map_err(|e| bad(e.to_string()))?;
    let change: KeyChange =
        serde_json::from_str(&signed.statement).map_err(|e| bad(e.to_string()))?;
    let previous: NodeCard =
        serde_json::from_str(&row.previous_card).map_err(|e| bad(e.to_string()))?;
    Ok((signed, change, previous))
}

/// The rotations of one party's chain (`rows`, in the order recorded)
/// whose overlap has not ended at `now`. A revocation ends every overlap
/// before it: whatever the revoked key rotated to (a thief's rotation
/// included) is refused at once.
pub(crate) fn open_overlaps(
    rows: &[KeyChangeRow],
    now: jiff::Timestamp,
) -> impl Iterator<Item = &KeyChangeRow> {
    let after_revocation = rows
        .iter()
        .rposition(|r| r.kind == ChangeKind::Revocation.as_str())
        .map_or(0, |i| i + 1);
    rows[after_revocation..].iter().filter(move |row| {
        row.kind == ChangeKind::Rotation.as_str()
            && row
                .overlap_until
                .as_deref()
                .and_then(|u| u.parse::<jiff::Timestamp>().ok())
                .is_some_and(|until| now <= until)
    })
}
