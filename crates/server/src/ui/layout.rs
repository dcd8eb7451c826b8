//! The frame every page shares (layout, signed-in user, what the menu
//! offers) and the refusal pages: forbidden, not found, internal error.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use liaison_core::roles::Permission;
use liaison_node::users::User;

use super::i18n::Tr;
use super::{UiState, Visitor, html};

/// What every page's frame shows.
pub struct Layout {
    pub t: Tr,
    pub user: Option<User>,
    pub csrf: String,
    pub party: String,
    pub node_name: String,
    pub active: &'static str,
}

impl Layout {
    pub(super) fn new(state: &UiState, v: &Visitor, active: &'static str) -> Layout {
        Layout {
            t: v.t,
            user: v.user.clone(),
            csrf: v.csrf.clone(),
            party: state.node.party().to_string(),
            node_name: state.node.config().node.name.clone(),
            active,
        }
    }

    /// Whether the signed-in user may see a section (for the navigation).
    pub fn can(&self, what: &str) -> bool {
        let Some(u) = &self.user else { return false };
        u.role.allows(match what {
            "cases" => Permission::ReadCases,
            "operations" => Permission::ReadOperations,
            "reference" => Permission::ReadReference,
            "users" => Permission::ManageUsers,
            "hashes" => Permission::MatchHashes,
            _ => Permission::ReadAggregates,
        })
    }

    pub fn user_label(&self) -> String {
        self.user
            .as_ref()
            .map(|u| format!("{} ({})", u.username, self.t.role(u.role.as_str())))
            .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "forbidden.html")]
pub(super) struct ForbiddenPage {
    l: Layout,
}

pub fn forbidden(v: &Visitor) -> Response {
    let l = Layout {
        t: v.t,
        user: v.user.clone(),
        csrf: v.csrf.clone(),
        party: String::new(),
        node_name: String::new(),
        active: "",
    };
    html(StatusCode::FORBIDDEN, &ForbiddenPage { l })
}

pub(super) fn not_found(state: &UiState, v: &Visitor) -> Response {
    html(
        StatusCode::NOT_FOUND,
        &NotFoundPage {
            l: Layout::new(state, v, ""),
        },
    )
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub(super) struct NotFoundPage {
    l: Layout,
}

pub(super) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!("page failed: {e}");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}
