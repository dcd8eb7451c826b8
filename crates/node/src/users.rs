//! Users: argon2id passwords, roles, and API tokens (only their SHA-256 is
//! stored).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use liaison_core::roles::Role;
use liaison_core::tlp::Tlp;
use liaison_log::Hash;
use liaison_store::users::{self, UserRow};

use crate::throttle::{Limit, Throttle};
use crate::{Node, NodeError, now_rfc3339};

/// Why a sign-in did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("too many failed sign-ins from this address: try again later")]
    TooMany,
    #[error("the node is busy checking passwords: try again shortly")]
    Busy,
    #[error("wrong user name or password")]
    Wrong,
    #[error("{0}")]
    Failed(NodeError),
}

impl From<NodeError> for SignInError {
    fn from(e: NodeError) -> SignInError {
        SignInError::Failed(e)
    }
}

/// What bounds password checking: failure counts, the argon2id checks
/// running at once, and the remembered recent HTTP Basic successes.
#[derive(Clone)]
pub struct Guard {
    pub throttle: Throttle,
    password_workers: std::sync::Arc<crate::workers::Workers>,
    salt: [u8; 32],
    remembered: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<[u8; 32], Remembered>>>,
}

#[derive(Clone)]
struct Remembered {
    username: String,
    /// The stored hash at the time: a changed password forgets it.
    password_hash: String,
    until: std::time::Instant,
}

/// Most remembered Basic successes (the map is emptied when full).
const MAX_REMEMBERED: usize = 4096;
const REMEMBER_FOR: std::time::Duration = std::time::Duration::from_secs(300);

/// The argon2id workers of this process. Each keeps its 19 MiB of working
/// memory for the next check: at most `limits.password_checks` at once, on
/// their own threads, and a short queue (more waiting is refused). Nodes in
/// one process (the demo, tests) share them, so the memory held does not
/// grow with the number of nodes; the first node's limit sizes them.
fn password_workers(
    limits: &crate::config::LimitsSection,
) -> std::sync::Arc<crate::workers::Workers> {
    static WORKERS: std::sync::OnceLock<std::sync::Arc<crate::workers::Workers>> =
        std::sync::OnceLock::new();
    WORKERS
        .get_or_init(|| {
            std::sync::Arc::new(crate::workers::Workers::new(
                "password",
                limits.password_checks.max(1) as usize,
                32,
            ))
        })
        .clone()
}

impl Guard {
    pub(crate) fn new(limits: &crate::config::LimitsSection) -> Result<Guard, NodeError> {
        Ok(Guard {
            throttle: Throttle::new(std::time::Duration::from_secs(
                limits.login_window_secs.max(1),
            )),
            password_workers: password_workers(limits),
            salt: crate::random_seed()?,
            remembered: Default::default(),
        })
    }

    fn remembered(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<[u8; 32], Remembered>> {
        // A poisoned map only means a panic elsewhere; dropping it is safe.
        self.remembered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remembered_key(&self, username: &str, password: &str) -> [u8; 32] {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(self.salt);
        h.update((username.len() as u64).to_be_bytes());
        h.update(username.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn recall(&self, node: &Node, key: &[u8; 32]) -> Result<Option<User>, NodeError> {
        let Some(r) = self.remembered().get(key).cloned() else {
            return Ok(None);
        };
        if r.until < std::time::Instant::now() {
            self.remembered().remove(key);
            return Ok(None);
        }
        let row = node.store.read(|c| users::by_name(c, &r.username))?;
        Ok(row
            .filter(|row| !row.disabled && row.password_hash == r.password_hash)
            .and_then(to_user))
    }

    fn remember(&self, node: &Node, key: [u8; 32], username: &str) -> Result<(), NodeError> {
        let Some(row) = node.store.read(|c| users::by_name(c, username))? else {
            return Ok(());
        };
        let mut map = self.remembered();
        if map.len() >= MAX_REMEMBERED {
            map.clear();
        }
        map.insert(
            key,
            Remembered {
                username: username.to_owned(),
                password_hash: row.password_hash,
                until: std::time::Instant::now() + REMEMBER_FOR,
            },
        );
        Ok(())
    }

    /// Forgets what is remembered of a user (its password or state changed).
    fn forget(&self, username: &str) {
        self.remembered().retain(|_, r| r.username != username);
    }
}

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

/// An argon2id hash (the crate's default parameters) as a PHC string,
/// computed in this thread's reused working memory like every check.
fn hash_password(password: &str) -> Result<String, NodeError> {
    let failed =
        |e: &dyn std::fmt::Display| NodeError::Invalid(format!("cannot hash the password: {e}"));
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| NodeError::Invalid(format!("no randomness: {e}")))?;
    let params = argon2::Params::default();
    let argon = Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.clone(),
    );
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    with_argon2_memory(params.block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
    })
    .map_err(|e| failed(&e))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: argon2::password_hash::ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(argon2::password_hash::Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
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
        // On the password workers: their argon2 memory is kept for reuse,
        // so no other thread ever holds a password hash's 19 MiB.
        let secret = password.to_owned();
        let password_hash = self
            .guard
            .password_workers
            .run(move || hash_password(&secret))
            .await
            .map_err(|e| NodeError::Invalid(format!("cannot hash the password now: {e}")))??;
        let row = UserRow {
            username: username.to_owned(),
            role: role.as_str().to_owned(),
            password_hash,
            lang: lang.to_owned(),
            created: now_rfc3339(),
            disabled: false,
            clearance: None,
        };
        let created = self
            .store
            .write(move |tx| users::upsert(tx.conn(), &row))
            .await?
            .value;
        self.guard.forget(username);
        Ok(created)
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

    /// Signs a user in from `client` (its address, as the listener saw it):
    /// within the failure limits per user name and client and per client,
    /// with at most `limits.password_checks` argon2id checks running at
    /// once. `basic`: the request is HTTP Basic, which scripts send with
    /// every request — a recent success is remembered (for five minutes,
    /// as a salted hash, until the password changes) so they do not cost a
    /// password check each.
    pub async fn sign_in(
        &self,
        client: &str,
        username: &str,
        password: &str,
        basic: bool,
    ) -> Result<User, SignInError> {
        let remembered = basic.then(|| self.guard.remembered_key(username, password));
        if let Some(key) = &remembered
            && let Some(user) = self.guard.recall(self, key)?
        {
            return Ok(user);
        }
        let limits = &self.config.limits;
        let user_key = format!("u:{username}|{client}");
        let client_key = format!("c:{client}");
        let attempt = self
            .guard
            .throttle
            .reserve(&[
                Limit {
                    what: &user_key,
                    max: limits.login_failures_per_user,
                },
                Limit {
                    what: &client_key,
                    max: limits.login_failures_per_client,
                },
            ])
            .ok_or(SignInError::TooMany)?;
        // No real user has such a name or password: no check needed.
        if username.len() > 64 || password.len() > 1024 {
            return Err(SignInError::Wrong);
        }
        let (node, u, p) = (self.clone(), username.to_owned(), password.to_owned());
        let checked = match self
            .guard
            .password_workers
            .run(move || node.check_password(&u, &p))
            .await
        {
            Ok(checked) => checked.map_err(SignInError::Failed)?,
            Err(_) => {
                // Nobody's fault that the node is busy: the place is given back.
                attempt.succeeded();
                return Err(SignInError::Busy);
            }
        };
        match checked {
            Some(user) => {
                attempt.succeeded();
                if let Some(key) = remembered {
                    self.guard.remember(self, key, &user.username)?;
                }
                Ok(user)
            }
            None => Err(SignInError::Wrong),
        }
    }

    /// The user with this name and password, if both match (argon2id:
    /// slow on purpose; callers go through [`Node::sign_in`]).
    pub(crate) fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, NodeError> {
        let Some(row) = self.store.read(|c| users::by_name(c, username))? else {
            // Spend the same time as a real check: no user enumeration by timing.
            if let Some(h) = DUMMY.as_deref() {
                let _ = verify_argon2(h, password);
            }
            return Ok(None);
        };
        if row.disabled || !verify_argon2(&row.password_hash, password) {
            return Ok(None);
        }
        Ok(to_user(row))
    }

    /// Creates an API token for a user, valid `accounts.token_days`; the
    /// token is shown once.
    pub async fn create_token(&self, username: &str, label: &str) -> Result<String, NodeError> {
        self.create_token_for_days(username, label, self.config.accounts.token_days)
            .await
    }

    /// Creates an API token valid `days` days (1 to 3650).
    pub async fn create_token_for_days(
        &self,
        username: &str,
        label: &str,
        days: u32,
    ) -> Result<String, NodeError> {
        if !(1..=3650).contains(&days) {
            return Err(NodeError::Invalid("a token is valid 1 to 3650 days".into()));
        }
        let expires = jiff::Timestamp::now().as_second() + i64::from(days) * 86_400;
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
            .write(move |tx| users::add_token(tx.conn(), &digest, &user, &label, &now, expires))
            .await?;
        Ok(token)
    }

    /// The user an unexpired API token belongs to.
    pub fn user_by_token(&self, token: &str) -> Result<Option<User>, NodeError> {
        let digest = Hash::of_content(token.as_bytes()).to_hex();
        let now = jiff::Timestamp::now().as_second();
        Ok(self
            .store
            .read(|c| users::by_token(c, &digest, now))?
            .and_then(to_user))
    }

    /// A user's tokens (ids, labels, expiry; never the tokens).
    pub fn tokens(&self, username: &str) -> Result<Vec<users::TokenRow>, NodeError> {
        Ok(self.store.read(|c| users::tokens_of(c, username))?)
    }

    /// Revokes one token of a user (by id) or all; returns how many.
    pub async fn revoke_tokens(
        &self,
        username: &str,
        id: Option<&str>,
    ) -> Result<usize, NodeError> {
        let (u, id) = (username.to_owned(), id.map(str::to_owned));
        let n = self
            .store
            .write(move |tx| users::revoke_tokens(tx.conn(), &u, id.as_deref()))
            .await?
            .value;
        self.guard.forget(username);
        Ok(n)
    }

    /// Disables a user (its sessions end, its tokens stop working) or
    /// enables it again.
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<(), NodeError> {
        let u = username.to_owned();
        let found = self
            .store
            .write(move |tx| users::set_disabled(tx.conn(), &u, disabled))
            .await?
            .value;
        self.guard.forget(username);
        if !found {
            return Err(NodeError::Invalid(format!(
                "no user {username}; add one with `liaison user add`"
            )));
        }
        Ok(())
    }

    pub fn user(&self, username: &str) -> Result<Option<User>, NodeError> {
        Ok(self
            .store
            .read(|c| users::by_name(c, username))?
            .filter(|r| !r.disabled)
            .and_then(to_user))
    }
}

/// Most memory a stored hash may ask a check to use (the default is 19 MiB).
const MAX_CHECK_KIB: u32 = 64 * 1024;

thread_local! {
    /// The argon2 working memory of this thread, reused by every check: a
    /// fresh 19 MiB for each would be kept by the allocator check after
    /// check (seen: 20 checks, 330 MiB resident).
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on `blocks` of this thread's argon2 working memory.
fn with_argon2_memory<T>(blocks: usize, f: impl FnOnce(&mut [argon2::Block]) -> T) -> T {
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        f(&mut memory[..blocks])
    })
}

/// Whether `password` matches a stored argon2 PHC string.
fn verify_argon2(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        argon2::Params::try_from(&parsed),
        argon2::Algorithm::try_from(parsed.algorithm),
    ) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    if params.m_cost() > MAX_CHECK_KIB {
        return false;
    }
    let version = parsed
        .version
        .and_then(|v| argon2::Version::try_from(v).ok())
        .unwrap_or_default();
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let hashed = with_argon2_memory(params.block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
    });
    hashed.is_ok() && constant_time_eq(&out, expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A real hash of a throwaway password: checking against it costs what a
/// real check costs.
static DUMMY: std::sync::LazyLock<Option<String>> =
    std::sync::LazyLock::new(|| hash_password("not a real password, only for timing").ok());

impl Node {
    /// How long a browser session lasts (`accounts.session_hours`).
    pub fn session_secs(&self) -> i64 {
        i64::from(self.config.accounts.session_hours.max(1)) * 3600
    }

    /// Starts a session for a user: returns the cookie value and the CSRF token.
    pub async fn start_session(&self, username: &str) -> Result<(String, String), NodeError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| NodeError::Invalid(format!("no randomness: {e}")))?;
        let cookie = B64URL.encode(raw);
        getrandom::fill(&mut raw).map_err(|e| NodeError::Invalid(format!("no randomness: {e}")))?;
        let csrf = B64URL.encode(raw);
        let digest = Hash::of_content(cookie.as_bytes()).to_hex();
        let expires = jiff::Timestamp::now().as_second() + self.session_secs();
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

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier as _;

    #[test]
    fn reused_memory_checks_agree_with_the_argon2_verifier() {
        let phc = hash_password("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        for (password, ok) in [
            ("correct horse battery", true),
            ("correct horse batterY", false),
            ("", false),
        ] {
            assert_eq!(verify_argon2(&phc, password), ok, "{password}");
            assert_eq!(
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
                ok
            );
        }
        assert!(!verify_argon2("not a hash", "x"));
        // A stored hash asking for a gigabyte of memory is refused, not run.
        let greedy = phc.replace("m=19456", "m=1048576");
        assert!(!verify_argon2(&greedy, "correct horse battery"));
    }
}
