//! Tests of the store as a whole: opening, migrations, statement reuse.

use super::*;
use liaison_log::note::ED25519;
use liaison_log::tiles::{TileKind, TileRef, decode_bundle};
use liaison_log::{Checkpoint, Hash, tree};

fn signer() -> NoteSigner {
    NoteSigner::new("test.example/log", ED25519, [42; 32]).unwrap()
}

fn new_store(dir: &tempfile::TempDir) -> Store {
    let path = dir.path().join("liaison.db");
    Store::create(&path).unwrap();
    Store::open(
        &path,
        LogSigners::single(signer()),
        WriterOptions::default(),
    )
    .unwrap()
}

fn append(store: &Store, data: Vec<Vec<u8>>) -> Committed<Vec<u64>> {
    store
        .write_blocking(move |tx| Ok(data.into_iter().map(|d| tx.append_leaf(d)).collect()))
        .unwrap()
}

#[test]
fn appends_are_durable_and_checkpointed() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(&dir);
    let c = append(&store, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(c.value, vec![0, 1, 2]);
    assert_eq!(c.head.size, 3);
    let (cp, _) = Checkpoint::open(&c.checkpoint, &signer().verifier(), &[]).unwrap();
    assert_eq!(cp.size, 3);
    assert_eq!(&*store.checkpoint().unwrap(), &*c.checkpoint);
    let proof = store.inclusion_proof(1, 3).unwrap();
    tree::verify_inclusion(1, 3, &liaison_log::hash::leaf_hash(b"b"), &proof, &cp.root).unwrap();
    drop(store);
    let store = Store::open(
        &dir.path().join("liaison.db"),
        LogSigners::single(signer()),
        WriterOptions::default(),
    )
    .unwrap();
    assert_eq!(store.log_head().unwrap().size, 3);
    let c = append(&store, vec![b"d".to_vec()]);
    assert_eq!(c.value, vec![3]);
}

#[test]
fn a_failed_job_leaves_no_rows_and_no_leaves_but_its_batch_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(&dir);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let good = store.write(|tx| {
            set_meta(tx.conn(), "good", "1")?;
            Ok(tx.append_leaf(b"good".to_vec()))
        });
        let bad = store.write(|tx| {
            set_meta(tx.conn(), "bad", "1")?;
            tx.append_leaf(b"bad".to_vec());
            Err::<(), _>(StoreError::Invalid("refused".into()))
        });
        let good2 = store.write(|tx| Ok(tx.append_leaf(b"good2".to_vec())));
        let (good, bad, good2) = tokio::join!(good, bad, good2);
        assert!(bad.is_err());
        assert_eq!(good.unwrap().value, 0);
        assert_eq!(good2.unwrap().value, 1);
    });
    assert_eq!(store.meta("good").unwrap().as_deref(), Some("1"));
    assert_eq!(store.meta("bad").unwrap(), None);
    assert_eq!(store.log_head().unwrap().size, 2);
    assert_eq!(store.log_entry(1).unwrap().unwrap(), b"good2");
}

#[test]
fn two_writers_on_one_file_keep_one_tree() {
    let dir = tempfile::tempdir().unwrap();
    let a = new_store(&dir);
    let b = Store::open(
        &dir.path().join("liaison.db"),
        LogSigners::single(signer()),
        WriterOptions::default(),
    )
    .unwrap();
    let mut all = Vec::new();
    for i in 0..50u32 {
        let s = if i % 3 == 0 { &b } else { &a };
        let d = i.to_be_bytes().to_vec();
        all.push(d.clone());
        append(s, vec![d]);
    }
    let head = a.log_head().unwrap();
    assert_eq!(head.size, 50);
    let mut f = liaison_log::frontier::Frontier::new();
    for d in &all {
        f.append(liaison_log::hash::leaf_hash(d), |_| {});
    }
    assert_eq!(head.root, f.root());
}

#[test]
fn tiles_and_bundles_are_served_for_full_and_partial_widths() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(&dir);
    let data: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_be_bytes().to_vec()).collect();
    append(&store, data.clone());
    let full = store
        .tile(TileRef {
            kind: TileKind::Hashes { level: 0 },
            index: 0,
            width: 256,
        })
        .unwrap()
        .unwrap();
    assert_eq!(full.len(), 256 * 32);
    assert_eq!(
        Hash::from_slice(&full[32..64]).unwrap(),
        liaison_log::hash::leaf_hash(&data[1])
    );
    let partial = store
        .tile(TileRef {
            kind: TileKind::Hashes { level: 0 },
            index: 1,
            width: 44,
        })
        .unwrap()
        .unwrap();
    assert_eq!(partial.len(), 44 * 32);
    assert!(
        store
            .tile(TileRef {
                kind: TileKind::Hashes { level: 0 },
                index: 1,
                width: 45
            })
            .unwrap()
            .is_none()
    );
    let level1 = store
        .tile(TileRef {
            kind: TileKind::Hashes { level: 1 },
            index: 0,
            width: 1,
        })
        .unwrap()
        .unwrap();
    let first_256 = store
        .read(|c| Ok(tree::subtree_hash(&crate::log::DbNodes(c), 0, 256)?))
        .unwrap();
    assert_eq!(Hash::from_slice(&level1).unwrap(), first_256);
    let bundle = store
        .tile(TileRef {
            kind: TileKind::Entries,
            index: 1,
            width: 44,
        })
        .unwrap()
        .unwrap();
    let entries = decode_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 44);
    assert_eq!(entries[0], &data[256][..]);
}

#[test]
fn a_tampered_tree_head_is_refused_at_open() {
    // Open checks the right edge of the tree against the head (cheap);
    // `liaison log verify` recomputes everything.
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(&dir);
    append(&store, vec![b"a".to_vec(), b"b".to_vec()]);
    drop(store);
    let path = dir.path().join("liaison.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE log_nodes SET hash = zeroblob(32) WHERE key = 1 << 56",
        [],
    )
    .unwrap();
    drop(conn);
    let err = Store::open(
        &path,
        LogSigners::single(signer()),
        WriterOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
}

#[test]
fn cached_statements_are_not_prepared_again_for_each_binding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    crate::Store::create(&path).unwrap();
    let conn = crate::db::open_connection(&path).unwrap();
    let sql = "SELECT hash FROM envelopes WHERE case_id = ?1 ORDER BY log_index";
    for i in 0..5 {
        let mut st = conn.prepare_cached(sql).unwrap();
        let _: Vec<String> = st
            .query_map([format!("c{i}")], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }
}

#[test]
fn migrations_are_the_numbered_files_in_order() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let listed: Vec<String> = crate::db::MIGRATIONS
        .iter()
        .map(|(name, _)| format!("{name}.sql"))
        .collect();
    assert_eq!(files, listed, "every file is a migration, in order");
    for (i, name) in listed.iter().enumerate() {
        assert!(name.starts_with(&format!("{:04}_", i + 1)), "{name}");
    }
}
