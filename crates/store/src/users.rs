//! Users of a node and their API tokens.

use crate::Connection;
use rusqlite::{OptionalExtension, params};

use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UserRow {
    pub username: String,
    pub role: String,
    #[serde(skip)]
    pub password_hash: String,
    pub lang: String,
    pub created: String,
    pub disabled: bool,
    /// The most restrictive TLP level this user reads; `None`: the role's default.
    pub clearance: Option<String>,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        username: r.get("username")?,
        role: r.get("role")?,
        password_hash: r.get("password_hash")?,
        lang: r.get("lang")?,
        created: r.get("created")?,
        disabled: r.get("disabled")?,
        clearance: r.get("clearance")?,
    })
}

const COLUMNS: &str = "username, role, password_hash, lang, created, disabled, clearance";

/// Adds a user, or replaces the role, password and language of an existing one.
pub fn upsert(conn: &Connection, u: &UserRow) -> Result<bool, StoreError> {
    let existed = by_name(conn, &u.username)?.is_some();
    if existed {
        // A new password ends every session and token of the old one.
        end_sessions_of(conn, &u.username)?;
        conn.execute("DELETE FROM api_tokens WHERE username = ?1", [&u.username])?;
    }
    conn.execute(
        "INSERT INTO users (username, role, password_hash, lang, created, disabled) VALUES (?1, ?2, ?3, ?4, ?5, 0)
         ON CONFLICT (username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash,
             lang = excluded.lang, disabled = 0",
        params![u.username, u.role, u.password_hash, u.lang, u.created],
    )?;
    Ok(!existed)
}

/// Sets a user's TLP clearance (`None`: back to the role's default).
pub fn set_clearance(
    conn: &Connection,
    username: &str,
    clearance: Option<&str>,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE users SET clearance = ?2 WHERE username = ?1",
        params![username, clearance],
    )?;
    Ok(n > 0)
}

pub fn by_name(conn: &Connection, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE username = ?1"))?
        .query_row([username], from_row)
        .optional()?)
}

pub fn all(conn: &Connection) -> Result<Vec<UserRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))?;
    let rows = stmt.query_map([], from_row)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn add_token(
    conn: &Connection,
    token_sha256: &str,
    username: &str,
    label: &str,
    created: &str,
    expires: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO api_tokens (token_sha256, username, label, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_sha256, username, label, created, expires],
    )?;
    Ok(())
}

/// The enabled user an unexpired token hash belongs to.
pub fn by_token(
    conn: &Connection,
    token_sha256: &str,
    now: i64,
) -> Result<Option<UserRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT u.{} FROM api_tokens t JOIN users u ON u.username = t.username
             WHERE t.token_sha256 = ?1 AND u.disabled = 0 AND t.expires > ?2",
            COLUMNS.replace(", ", ", u.")
        ))?
        .query_row(params![token_sha256, now], from_row)
        .optional()?)
}

/// An API token as its owner and the operator see it (never the token).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TokenRow {
    /// The first 12 hex digits of the token's SHA-256: names it for `revoke`.
    pub id: String,
    pub label: String,
    pub created: String,
    pub expires: i64,
}

pub fn tokens_of(conn: &Connection, username: &str) -> Result<Vec<TokenRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT substr(token_sha256, 1, 12) AS id, label, created, coalesce(expires, 0) AS expires
         FROM api_tokens WHERE username = ?1 ORDER BY created",
    )?;
    let rows = stmt
        .query_map([username], |r| {
            Ok(TokenRow {
                id: r.get("id")?,
                label: r.get("label")?,
                created: r.get("created")?,
                expires: r.get("expires")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Revokes a user's tokens: the one whose id is given, or all; returns how many.
pub fn revoke_tokens(
    conn: &Connection,
    username: &str,
    id: Option<&str>,
) -> Result<usize, StoreError> {
    Ok(match id {
        Some(id) => conn.execute(
            "DELETE FROM api_tokens WHERE username = ?1 AND substr(token_sha256, 1, 12) = ?2",
            params![username, id],
        )?,
        None => conn.execute("DELETE FROM api_tokens WHERE username = ?1", [username])?,
    })
}

/// Disables (or enables) a user; disabling ends its sessions. Returns
/// whether the user exists.
pub fn set_disabled(conn: &Connection, username: &str, disabled: bool) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE users SET disabled = ?2 WHERE username = ?1",
        params![username, disabled],
    )?;
    if disabled {
        end_sessions_of(conn, username)?;
    }
    Ok(n > 0)
}

pub fn end_sessions_of(conn: &Connection, username: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE username = ?1", [username])?;
    Ok(())
}

/// A browser session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub username: String,
    pub csrf: String,
    pub expires: i64,
}

pub fn add_session(
    conn: &Connection,
    id_sha256: &str,
    username: &str,
    csrf: &str,
    created: &str,
    expires: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (id_sha256, username, csrf, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id_sha256, username, csrf, created, expires],
    )?;
    // Expired sessions are swept when new ones start.
    conn.execute(
        "DELETE FROM sessions WHERE expires < ?1",
        [expires - 30 * 86_400],
    )?;
    Ok(())
}

pub fn session(
    conn: &Connection,
    id_sha256: &str,
    now: i64,
) -> Result<Option<SessionRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT s.username, s.csrf, s.expires FROM sessions s JOIN users u ON u.username = s.username
             WHERE s.id_sha256 = ?1 AND s.expires > ?2 AND u.disabled = 0",
        )?
        .query_row(params![id_sha256, now], |r| Ok(SessionRow { username: r.get("username")?, csrf: r.get("csrf")?, expires: r.get("expires")? }))
        .optional()?)
}

pub fn end_session(conn: &Connection, id_sha256: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE id_sha256 = ?1", [id_sha256])?;
    Ok(())
}

pub fn set_lang(conn: &Connection, username: &str, lang: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET lang = ?2 WHERE username = ?1",
        params![username, lang],
    )?;
    Ok(())
}
