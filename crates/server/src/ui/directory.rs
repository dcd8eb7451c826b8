//! The directory page: every party this node knows of, with its latest
//! published entry (card, 24/7 contacts, kinds accepted), who witnessed it,
//! and whether this node pins it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::layout::{Layout, internal};
use super::{UiState, Visitor, html};

/// One party of the directory as the page shows it.
pub struct PartyLine {
    pub party: String,
    pub name: String,
    pub kind: String,
    pub jurisdiction: String,
    pub versions: usize,
    pub published: String,
    pub witnesses: String,
    /// `self`, `pinned`, `other_card` or `not_pinned` (for the label).
    pub pinned: &'static str,
    pub fingerprint: String,
    /// Its first 16 hex digits (the whole one is in the title).
    pub fingerprint_short: String,
    pub accepts: String,
    /// Name, role, hours, phone, e-mail, languages.
    pub contacts: Vec<(String, String, String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    l: Layout,
    parties: Vec<PartyLine>,
}

pub(super) async fn directory(State(state): State<UiState>, v: Visitor) -> Response {
    let t = v.t;
    let listing = match state.node.directory() {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let parties = listing
        .into_iter()
        .map(|l| {
            let card = &l.entry.card;
            PartyLine {
                kind: t
                    .get(&format!(
                        "directory.kind_{}",
                        card.kind.map_or("authority", |k| k.as_str())
                    ))
                    .to_owned(),
                jurisdiction: card.jurisdiction.clone().unwrap_or_default(),
                name: card.name.clone(),
                versions: l.versions,
                published: l.entry.published.clone(),
                witnesses: l.witnesses.join(", "),
                pinned: match (l.source.as_str(), l.pinned, l.pinned_same_card) {
                    ("self", _, _) => "self",
                    (_, true, true) => "pinned",
                    (_, true, false) => "other_card",
                    _ => "not_pinned",
                },
                fingerprint: card.tls_fingerprint.clone(),
                fingerprint_short: card.tls_fingerprint.chars().take(16).collect(),
                accepts: l
                    .entry
                    .accepts
                    .iter()
                    .map(|k| t.kind(k))
                    .collect::<Vec<_>>()
                    .join(", "),
                contacts: l
                    .entry
                    .contacts
                    .iter()
                    .map(|c| {
                        (
                            c.name.clone(),
                            c.role.clone(),
                            c.hours.clone(),
                            c.phone.clone(),
                            c.email.clone(),
                            c.languages.join(", "),
                        )
                    })
                    .collect(),
                party: l.party,
            }
        })
        .collect();
    html(
        StatusCode::OK,
        &DirectoryPage {
            l: Layout::new(&state, &v, "directory"),
            parties,
        },
    )
}
