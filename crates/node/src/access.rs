//! Who may read what a marking covers: the rule every read path applies
//! (a leaf, so that each module enforcing it can use it).

use liaison_store::federation::CaseRow;

use crate::users::User;

/// Whether `user` may read a case with this marking.
pub fn may_read(user: &User, case: &CaseRow) -> bool {
    case.tlp.visible_to(user.clearance)
}

/// The markings `user` may read, as stored in `cases.tlp`.
pub fn readable_levels(user: &User) -> Vec<&'static str> {
    liaison_core::tlp::ALL_LEVELS
        .iter()
        .filter(|l| l.visible_to(user.clearance))
        .map(|l| l.as_str())
        .collect()
}
