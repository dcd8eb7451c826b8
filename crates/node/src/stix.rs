//! STIX 2.1 on a node: incident threads published to the `incidents`
//! collection in the transaction that records them, bundles imported into
//! a collection (valid objects kept, invalid ones refused with their
//! reason), bundles exported within a TLP ceiling, and the reads TAXII
//! serves — limited to what the reader's clearance allows and audited.

use liaison_core::case::CaseKind;
use liaison_core::envelope::SignedEnvelope;
use liaison_core::incident::{IncidentReport, UPDATE, UpdateBody};
use liaison_core::stix::{self, IncidentThread, ThreadUpdate};
use liaison_core::tlp::Tlp;
use liaison_store::federation as db;
use liaison_store::operations::TlpRead;
use liaison_store::stix::{self as sdb, Added, NewObject, ObjectQuery, Page};
use liaison_store::{Connection, StoreError};
use serde::Serialize;
use serde_json::Value;

use crate::users::User;
use crate::{Node, NodeError, now_rfc3339};

/// The STIX objects of an incident case, from its thread as stored.
pub(crate) fn incident_objects(conn: &Connection, case_id: &str) -> Result<Vec<Value>, StoreError> {
    let Some(case) = db::case_by_id(conn, case_id)? else {
        return Ok(Vec::new());
    };
    if case.kind != CaseKind::Incident {
        return Ok(Vec::new());
    }
    let mut report = None;
    let mut updates = Vec::new();
    for row in db::envelopes_of_case(conn, case_id)? {
        let signed: SignedEnvelope = serde_json::from_str(&row.signed_json)
            .map_err(|e| StoreError::Corrupt(format!("envelope {}: {e}", row.hash)))?;
        let e = signed.envelope;
        // The notification is the case's opening envelope, from its sender;
        // updates are published as notes of whoever sent them.
        if case.root_hash.as_deref() == Some(row.hash.as_str()) {
            if e.kind == CaseKind::Incident.as_str() && e.sender == case.initiator {
                report = IncidentReport::check(&e.body).ok().map(|(r, _)| r);
            }
        } else if e.kind == UPDATE
            && let Ok((body, _)) = UpdateBody::check(&e.body)
        {
            updates.push(ThreadUpdate {
                hash: row.hash.clone(),
                sender: e.sender,
                created: e.created,
                body,
            });
        }
    }
    let Some(report) = report else {
        return Ok(Vec::new());
    };
    let mut party_names = vec![(case.initiator.clone(), report.reporting_team.name.clone())];
    for p in liaison_store::peers::all(conn)? {
        if let Ok(card) = serde_json::from_str::<liaison_proto::NodeCard>(&p.card_json) {
            party_names.push((p.party, card.name));
        }
    }
    let thread = IncidentThread {
        case_id,
        initiator: &case.initiator,
        party_names,
        created: &case.created,
        updated: &case.updated,
        state: case.state.as_str(),
        tlp: case.tlp,
        report: &report,
        updates,
    };
    Ok(stix::incident_objects(&thread))
}

fn to_new(objects: &[Value]) -> Result<Vec<NewObject>, StoreError> {
    let markings = stix::Markings::of_bundle(objects);
    objects
        .iter()
        .map(|o| {
            let meta = stix::check_object_in(o, &markings)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            Ok(NewObject {
                id: meta.id,
                kind: meta.kind,
                spec_version: meta.spec_version,
                version: meta.version,
                tlp: meta.tlp.as_str().to_owned(),
                json: serde_json::to_string(o).map_err(|e| StoreError::Invalid(e.to_string()))?,
            })
        })
        .collect()
}

/// The markings stricter than `tlp`, as stored.
fn below(tlp: Tlp) -> Vec<&'static str> {
    liaison_core::tlp::ALL_LEVELS
        .iter()
        .filter(|l| **l < tlp)
        .map(|l| l.as_str())
        .collect()
}

/// The least strict marking among the incidents `party` takes part in: its
/// identity object is visible exactly to readers of one of them.
fn identity_level(conn: &Connection, party: &str) -> Result<Tlp, StoreError> {
    let levels = liaison_store::federation::incident_markings_of(conn, party)?;
    Ok(levels
        .iter()
        .map(|l| Tlp::parse(l).unwrap_or(Tlp::Red))
        .min()
        .unwrap_or(Tlp::Red))
}

/// Publishes the current objects of an incident case (new versions only).
/// Nothing published reveals more than the case's marking allows: the
/// thread's objects carry it (older versions are raised to it when the
/// case is re-marked stricter), the TLP marking definition is marked at its
/// own level, and a party's identity at the least strict incident it is in.
pub(crate) fn publish_incident(conn: &Connection, case_id: &str) -> Result<(), StoreError> {
    let objects = incident_objects(conn, case_id)?;
    let Some(case) = db::case_by_id(conn, case_id)? else {
        return Ok(());
    };
    if objects.is_empty() {
        return Ok(());
    }
    let tlp = case.tlp;
    let parties = [case.initiator.as_str(), case.responder.as_str()];
    let mut news = to_new(&objects)?;
    let mut identities = Vec::new();
    for o in &mut news {
        match o.kind.as_str() {
            "marking-definition" => {
                let own = Tlp::parse(&o.id).unwrap_or(Tlp::Red);
                o.tlp = own.as_str().to_owned();
            }
            "identity" => {
                let party = parties
                    .iter()
                    .find(|p| stix::derived_id("identity", p) == o.id)
                    .copied();
                let level = match party {
                    Some(p) => identity_level(conn, p)?,
                    None => tlp,
                };
                o.tlp = level.as_str().to_owned();
                identities.push((o.id.clone(), level));
            }
            _ => {}
        }
    }
    sdb::add_objects(conn, sdb::INCIDENTS_ID, &news)?;
    let less_strict = below(tlp);
    for o in &news {
        if !matches!(o.kind.as_str(), "marking-definition" | "identity") {
            sdb::remark(conn, sdb::INCIDENTS_ID, &o.id, &less_strict, tlp.as_str())?;
        }
    }
    let every: Vec<&str> = liaison_core::tlp::ALL_LEVELS
        .iter()
        .map(|l| l.as_str())
        .collect();
    for (id, level) in identities {
        sdb::remark(conn, sdb::INCIDENTS_ID, &id, &every, level.as_str())?;
    }
    Ok(())
}

/// One object refused by an import or a TAXII add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Refused {
    /// Its position in the bundle.
    pub index: usize,
    pub id: Option<String>,
    pub version: Option<String>,
    pub reason: String,
}

/// One object accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub id: String,
    pub version: String,
    /// Already held with this version: nothing changed.
    pub already_present: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AddOutcome {
    pub accepted: Vec<Accepted>,
    pub refused: Vec<Refused>,
}

impl Node {
    /// Adds STIX objects to a writable collection: every valid object is
    /// kept (durably, before this returns), every invalid one is refused
    /// with its reason. `progress(done, total)` after each chunk.
    pub async fn add_stix_objects(
        &self,
        collection: &str,
        objects: Vec<Value>,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<AddOutcome, NodeError> {
        let c = self
            .store
            .read(|conn| sdb::collection(conn, collection))?
            .ok_or_else(|| {
                NodeError::Store(StoreError::NotFound(format!("no collection {collection}")))
            })?;
        if !c.writable {
            return Err(NodeError::Invalid(format!(
                "collection {} is published by Liaison and read-only",
                c.alias
            )));
        }
        let total = objects.len() as u64;
        // Marking definitions given in the same request resolve markings.
        let markings = stix::Markings::of_bundle(&objects);
        let mut outcome = AddOutcome::default();
        let mut done = 0u64;
        let mut index = 0usize;
        for chunk in objects.chunks(5000) {
            let mut batch = Vec::with_capacity(chunk.len());
            for o in chunk {
                match stix::check_object_in(o, &markings) {
                    Ok(meta) => match serde_json::to_string(o) {
                        Ok(json) => batch.push((
                            index,
                            NewObject {
                                id: meta.id,
                                kind: meta.kind,
                                spec_version: meta.spec_version,
                                version: meta.version,
                                tlp: meta.tlp.as_str().to_owned(),
                                json,
                            },
                        )),
                        Err(e) => outcome.refused.push(Refused {
                            index,
                            id: None,
                            version: None,
                            reason: e.to_string(),
                        }),
                    },
                    Err(e) => outcome.refused.push(Refused {
                        index,
                        id: o.get("id").and_then(Value::as_str).map(str::to_owned),
                        version: o
                            .get("modified")
                            .or_else(|| o.get("created"))
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        reason: e.to_string(),
                    }),
                }
                index += 1;
            }
            let collection_id = c.id.clone();
            let news: Vec<NewObject> = batch.iter().map(|(_, o)| o.clone()).collect();
            let added = self
                .store
                .write(move |tx| sdb::add_objects(tx.conn(), &collection_id, &news))
                .await?
                .value;
            for ((_, o), a) in batch.iter().zip(added) {
                outcome.accepted.push(match a {
                    Added::New { version, .. } => Accepted {
                        id: o.id.clone(),
                        version,
                        already_present: false,
                    },
                    Added::AlreadyPresent { version } => Accepted {
                        id: o.id.clone(),
                        version,
                        already_present: true,
                    },
                });
            }
            done += chunk.len() as u64;
            progress(done, total);
        }
        Ok(outcome)
    }

    /// A page of a collection as `reader` may see it (its clearance bounds
    /// the markings); restricted objects served are recorded first.
    pub async fn stix_page(
        &self,
        reader: &User,
        via: &str,
        mut query: ObjectQuery<'_>,
    ) -> Result<Page, NodeError> {
        let levels = crate::access::readable_levels(reader);
        query.tlp_levels = &levels;
        let page = self.store.read(|c| sdb::page(c, &query))?;
        self.record_stix_reads(reader, via, &page).await?;
        Ok(page)
    }

    pub(crate) async fn record_stix_reads(
        &self,
        reader: &User,
        via: &str,
        page: &Page,
    ) -> Result<(), NodeError> {
        let at = now_rfc3339();
        let reads: Vec<TlpRead> = page
            .objects
            .iter()
            .filter(|o| Tlp::parse(&o.tlp).unwrap_or(Tlp::Red).audited())
            .map(|o| TlpRead {
                at: at.clone(),
                username: reader.username.clone(),
                object: format!("{}@{}", o.id, o.version),
                tlp: o.tlp.clone(),
                via: via.to_owned(),
            })
            .collect();
        self.record_reads(reads).await
    }

    /// A bundle of the incidents (all, or one case) whose marking is at most
    /// `ceiling`: what may go to the recipient the caller names. Restricted
    /// content exported is recorded under `who`.
    pub async fn export_incidents(
        &self,
        case: Option<&str>,
        ceiling: Tlp,
        who: &str,
    ) -> Result<Value, NodeError> {
        let cases: Vec<String> = match case {
            Some(id) => {
                let c = self.store.read(|c| db::case_by_id(c, id))?.ok_or_else(|| {
                    NodeError::Store(StoreError::NotFound(format!("no case {id}")))
                })?;
                if c.kind != CaseKind::Incident {
                    return Err(NodeError::Invalid(format!(
                        "case {id} is a {}, not an incident",
                        c.kind.as_str()
                    )));
                }
                vec![c.id]
            }
            None => self
                .store
                .read(|c| db::list_cases(c, usize::MAX >> 1))?
                .into_iter()
                .filter(|c| c.kind == CaseKind::Incident)
                .map(|c| c.id)
                .collect(),
        };
        let mut objects: Vec<Value> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut reads = Vec::new();
        for id in &cases {
            let row = self.store.read(|c| db::case_by_id(c, id))?;
            let Some(row) = row else { continue };
            let tlp = row.tlp;
            if !tlp.visible_to(ceiling) {
                if case.is_some() {
                    return Err(NodeError::Invalid(format!(
                        "case {id} is marked {}: above the export ceiling {}",
                        tlp.label(),
                        ceiling.label()
                    )));
                }
                continue;
            }
            if tlp.audited() {
                reads.push(TlpRead {
                    at: now_rfc3339(),
                    username: who.to_owned(),
                    object: id.clone(),
                    tlp: tlp.as_str().to_owned(),
                    via: "stix-export".into(),
                });
            }
            for o in self.store.read(|c| incident_objects(c, id))? {
                let key = format!("{}@{}", o["id"], o["modified"]);
                if seen.insert(key) {
                    objects.push(o);
                }
            }
        }
        self.record_reads(reads).await?;
        let seed = format!("{}/{}", cases.join(","), now_rfc3339());
        Ok(stix::bundle(objects, &seed))
    }

    pub fn taxii_collections(&self) -> Result<Vec<sdb::Collection>, NodeError> {
        Ok(self.store.read(sdb::collections)?)
    }
}
