//! Users: argon2id passwords, roles, and API tokens (only their SHA-256 is
//! stored).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use liaison_core::roles::Role;
use liaison_core::tlp::Tlp;
use liaison_log::Hash;
use liaison_store::users::{self, UserRow};

use crate::{Node, NodeError, now_rfc3339};

/// A signed-in user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub role: Role,
    pub lang: String,
    /// The most restrictive TLP marking this user may read.
    pub clearance: Tlp,
}

fn check_username(name: &str) -> Result<(), NodeError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(NodeError::Invalid(format!(
            "username {name:?} must be 1 to 64 characters of a-z, 0-9, '.', '_' or '-'"
        )))
    }
}

fn hash_password(password: &str) -> Result<String, NodeError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| NodeError::Invalid(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| NodeError::Invalid(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| NodeError::Invalid(format!("cannot hash the password: {e}")))?
        .to_string())
}

fn to_user(row: UserRow) -> Option<User> {
    let role = Role::parse(&row.role).ok()?;
    // A stored clearance that no longer parses falls back to the strictest.
    let clearance = match row.clearance.as_deref() {
        None => role.default_clearance(),
        Some(c) => Tlp::parse(c).unwrap_or(Tlp::Clear),
    };
    Some(User {
        role,
        username: row.username,
        lang: row.lang,
        clearance,
    })
}

impl Node {
    /// Adds a user (or resets an existing user's role, password and language).
    pub async fn add_user(
        &self,
        username: &str,
        role: &str,
        password: &str,
        lang: &str,
    ) -> Result<bool, NodeError> {
        check_username(username)?;
        let role = Role::parse(role)?;
        if password.chars().count() < 12 {
            return Err(NodeError::Invalid(
                "the password must have at least 12 characters".into(),
            ));
        }
        if !matches!(lang, "en" | "ru") {
            return Err(NodeError::Invalid("lang must be \"en\" or \"ru\"".into()));
        }
        let row = UserRow {
            username: username.to_owned(),
            role: role.as_str().to_owned(),
            password_hash: hash_password(password)?,
            lang: lang.to_owned(),
            created: now_rfc3339(),
            disabled: false,
            clearance: None,
        };
        Ok(self
            .store
            .write(move |tx| users::upsert(tx.conn(), &row))
            .await?
            .value)
    }

    /// Sets the TLP clearance of a user (`None`: the role's default).
    pub async fn set_user_clearance(
        &self,
        username: &str,
        clearance: Option<Tlp>,
    ) -> Result<(), NodeError> {
        let (u, c) = (
            username.to_owned(),
            clearance.map(|c| c.as_str().to_owned()),
        );
        let found = self
            .store
            .write(move |tx| users::set_clearance(tx.conn(), &u, c.as_deref()))
            .await?
            .value;
        if !found {
            return Err(NodeError::Invalid(format!(
                "no user {username}; add one with `liaison user add`"
            )));
        }
        Ok(())
    }

    /// The user with this name and password, if both match.
    pub fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, NodeError> {
        let Some(row) = self.store.read(|c| users::by_name(c, username))? else {
            // Spend the same time as a real check: no user enumeration by timing.
            if let Some(h) = DUMMY.as_deref().and_then(|h| PasswordHash::new(h).ok()) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &h);
            }
            return Ok(None);
        };
        if row.disabled {
            return Ok(None);
        }
        let Ok(parsed) = PasswordHash::new(&row.password_hash) else {
            return Ok(None);
        };
        if Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Ok(None);
        }
        Ok(to_user(row))
    }

    /// Creates an API token for a user; the token is shown once.
    pub async fn create_token(&self, username: &str, label: &str) -> Result<String, NodeError> {
        if self.store.read(|c| users::by_name(c, username))?.is_none() {
            return Err(NodeError::Invalid(format!(
                "no user {username}; add one with `liaison user add`"
            )));
        }
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| NodeError::Invalid(format!("no randomness: {e}")))?;
        let token = format!("lia_{}", B64URL.encode(raw));
        let digest = Hash::of_content(token.as_bytes()).to_hex();
        let (user, label, now) = (username.to_owned(), label.to_owned(), now_rfc3339());
        self.store
            .write(move |tx| users::add_token(tx.conn(), &digest, &user, &label, &now))
            .await?;
        Ok(token)
    }

    /// The user an API token belongs to.
    pub fn user_by_token(&self, token: &str) -> Result<Option<User>, NodeError> {
        let digest = Hash::of_content(token.as_bytes()).to_hex();
        Ok(self
            .store
            .read(|c| users::by_token(c, &digest))?
            .and_then(to_user))
    }

    pub fn user(&self, username: &str) -> Result<Option<User>, NodeError> {
        Ok(self
            .store
            .read(|c| users::by_name(c, username))?
            .filter(|r| !r.disabled)
            .and_then(to_user))
    }
}

/// A real hash of a throwaway password: checking against it costs what a
/// real check costs.
static DUMMY: std::sync::LazyLock<Option<String>> =
    std::sync::LazyLock::new(|| hash_password("not a real password, only for timing").ok());

/// How long a browser session lasts.
pub const SESSION_SECS: i64 = 12 * 3600;

impl Node {
    /// Starts a session for a user: returns the cookie value and the CSRF token.
    pub async fn start_session(&self, username: &str) -> Result<(String, String), NodeError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| NodeError::Invalid(format!("no randomness: {e}")))?;
        let cookie = B64URL.encode(raw);
        getrandom::fill(&mut raw).map_err(|e| NodeError::Invalid(format!("no randomness: {e}")))?;
        let csrf = B64URL.encode(raw);
        let digest = Hash::of_content(cookie.as_bytes()).to_hex();
        let expires = jiff::Timestamp::now().as_second() + SESSION_SECS;
        let (user, token, now) = (username.to_owned(), csrf.clone(), now_rfc3339());
        self.store
            .write(move |tx| users::add_session(tx.conn(), &digest, &user, &token, &now, expires))
            .await?;
        Ok((cookie, csrf))
    }

    /// The user and CSRF token of a live session.
    pub fn session(&self, cookie: &str) -> Result<Option<(User, String)>, NodeError> {
        let digest = Hash::of_content(cookie.as_bytes()).to_hex();
        let now = jiff::Timestamp::now().as_second();
        let Some(s) = self.store.read(|c| users::session(c, &digest, now))? else {
            return Ok(None);
        };
        Ok(self.user(&s.username)?.map(|u| (u, s.csrf)))
    }

    pub async fn end_session(&self, cookie: &str) -> Result<(), NodeError> {
        let digest = Hash::of_content(cookie.as_bytes()).to_hex();
        self.store
            .write(move |tx| users::end_session(tx.conn(), &digest))
            .await?;
        Ok(())
    }

    pub async fn set_user_lang(&self, username: &str, lang: &str) -> Result<(), NodeError> {
        if !matches!(lang, "en" | "ru") {
            return Err(NodeError::Invalid("lang must be \"en\" or \"ru\"".into()));
        }
        let (u, l) = (username.to_owned(), lang.to_owned());
        self.store
            .write(move |tx| users::set_lang(tx.conn(), &u, &l))
            .await?;
        Ok(())
    }
}
