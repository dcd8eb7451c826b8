//! Attachments: streamed in, content-addressed by the SHA-256 of their
//! plaintext, encrypted at rest, size-limited; their hashes travel inside
//! the signed envelope and the files are pushed to the recipient, which
//! verifies the hash on arrival.
//!
//! At rest a file is `LIAISONATT1` ‖ 8-byte random file id ‖ chunks, each
//! chunk ChaCha20-Poly1305 sealed (64 KiB of plaintext + 16-byte tag) under
//! the node's attachment key, with nonce = file id ‖ 4-byte chunk counter
//! and the additional data saying whether it is the last chunk (so a
//! truncated file fails to open).

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use liaison_log::Hash;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use sha2::{Digest as _, Sha256};

use liaison_core::envelope::AttachmentRef;
use liaison_core::tlp::Tlp;
use liaison_store::attachments as adb;
use liaison_store::operations::TlpRead;

use crate::access::may_read;
use crate::users::User;
use crate::{Node, NodeError, now_rfc3339};

/// Bytes reserved for an upload in progress, released when it ends.
struct Reservation<'a> {
    node: &'a Node,
    key: String,
    bytes: u64,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut inflight = self.node.inflight();
        if let Some(n) = inflight.get_mut(&self.key) {
            *n = n.saturating_sub(self.bytes);
            if *n == 0 {
                inflight.remove(&self.key);
            }
        }
    }
}

const MAGIC: &[u8] = b"LIAISONATT1";
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;

/// An attachment stored here.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredAttachment {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the attachment is larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error(
        "the attachment does not fit in the quota: {0} bytes not yet listed in a message may be stored (they are removed after attachments.unreferenced_hours)"
    )]
    Quota(u64),
    #[error("an attachment is named by its SHA-256 in 64 lowercase hex digits")]
    BadName,
    #[error("witnesses hold no attachments")]
    Witness,
    #[error("the attachment's content does not match its SHA-256 {expected} (got {actual})")]
    HashMismatch { expected: String, actual: String },
    #[error("no attachment {0} is stored here")]
    NotFound(String),
    #[error("{0}")]
    Io(String),
}

impl From<AttachmentError> for NodeError {
    fn from(e: AttachmentError) -> NodeError {
        match e {
            AttachmentError::Io(m) => NodeError::Io(m),
            AttachmentError::NotFound(m) => {
                NodeError::Store(liaison_store::StoreError::NotFound(m))
            }
            other => NodeError::Invalid(other.to_string()),
        }
    }
}

fn io(what: &str, e: impl std::fmt::Display) -> AttachmentError {
    AttachmentError::Io(format!("{what}: {e}"))
}

fn nonce(file_id: &[u8; 8], counter: u32) -> Nonce {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(file_id);
    n[8..].copy_from_slice(&counter.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

fn aad(last: bool) -> Aad<[u8; 1]> {
    Aad::from([u8::from(last)])
}

/// Encrypts a stream chunk by chunk into a file, hashing the plaintext.
struct SealingWriter {
    key: LessSafeKey,
    file_id: [u8; 8],
    counter: u32,
    file: std::fs::File,
    pending: Vec<u8>,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

impl SealingWriter {
    fn write(&mut self, mut data: &[u8]) -> Result<(), AttachmentError> {
        self.size += data.len() as u64;
        if self.size > self.limit {
            return Err(AttachmentError::TooLarge(self.limit));
        }
        self.hasher.update(data);
        while !data.is_empty() {
            // Seal a full chunk only once more data follows it: the last
            // chunk must be marked as last.
            if self.pending.len() == CHUNK {
                self.seal(false)?;
            }
            let take = (CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    fn seal(&mut self, last: bool) -> Result<(), AttachmentError> {
        let mut chunk = std::mem::take(&mut self.pending);
        self.key
            .seal_in_place_append_tag(nonce(&self.file_id, self.counter), aad(last), &mut chunk)
            .map_err(|_| io("encrypting", "sealing failed"))?;
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or_else(|| io("encrypting", "too many chunks"))?;
        self.file
            .write_all(&chunk)
            .map_err(|e| io("writing the attachment", e))?;
        self.pending = Vec::with_capacity(CHUNK + TAG);
        Ok(())
    }

    fn finish(mut self) -> Result<(Hash, u64), AttachmentError> {
        self.seal(true)?;
        self.file
            .sync_all()
            .map_err(|e| io("syncing the attachment", e))?;
        Ok((Hash(self.hasher.finalize().into()), self.size))
    }
}

/// The canonical name of an attachment: its SHA-256 as 64 lowercase hex
/// digits. Anything else (uppercase, signs, other lengths) names nothing.
pub fn canonical_sha256(s: &str) -> Option<&str> {
    (s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(s)
}

/// Who stores a file here: quotas, probing and expiry are per holder.
#[derive(Clone, Copy, Debug)]
pub enum Holder<'a> {
    User(&'a str),
    Peer(&'a str),
}

impl Holder<'_> {
    fn key(self) -> String {
        match self {
            Holder::User(u) => format!("user:{u}"),
            Holder::Peer(p) => format!("peer:{p}"),
        }
    }
}

/// Attachments checked for whoever attaches them: a user may attach only
/// files it stored itself or may read; the node's operator (the CLI) any
/// file it stored. Sending takes nothing else, so no path attaches a file
/// unchecked.
#[derive(Clone, Debug, Default)]
pub struct Attaching(pub(crate) Vec<AttachmentRef>);

impl Attaching {
    pub fn none() -> Attaching {
        Attaching(Vec::new())
    }

    /// Files the node's operator stored itself (the CLI's `--attach`).
    pub fn by_operator(refs: Vec<AttachmentRef>) -> Attaching {
        Attaching(refs)
    }
}

/// What a reader may download.
#[derive(Clone, Debug)]
pub struct ReadableAttachment {
    pub sha256: String,
    pub name: String,
    pub size: u64,
}

impl Node {
    /// Checks that `user` may attach these files: each is one the user
    /// stored, or one every case listing it lets the user read.
    pub fn attaching_for(
        &self,
        user: &User,
        refs: Vec<AttachmentRef>,
    ) -> Result<Attaching, NodeError> {
        let holder = Holder::User(&user.username).key();
        for a in &refs {
            let Some(sha) = canonical_sha256(&a.sha256) else {
                return Err(AttachmentError::BadName.into());
            };
            let (stored_by_user, cases) = self.store.read(|c| {
                Ok((
                    adb::is_holder(c, sha, &holder)?,
                    adb::cases_referencing(c, sha)?,
                ))
            })?;
            let readable = !cases.is_empty() && cases.iter().all(|c| may_read(user, c));
            if !stored_by_user && !readable {
                return Err(NodeError::Invalid(format!(
                    "attachment {sha} is not one you uploaded or may read"
                )));
            }
        }
        Ok(Attaching(refs))
    }

    /// The attachment if `user` may read it: it is listed by at least one
    /// case, and every case listing it is within the user's clearance (the
    /// strictest marking wins). The read is recorded, before anything is
    /// served, when that marking is TLP:AMBER or stricter. `None`: not found.
    pub async fn open_attachment_for(
        &self,
        user: &User,
        sha256: &str,
        via: &str,
    ) -> Result<Option<ReadableAttachment>, NodeError> {
        let Some(sha) = canonical_sha256(sha256) else {
            return Ok(None);
        };
        let (cases, name) = self
            .store
            .read(|c| Ok((adb::cases_referencing(c, sha)?, adb::name_of(c, sha)?)))?;
        if cases.is_empty() || !cases.iter().all(|c| may_read(user, c)) {
            return Ok(None);
        }
        let Some(size) = self.has_attachment(sha) else {
            return Ok(None);
        };
        let strictest = cases.iter().map(|c| c.tlp).max().unwrap_or(Tlp::Red);
        if strictest.audited() {
            self.record_reads(vec![TlpRead {
                at: now_rfc3339(),
                username: user.username.clone(),
                object: format!("attachment:{sha}"),
                tlp: strictest.as_str().to_owned(),
                via: via.to_owned(),
            }])
            .await?;
        }
        Ok(Some(ReadableAttachment {
            sha256: sha.to_owned(),
            name: name.unwrap_or_default(),
            size,
        }))
    }

    /// Whether `peer` may learn that this node holds a file: it pushed it,
    /// or an envelope between us lists it. Other files are "not found".
    pub fn peer_knows_attachment(&self, peer: &str, sha256: &str) -> Result<bool, NodeError> {
        let Some(sha) = canonical_sha256(sha256) else {
            return Ok(false);
        };
        let holder = Holder::Peer(peer).key();
        let known = self
            .store
            .read(|c| Ok(adb::is_holder(c, sha, &holder)? || adb::exchanged_with(c, sha, peer)?))?;
        Ok(known && self.has_attachment(sha).is_some())
    }

    /// Stores a stream for `holder`, within its quota of bytes no message
    /// lists yet (`attachments.user_pending_bytes` or `peer_pending_bytes`,
    /// counting uploads still running), and records who stored it.
    pub async fn store_attachment_as<S, E>(
        &self,
        holder: Holder<'_>,
        stream: S,
        expected: Option<&str>,
    ) -> Result<StoredAttachment, AttachmentError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if let Some(e) = expected
            && canonical_sha256(e).is_none()
        {
            return Err(AttachmentError::BadName);
        }
        let cfg = &self.config.attachments;
        let quota = match holder {
            Holder::User(_) => cfg.user_pending_bytes,
            Holder::Peer(_) => cfg.peer_pending_bytes,
        };
        let key = holder.key();
        let pending = {
            let k = key.clone();
            self.store
                .read(move |c| adb::pending_bytes(c, &k))
                .map_err(|e| io("the attachment quota", e))?
        };
        // Reserve what this upload may use, so parallel uploads cannot
        // together pass the quota.
        let reservation = {
            let mut inflight = self.inflight();
            let used = pending + inflight.get(&key).copied().unwrap_or(0);
            let room = quota.saturating_sub(used);
            if room == 0 {
                return Err(AttachmentError::Quota(quota));
            }
            let take = room.min(cfg.max_bytes);
            *inflight.entry(key.clone()).or_default() += take;
            Reservation {
                node: self,
                key: key.clone(),
                bytes: take,
            }
        };
        let limit = reservation.bytes;
        let stored = self
            .store_attachment_limited(stream, expected, limit)
            .await
            .map_err(|e| match e {
                AttachmentError::TooLarge(_) if limit < cfg.max_bytes => {
                    AttachmentError::Quota(quota)
                }
                other => other,
            })?;
        let (sha, size, now) = (
            stored.sha256.clone(),
            stored.size,
            jiff::Timestamp::now().as_second(),
        );
        self.store
            .write(move |tx| adb::add_holder(tx.conn(), &sha, &key, size, now))
            .await
            .map_err(|e| io("recording the attachment", e))?;
        drop(reservation);
        Ok(stored)
    }

    fn inflight(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, u64>> {
        // A poisoned map only means a panic elsewhere; its counts are intact.
        self.attachment_inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Removes files no message lists, stored more than
    /// `attachments.unreferenced_hours` ago (and files left by an
    /// interrupted upload). Returns how many files were removed.
    pub async fn sweep_attachments(&self) -> Result<usize, NodeError> {
        let ttl = i64::try_from(
            self.config
                .attachments
                .unreferenced_hours
                .saturating_mul(3600),
        )
        .unwrap_or(i64::MAX);
        let before = jiff::Timestamp::now().as_second().saturating_sub(ttl);
        let mut gone = self
            .store
            .write(move |tx| adb::expire_unreferenced(tx.conn(), before))
            .await?
            .value;
        // Files with no row at all (from before holders were recorded, or
        // stored by the CLI and never sent), by their age on disk.
        if let Ok(dir) = std::fs::read_dir(self.attachments_dir()) {
            for entry in dir.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() as i64 > ttl);
                if !old {
                    continue;
                }
                if name.starts_with("tmp-") {
                    gone.push(name);
                    continue;
                }
                let Some(sha) = canonical_sha256(&name) else {
                    continue;
                };
                let orphan = self
                    .store
                    .read(|c| Ok(!adb::is_referenced(c, sha)? && !adb::is_held(c, sha)?))?;
                if orphan && !gone.contains(&name) {
                    gone.push(name);
                }
            }
        }
        let mut removed = 0;
        for name in gone {
            // Checked again: a message may have listed it meanwhile.
            if let Some(sha) = canonical_sha256(&name)
                && self.store.read(|c| adb::is_referenced(c, sha))?
            {
                continue;
            }
            if std::fs::remove_file(self.attachments_dir().join(&name)).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn attachments_dir(&self) -> PathBuf {
        self.dir.root().join("attachments")
    }

    /// The attachment key, created on first use (mode 0600).
    fn attachment_key(&self) -> Result<LessSafeKey, AttachmentError> {
        let path = self.dir.keys().join("attachments.key");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let seed = crate::random_seed().map_err(|e| io("attachment key", e))?;
                let text = format!("{}\n", B64.encode(seed));
                use std::os::unix::fs::OpenOptionsExt as _;
                match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                {
                    Ok(mut f) => {
                        f.write_all(text.as_bytes())
                            .map_err(|e| io("writing the attachment key", e))?;
                        f.sync_all()
                            .map_err(|e| io("writing the attachment key", e))?;
                        text
                    }
                    // Another process created it meanwhile: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        std::fs::read_to_string(&path)
                            .map_err(|e| io("reading the attachment key", e))?
                    }
                    Err(e) => return Err(io("creating the attachment key", e)),
                }
            }
            Err(e) => return Err(io("reading the attachment key", e)),
        };
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| io("the attachment key", "is not base64"))?;
        let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes)
            .map_err(|_| io("the attachment key", "is not 32 bytes"))?;
        Ok(LessSafeKey::new(key))
    }

    pub fn attachment_path(&self, sha256: &str) -> Option<PathBuf> {
        canonical_sha256(sha256).map(|h| self.attachments_dir().join(h))
    }

    /// Whether an attachment is stored here, and its plaintext size.
    pub fn has_attachment(&self, sha256: &str) -> Option<u64> {
        let path = self.attachment_path(sha256)?;
        let stored = std::fs::metadata(&path).ok()?.len();
        let body = stored.checked_sub(MAGIC.len() as u64 + 8)?;
        let chunks = body.div_ceil((CHUNK + TAG) as u64).max(1);
        body.checked_sub(chunks * TAG as u64)
    }

    /// Stores a stream of bytes as an attachment; with `expected`, refuses
    /// content whose SHA-256 differs (nothing is kept).
    pub async fn store_attachment<S, E>(
        &self,
        stream: S,
        expected: Option<&str>,
    ) -> Result<StoredAttachment, AttachmentError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.store_attachment_limited(stream, expected, self.config.attachments.max_bytes)
            .await
    }

    async fn store_attachment_limited<S, E>(
        &self,
        mut stream: S,
        expected: Option<&str>,
        limit: u64,
    ) -> Result<StoredAttachment, AttachmentError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let dir = self.attachments_dir();
        std::fs::create_dir_all(&dir).map_err(|e| io("creating the attachments directory", e))?;
        let mut file_id = [0u8; 8];
        getrandom::fill(&mut file_id).map_err(|e| io("randomness", e))?;
        let tmp = dir.join(format!("tmp-{}", Hash::of_content(&file_id).to_hex()));
        let mut file = std::fs::File::create(&tmp).map_err(|e| io("creating the attachment", e))?;
        file.write_all(MAGIC)
            .and_then(|()| file.write_all(&file_id))
            .map_err(|e| io("writing the attachment", e))?;
        let mut writer = SealingWriter {
            key: self.attachment_key()?,
            file_id,
            counter: 0,
            file,
            pending: Vec::with_capacity(CHUNK + TAG),
            hasher: Sha256::new(),
            size: 0,
            limit,
        };
        let result = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| io("receiving the attachment", e))?;
                writer.write(&chunk)?;
            }
            writer.finish()
        }
        .await;
        let (hash, size) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        if let Some(expected) = expected
            && hash.to_hex() != expected
        {
            let _ = std::fs::remove_file(&tmp);
            return Err(AttachmentError::HashMismatch {
                expected: expected.to_owned(),
                actual: hash.to_hex(),
            });
        }
        let path = dir.join(hash.to_hex());
        std::fs::rename(&tmp, &path).map_err(|e| io("storing the attachment", e))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("syncing the attachments directory", e))?;
        Ok(StoredAttachment {
            sha256: hash.to_hex(),
            size,
        })
    }

    /// Stores a local file as an attachment.
    pub async fn store_attachment_file(
        &self,
        path: &Path,
    ) -> Result<StoredAttachment, AttachmentError> {
        let mut file =
            std::fs::File::open(path).map_err(|e| io(&format!("opening {}", path.display()), e))?;
        let chunks = std::iter::from_fn(move || {
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some(Ok::<_, std::io::Error>(Bytes::from(buf)))
                }
                Err(e) => Some(Err(e)),
            }
        });
        self.store_attachment(futures_util::stream::iter(chunks), None)
            .await
    }

    /// Decrypts a stored attachment as a stream of plaintext chunks; a
    /// tampered or truncated file ends the stream with an error.
    pub fn read_attachment(
        &self,
        sha256: &str,
    ) -> Result<impl Stream<Item = Result<Bytes, AttachmentError>> + Send + 'static, AttachmentError>
    {
        let path = self
            .attachment_path(sha256)
            .ok_or_else(|| AttachmentError::NotFound(sha256.to_owned()))?;
        let mut file =
            std::fs::File::open(&path).map_err(|_| AttachmentError::NotFound(sha256.to_owned()))?;
        let key = self.attachment_key()?;
        let mut header = [0u8; 19];
        file.read_exact(&mut header)
            .map_err(|e| io("reading the attachment", e))?;
        if &header[..MAGIC.len()] != MAGIC {
            return Err(io("reading the attachment", "not an attachment file"));
        }
        let mut file_id = [0u8; 8];
        file_id.copy_from_slice(&header[MAGIC.len()..]);
        let mut counter = 0u32;
        let mut done = false;
        let mut next = {
            let mut buf = vec![0u8; CHUNK + TAG];
            let n = read_full(&mut file, &mut buf).map_err(|e| io("reading the attachment", e))?;
            buf.truncate(n);
            buf
        };
        Ok(futures_util::stream::iter(std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut current = std::mem::take(&mut next);
            let mut following = vec![0u8; CHUNK + TAG];
            let n = match read_full(&mut file, &mut following) {
                Ok(n) => n,
                Err(e) => {
                    done = true;
                    return Some(Err(io("reading the attachment", e)));
                }
            };
            following.truncate(n);
            let last = following.is_empty();
            let opened = key
                .open_in_place(nonce(&file_id, counter), aad(last), &mut current)
                .map(|plain| Bytes::copy_from_slice(plain))
                .map_err(|_| io("decrypting the attachment", "it was altered or cut short"));
            counter = counter.wrapping_add(1);
            next = following;
            done = last || opened.is_err();
            Some(opened)
        })))
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn node(dir: &Path) -> Node {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut o = crate::InitOptions::new("us", "US");
        o.listen = "127.0.0.1:0".into();
        o.app_listen = "127.0.0.1:0".into();
        crate::init(&dir.join("n"), &o).await.unwrap()
    }

    async fn collect(node: &Node, sha: &str) -> Result<Vec<u8>, AttachmentError> {
        let mut out = Vec::new();
        let mut s = Box::pin(node.read_attachment(sha)?);
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c?);
        }
        Ok(out)
    }

    proptest::proptest! {
        #[test]
        fn only_64_lowercase_hex_digits_name_an_attachment(s in "[0-9a-fA-F+ -]{0,70}") {
            let canonical = s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            proptest::prop_assert_eq!(canonical_sha256(&s).is_some(), canonical);
        }
    }

    #[tokio::test]
    async fn round_trips_at_chunk_boundaries_and_is_encrypted_at_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let node = node(tmp.path()).await;
        for len in [0usize, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let parts: Vec<Result<Bytes, std::io::Error>> = data
                .chunks(1000)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let stored = node
                .store_attachment(futures_util::stream::iter(parts), None)
                .await
                .unwrap();
            assert_eq!(stored.sha256, Hash::of_content(&data).to_hex());
            assert_eq!(node.has_attachment(&stored.sha256), Some(len as u64));
            assert_eq!(collect(&node, &stored.sha256).await.unwrap(), data);
            if len > 100 {
                let raw = std::fs::read(node.attachment_path(&stored.sha256).unwrap()).unwrap();
                assert!(
                    !raw.windows(100).any(|w| w == &data[..100]),
                    "plaintext visible at rest"
                );
            }
        }
    }

    #[tokio::test]
    async fn wrong_hashes_tampering_and_truncation_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let node = node(tmp.path()).await;
        let data = vec![5u8; 2 * CHUNK + 3];
        let one = |d: &[u8]| {
            futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::copy_from_slice(d))])
        };
        let err = node
            .store_attachment(one(&data), Some(&"0".repeat(64)))
            .await
            .unwrap_err();
        assert!(matches!(err, AttachmentError::HashMismatch { .. }));
        let stored = node.store_attachment(one(&data), None).await.unwrap();
        let path = node.attachment_path(&stored.sha256).unwrap();
        let raw = std::fs::read(&path).unwrap();
        let mut flipped = raw.clone();
        flipped[40] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(collect(&node, &stored.sha256).await.is_err());
        std::fs::write(&path, &raw[..raw.len() - (TAG + 3)]).unwrap();
        assert!(
            collect(&node, &stored.sha256).await.is_err(),
            "truncation went unnoticed"
        );
    }
}
