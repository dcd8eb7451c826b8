//! Forwarding a request for execution and the data coming back: the
//! requested authority forwards the original signed request, byte for
//! byte, under its own signed cover to a provider in its jurisdiction (an
//! `execution` case); the provider answers with a `production` (the data as
//! attachments and a signed statement of what was produced); the authority
//! relays that production unchanged to the requesting authority (a `relay`
//! in the original case), with the provider's card it countersigns by
//! signing the relay and its own receipt for the production, so the
//! requesting authority verifies the provider's signature and every
//! hand-over without pinning the provider.

use liaison_proto::{NodeCard, PartyKind};
use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::body::{bad, need, optional, time_or_date};
use crate::card::{CheckedCard, check_card};
use crate::envelope::{AttachmentRef, Envelope, MAX_ATTACHMENTS, SignedEnvelope};

/// Envelope kind of a provider's production in an execution case.
pub const PRODUCTION: &str = "production";
/// Envelope kind of a production relayed into the original case.
pub const RELAY: &str = "relay";

/// The opening of an execution case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionOrder {
    /// The original request as the forwarding authority received it: its
    /// signed envelope's JSON, byte for byte.
    pub original: String,
    /// The requesting authority's card, as the forwarding authority pinned it.
    #[schema(value_type = Object)]
    pub requesting_card: NodeCard,
    /// The forwarding authority's instructions to the provider.
    #[serde(default)]
    pub note: String,
}

/// A checked execution order: the original request verified against the
/// requesting authority's card.
#[derive(Clone, Debug)]
pub struct CheckedOrder {
    pub order: ExecutionOrder,
    pub original: SignedEnvelope,
    pub requesting: CheckedCard,
}

impl ExecutionOrder {
    /// Checks the order (not who may send it): the original parses, names
    /// the card's party as its sender, and its signature verifies with the
    /// card's log key.
    pub fn check(body: &serde_json::Value) -> Result<CheckedOrder, CoreError> {
        let order: ExecutionOrder = serde_json::from_value(body.clone())
            .map_err(|e| CoreError::invalid(format!("execution order: {e}")))?;
        optional("note", &order.note, 20_000)?;
        let original: SignedEnvelope = serde_json::from_str(&order.original).map_err(|e| {
            bad(
                "original",
                format!("the original request is unreadable: {e}"),
            )
        })?;
        let requesting = check_card(&order.requesting_card)?;
        if requesting.party.as_str() != original.envelope.sender {
            return Err(bad(
                "requesting_card",
                "the requesting card is not the card of the original's sender",
            ));
        }
        original
            .verify(&requesting.log_key)
            .map_err(|e| bad("original", format!("the original request: {e}")))?;
        Ok(CheckedOrder {
            order,
            original,
            requesting,
        })
    }
}

/// A file a production lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProducedFile {
    pub sha256: String,
    pub size: u64,
    pub name: String,
}

/// A provider's statement of what it produced; the data are the
/// envelope's attachments, which the statement lists one by one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductionBody {
    pub produced: Vec<ProducedFile>,
    /// The period the data cover (RFC 3339 times or dates).
    pub period_from: String,
    pub period_to: String,
    /// The legal basis the provider produced them under.
    pub legal_basis: String,
    #[serde(default)]
    pub text: String,
}

impl ProductionBody {
    /// Checks the statement against the envelope that carries it: it lists
    /// exactly the envelope's attachments, in order.
    pub fn check(e: &Envelope) -> Result<ProductionBody, CoreError> {
        let p: ProductionBody = serde_json::from_value(e.body.clone())
            .map_err(|err| CoreError::invalid(format!("production: {err}")))?;
        if p.produced.is_empty() || p.produced.len() > MAX_ATTACHMENTS {
            return Err(bad(
                "produced",
                format!("a production lists 1 to {MAX_ATTACHMENTS} files"),
            ));
        }
        if !same_files(&p.produced, &e.attachments) {
            return Err(bad(
                "produced",
                "the files produced must be exactly the envelope's attachments, in order",
            ));
        }
        time_or_date("period_from", &p.period_from)?;
        time_or_date("period_to", &p.period_to)?;
        need("legal_basis", &p.legal_basis, 2_000)?;
        optional("text", &p.text, 20_000)?;
        Ok(p)
    }
}

fn same_files(produced: &[ProducedFile], attachments: &[AttachmentRef]) -> bool {
    produced.len() == attachments.len()
        && produced
            .iter()
            .zip(attachments)
            .all(|(p, a)| p.sha256 == a.sha256 && p.size == a.size && p.name == a.name)
}

/// A production relayed to the requesting authority.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayBody {
    /// The provider's production as the relaying authority received it:
    /// its signed envelope's JSON, byte for byte.
    pub production: String,
    /// The provider's card, as the relaying authority pinned it (signing
    /// the relay countersigns it).
    #[schema(value_type = Object)]
    pub provider_card: NodeCard,
    /// The relaying authority's receipt for the production: a tlog-proof
    /// that it is in that authority's log.
    pub production_receipt: String,
}

/// A checked relay: the production verified against the provider's card.
#[derive(Clone, Debug)]
pub struct CheckedRelay {
    pub relay: RelayBody,
    pub production: SignedEnvelope,
    pub statement: ProductionBody,
    pub provider: CheckedCard,
    /// The production's envelope hash.
    pub production_hash: liaison_log::Hash,
}

impl RelayBody {
    /// Checks the relay against the envelope carrying it (the receipt is
    /// checked by the recipient, against the relaying authority's key).
    pub fn check(e: &Envelope) -> Result<CheckedRelay, CoreError> {
        let relay: RelayBody = serde_json::from_value(e.body.clone())
            .map_err(|err| CoreError::invalid(format!("relay: {err}")))?;
        let production: SignedEnvelope = serde_json::from_str(&relay.production)
            .map_err(|err| bad("production", format!("the production is unreadable: {err}")))?;
        if production.envelope.kind != PRODUCTION {
            return Err(bad("production", "a relay carries a production"));
        }
        let provider = check_card(&relay.provider_card)?;
        if provider.kind != PartyKind::Provider
            || provider.party.as_str() != production.envelope.sender
        {
            return Err(bad(
                "provider_card",
                "the card must be the card of the provider that signed the production",
            ));
        }
        let production_hash = production
            .verify(&provider.log_key)
            .map_err(|err| bad("production", format!("the production: {err}")))?;
        let statement = ProductionBody::check(&production.envelope)?;
        if production.envelope.attachments != e.attachments {
            return Err(bad(
                "production",
                "a relay carries exactly the production's files",
            ));
        }
        if !production.envelope.is_addressed_to(&e.sender) {
            return Err(bad(
                "production",
                "the production was not addressed to the party relaying it",
            ));
        }
        Ok(CheckedRelay {
            relay,
            production,
            statement,
            provider,
            production_hash,
        })
    }
}
