//! STIX objects in TAXII collections. Each object version is a row with a
//! sequence number (its place in the collection, ascending with the date
//! it was added), flags for the first and last version of its id, and its
//! normalised TLP marking. Pages walk an index from a sequence number: no
//! request sorts or scans the whole collection.

use crate::Connection;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::StoreError;

/// The collection Liaison publishes incident threads to (read-only for clients).
pub const INCIDENTS_ID: &str = "7f3c2a91-5d4e-4b8a-9c61-2e0f8d7a4b35";
/// The collection CERTs add to.
pub const SHARED_ID: &str = "b2e8d4c6-1a3f-4e9b-8d72-6c5a0f1e9d43";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Collection {
    pub id: String,
    pub alias: String,
    pub title: String,
    pub description: String,
    /// TAXII clients (with the right) may add objects.
    pub writable: bool,
}

pub fn collections(conn: &Connection) -> Result<Vec<Collection>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, alias, title, description, writable FROM taxii_collections ORDER BY alias",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Collection {
                id: r.get("id")?,
                alias: r.get("alias")?,
                title: r.get("title")?,
                description: r.get("description")?,
                writable: r.get("writable")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A collection by id or alias.
pub fn collection(conn: &Connection, key: &str) -> Result<Option<Collection>, StoreError> {
    Ok(collections(conn)?
        .into_iter()
        .find(|c| c.id == key || c.alias == key))
}

/// One object version to add.
#[derive(Clone, Debug)]
pub struct NewObject {
    pub id: String,
    pub kind: String,
    pub spec_version: String,
    /// Empty: the date added is the version (observables).
    pub version: String,
    pub tlp: String,
    pub json: String,
}

/// What became of an object version offered to a collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
    New {
        version: String,
        date_added: String,
    },
    /// The same id and version was already there.
    AlreadyPresent {
        version: String,
    },
}

fn micros(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Adds object versions to a collection in this transaction. Dates added
/// strictly increase, also across processes, so `added_after` and `next`
/// never skip or repeat an object.
pub fn add_objects(
    conn: &Connection,
    collection: &str,
    objects: &[NewObject],
) -> Result<Vec<Added>, StoreError> {
    let last: Option<String> = conn
        .prepare_cached("SELECT date_added FROM stix_objects ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let last_micros = last
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_microsecond())
        .unwrap_or(0);
    let mut next = jiff::Timestamp::now().as_microsecond().max(last_micros + 1);
    let mut bounds = conn.prepare_cached(
        "SELECT min(version) AS earliest, max(version) AS latest, count(*) AS versions
         FROM stix_objects WHERE collection = ?1 AND id = ?2",
    )?;
    let mut exists = conn.prepare_cached(
        "SELECT 1 FROM stix_objects WHERE collection = ?1 AND id = ?2 AND version = ?3",
    )?;
    let mut clear_last = conn.prepare_cached(
        "UPDATE stix_objects SET is_last = 0 WHERE collection = ?1 AND id = ?2 AND is_last = 1",
    )?;
    let mut clear_first = conn.prepare_cached(
        "UPDATE stix_objects SET is_first = 0 WHERE collection = ?1 AND id = ?2 AND is_first = 1",
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO stix_objects (collection, id, type, spec_version, version, date_added, tlp, is_first, is_last, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut out = Vec::with_capacity(objects.len());
    for o in objects {
        let date_added = micros(
            jiff::Timestamp::from_microsecond(next)
                .map_err(|e| StoreError::Invalid(format!("clock: {e}")))?,
        );
        let version = if o.version.is_empty() {
            date_added.clone()
        } else {
            normalise_time(&o.version).unwrap_or_else(|| o.version.clone())
        };
        if exists
            .query_row(params![collection, o.id, version], |_| Ok(()))
            .optional()?
            .is_some()
        {
            out.push(Added::AlreadyPresent { version });
            continue;
        }
        let (min, max, n): (Option<String>, Option<String>, i64) = bounds
            .query_row(params![collection, o.id], |r| {
                Ok((r.get("earliest")?, r.get("latest")?, r.get("versions")?))
            })?;
        let is_last = n == 0 || max.as_deref().is_some_and(|m| version.as_str() > m);
        let is_first = n == 0 || min.as_deref().is_some_and(|m| version.as_str() < m);
        if is_last && n > 0 {
            clear_last.execute(params![collection, o.id])?;
        }
        if is_first && n > 0 {
            clear_first.execute(params![collection, o.id])?;
        }
        insert.execute(params![
            collection,
            o.id,
            o.kind,
            o.spec_version,
            version,
            date_added,
            o.tlp,
            is_first,
            is_last,
            o.json
        ])?;
        next += 1;
        out.push(Added::New {
            version,
            date_added,
        });
    }
    Ok(out)
}

pub use liaison_core::taxii::{Versions, normalise_time};

/// The SQL condition selecting `v` (it may use parameter ?8: the listed versions).
fn versions_sql(v: &Versions) -> (String, Option<String>) {
    if v.all {
        return ("1".into(), None);
    }
    let mut terms = Vec::new();
    if v.last {
        terms.push("is_last = 1".to_owned());
    }
    if v.first {
        terms.push("is_first = 1".to_owned());
    }
    let at = (!v.at.is_empty()).then(|| serde_json::to_string(&v.at).unwrap_or_default());
    if at.is_some() {
        terms.push("version IN (SELECT value FROM json_each(?8))".to_owned());
    }
    if terms.is_empty() {
        terms.push("is_last = 1".into());
    }
    (terms.join(" OR "), at)
}

/// A page request over a collection.
#[derive(Clone, Debug)]
pub struct ObjectQuery<'a> {
    pub collection: &'a str,
    /// Continue after this sequence number (from a `next` token).
    pub after_seq: i64,
    /// Only objects added after this (normalised) time.
    pub added_after: Option<String>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub spec_versions: Vec<String>,
    pub versions: Versions,
    /// Markings the reader may see.
    pub tlp_levels: &'a [&'a str],
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredObject {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub version: String,
    pub date_added: String,
    pub tlp: String,
    #[serde(skip)]
    pub json: String,
}

/// One page: the objects, and the sequence number to continue from if more remain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub objects: Vec<StoredObject>,
    pub next: Option<i64>,
}

fn list_json(v: &[String]) -> Option<String> {
    (!v.is_empty()).then(|| serde_json::to_string(v).unwrap_or_default())
}

pub fn page(conn: &Connection, q: &ObjectQuery<'_>) -> Result<Page, StoreError> {
    // Where `added_after` starts, as a sequence number (dates ascend with it).
    let mut after = q.after_seq;
    if let Some(t) = &q.added_after {
        let start: Option<i64> = conn
            .prepare_cached(
                "SELECT seq FROM stix_objects WHERE collection = ?1 AND date_added > ?2
                 ORDER BY date_added LIMIT 1",
            )?
            .query_row(params![q.collection, t], |r| r.get(0))
            .optional()?;
        match start {
            Some(s) => after = after.max(s - 1),
            None => {
                return Ok(Page {
                    objects: Vec::new(),
                    next: None,
                });
            }
        }
    }
    let (versions, at) = versions_sql(&q.versions);
    let mut sql = format!(
        "SELECT seq, id, type, version, date_added, tlp, json FROM stix_objects
         WHERE collection = ?1 AND seq > ?2 AND ({versions})
           AND tlp IN (SELECT value FROM json_each(?3))"
    );
    let (ids, types, specs) = (
        list_json(&q.ids),
        list_json(&q.types),
        list_json(&q.spec_versions),
    );
    if ids.is_some() {
        sql.push_str(" AND id IN (SELECT value FROM json_each(?4))");
    }
    if types.is_some() {
        sql.push_str(" AND type IN (SELECT value FROM json_each(?5))");
    }
    if specs.is_some() {
        sql.push_str(" AND spec_version IN (SELECT value FROM json_each(?6))");
    }
    sql.push_str(" AND ?4 IS ?4 AND ?5 IS ?5 AND ?6 IS ?6 AND ?8 IS ?8 ORDER BY seq LIMIT ?7");
    let levels =
        serde_json::to_string(q.tlp_levels).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut objects: Vec<StoredObject> = stmt
        .query_map(
            params![
                q.collection,
                after,
                levels,
                ids,
                types,
                specs,
                (q.limit + 1) as i64,
                at
            ],
            |r| {
                Ok(StoredObject {
                    seq: r.get("seq")?,
                    id: r.get("id")?,
                    kind: r.get("type")?,
                    version: r.get("version")?,
                    date_added: r.get("date_added")?,
                    tlp: r.get("tlp")?,
                    json: r.get("json")?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    let more = objects.len() > q.limit;
    objects.truncate(q.limit);
    let next = if more {
        objects.last().map(|o| o.seq)
    } else {
        None
    };
    Ok(Page { objects, next })
}

/// Deletes versions of an object (all, or those the filter names) marked
/// with one of `tlp_levels` (the caller's clearance: versions above it are
/// neither deleted nor revealed); returns how many.
pub fn delete_object(
    conn: &Connection,
    collection: &str,
    id: &str,
    versions: &Versions,
    tlp_levels: &[&str],
) -> Result<usize, StoreError> {
    let (filter, at) = versions_sql(versions);
    let levels =
        serde_json::to_string(tlp_levels).map_err(|e| StoreError::Invalid(e.to_string()))?;
    // The filter may use ?8 (listed versions): every statement takes eight parameters.
    let n = conn
        .prepare_cached(&format!(
            "DELETE FROM stix_objects WHERE collection = ?1 AND id = ?2 AND ({filter})
             AND tlp IN (SELECT value FROM json_each(?3))
             AND ?4 IS ?4 AND ?5 IS ?5 AND ?6 IS ?6 AND ?7 IS ?7 AND ?8 IS ?8"
        ))?
        .execute(params![
            collection,
            id,
            levels,
            None::<String>,
            None::<String>,
            None::<String>,
            None::<i64>,
            at
        ])?;
    // Keep the first/last flags true of what remains.
    conn.prepare_cached(
        "UPDATE stix_objects SET is_last = (version = (SELECT max(version) FROM stix_objects o WHERE o.collection = ?1 AND o.id = ?2)),
                                 is_first = (version = (SELECT min(version) FROM stix_objects o WHERE o.collection = ?1 AND o.id = ?2))
         WHERE collection = ?1 AND id = ?2",
    )?
    .execute(params![collection, id])?;
    Ok(n)
}

/// Sets the marking of every version of an object marked with one of
/// `from` (e.g. raises the older versions of a re-marked incident).
pub fn remark(
    conn: &Connection,
    collection: &str,
    id: &str,
    from: &[&str],
    tlp: &str,
) -> Result<(), StoreError> {
    let from = serde_json::to_string(from).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.prepare_cached(
        "UPDATE stix_objects SET tlp = ?4 WHERE collection = ?1 AND id = ?2
           AND tlp IN (SELECT value FROM json_each(?3))",
    )?
    .execute(params![collection, id, from, tlp])?;
    Ok(())
}

/// A TAXII status resource (adds are processed at once: always complete).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub id: String,
    pub collection: String,
    /// Who added the objects: only that user reads the status.
    pub username: String,
    pub request_timestamp: String,
    pub total: i64,
    pub success: i64,
    pub failure: i64,
    /// JSON arrays of status details.
    pub successes: String,
    pub failures: String,
}

pub fn put_status(conn: &Connection, s: &Status) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO taxii_status (id, collection, request_timestamp, total, success, failure, successes, failures, username)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        s.id,
        s.collection,
        s.request_timestamp,
        s.total,
        s.success,
        s.failure,
        s.successes,
        s.failures,
        s.username
    ])?;
    Ok(())
}

/// A status resource, if `username` added the objects it reports on.
pub fn status(conn: &Connection, id: &str, username: &str) -> Result<Option<Status>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, collection, request_timestamp, total, success, failure, successes, failures, username
             FROM taxii_status WHERE id = ?1 AND username = ?2",
        )?
        .query_row([id, username], |r| {
            Ok(Status {
                id: r.get("id")?,
                collection: r.get("collection")?,
                request_timestamp: r.get("request_timestamp")?,
                total: r.get("total")?,
                success: r.get("success")?,
                failure: r.get("failure")?,
                successes: r.get("successes")?,
                failures: r.get("failures")?,
                username: r.get("username")?,
            })
        })
        .optional()?)
}

/// How many object versions a collection holds.
pub fn count(conn: &Connection, collection: &str) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM stix_objects WHERE collection = ?1")?
        .query_row([collection], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::from(rusqlite::Connection::open_in_memory().unwrap());
        crate::db::migrate(&conn).unwrap();
        conn
    }

    fn obj(id: &str, kind: &str, version: &str, tlp: &str) -> NewObject {
        NewObject {
            id: id.into(),
            kind: kind.into(),
            spec_version: "2.1".into(),
            version: version.into(),
            tlp: tlp.into(),
            json: format!("{{\"id\":\"{id}\",\"modified\":\"{version}\"}}"),
        }
    }

    fn query<'a>(levels: &'a [&'a str]) -> ObjectQuery<'a> {
        ObjectQuery {
            collection: "shared",
            after_seq: 0,
            added_after: None,
            ids: vec![],
            types: vec![],
            spec_versions: vec![],
            versions: Versions::last(),
            tlp_levels: levels,
            limit: 100,
        }
    }

    const ALL: &[&str] = &["clear", "green", "amber", "amber_strict", "red"];

    #[test]
    fn versions_pages_filters_and_markings() {
        let conn = db();
        let mut batch = Vec::new();
        for i in 0..25 {
            batch.push(obj(
                &format!("indicator--{i}"),
                "indicator",
                "2026-01-01T00:00:00Z",
                "clear",
            ));
        }
        batch.push(obj("report--r", "report", "2026-01-01T00:00:00Z", "red"));
        let added = add_objects(&conn, "shared", &batch).unwrap();
        assert!(added.iter().all(|a| matches!(a, Added::New { .. })));
        // Dates added strictly increase.
        let dates: Vec<String> = added
            .iter()
            .map(|a| match a {
                Added::New { date_added, .. } => date_added.clone(),
                _ => String::new(),
            })
            .collect();
        assert!(dates.windows(2).all(|w| w[0] < w[1]));
        // A newer and an older version of one object; a duplicate is reported as present.
        let more = add_objects(
            &conn,
            "shared",
            &[
                obj("indicator--3", "indicator", "2026-02-01T00:00:00Z", "clear"),
                obj("indicator--3", "indicator", "2025-12-01T00:00:00Z", "clear"),
                obj("indicator--4", "indicator", "2026-01-01T00:00:00Z", "clear"),
            ],
        )
        .unwrap();
        assert!(matches!(more[2], Added::AlreadyPresent { .. }));

        // Paging by 10 walks every latest version exactly once.
        let mut q = query(ALL);
        q.limit = 10;
        let mut seen = Vec::new();
        loop {
            let p = page(&conn, &q).unwrap();
            seen.extend(p.objects.iter().map(|o| (o.id.clone(), o.version.clone())));
            match p.next {
                Some(n) => q.after_seq = n,
                None => break,
            }
        }
        assert_eq!(seen.len(), 26);
        assert!(seen.contains(&("indicator--3".into(), "2026-02-01T00:00:00.000000Z".into())));
        // first / all / a given version.
        let mut q = query(ALL);
        q.ids = vec!["indicator--3".into()];
        q.versions = Versions {
            first: true,
            ..Default::default()
        };
        assert_eq!(
            page(&conn, &q).unwrap().objects[0].version,
            "2025-12-01T00:00:00.000000Z"
        );
        q.versions = Versions {
            all: true,
            ..Default::default()
        };
        assert_eq!(page(&conn, &q).unwrap().objects.len(), 3);
        q.versions = Versions {
            at: vec!["2026-01-01T00:00:00.000000Z".into()],
            ..Default::default()
        };
        assert_eq!(page(&conn, &q).unwrap().objects.len(), 1);
        // Types, markings, added_after.
        let mut q = query(ALL);
        q.types = vec!["report".into()];
        assert_eq!(page(&conn, &q).unwrap().objects.len(), 1);
        assert_eq!(
            page(&conn, &{
                let mut q = query(&["clear", "green"]);
                q.types = vec!["report".into()];
                q
            })
            .unwrap()
            .objects
            .len(),
            0
        );
        let mut q = query(ALL);
        q.added_after = normalise_time(&dates[19]);
        let p = page(&conn, &q).unwrap();
        assert_eq!(
            p.objects.first().map(|o| o.date_added.as_str()),
            Some(dates[20].as_str())
        );
        // Deleting the latest version makes the previous one the latest.
        assert_eq!(
            delete_object(
                &conn,
                "shared",
                "indicator--3",
                &Versions {
                    at: vec!["2026-02-01T00:00:00.000000Z".into()],
                    ..Default::default()
                },
                ALL
            )
            .unwrap(),
            1
        );
        let mut q = query(ALL);
        q.ids = vec!["indicator--3".into()];
        assert_eq!(
            page(&conn, &q).unwrap().objects[0].version,
            "2026-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            delete_object(
                &conn,
                "shared",
                "indicator--3",
                &Versions {
                    all: true,
                    ..Default::default()
                },
                ALL
            )
            .unwrap(),
            2
        );
        assert_eq!(count(&conn, "shared").unwrap(), 25);
        assert!(
            collection(&conn, "incidents")
                .unwrap()
                .is_some_and(|c| !c.writable)
        );
    }
}
