//! The seed's steps among several parties: forwarding a request to a
//! provider and relaying its production, direct orders and the notified
//! authority's answers, and joint teams. Each step waits until the parties
//! it concerns hold its outcome.

use std::path::Path;

use liaison_core::order::{Disclosure, NoticeAnswer};
use liaison_core::roster::{Membership, Role};
use liaison_node::Node;
use liaison_node::attachments::Attaching;
use serde_json::Value;

use super::{Context, Parties, wait};
use crate::error::CliError;

fn failed(message: String) -> CliError {
    CliError::new("demo_failed", message)
}

/// `by` forwards `case` to the provider `to`; answers the execution case.
pub(super) async fn forward(
    by: &Node,
    case: &str,
    to: &Node,
    note: &str,
) -> Result<String, CliError> {
    let exec = by.forward(case, to.party().as_str(), note).await?.case_id;
    wait(&format!("the execution order on {}", to.party()), || {
        Ok(to.case_detail(&exec).is_ok())
    })
    .await?;
    Ok(exec)
}

/// `by` produces `files` (name and text, written under `dir`) in `case`
/// with `statement`; waits until every other participant holds it.
pub(super) async fn produce(
    dir: &Path,
    parties: &Parties<'_>,
    by: &Node,
    case: &str,
    statement: Value,
    files: &[(String, String)],
) -> Result<(), CliError> {
    let out = dir.join("produced");
    std::fs::create_dir_all(&out).map_err(|e| CliError::io(e.to_string()))?;
    let mut refs = Vec::new();
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| CliError::io(e.to_string()))?;
        let stored = by
            .store_attachment_file(&path)
            .await
            .map_err(|e| CliError::io(e.to_string()))?;
        refs.push(liaison_core::envelope::AttachmentRef {
            sha256: stored.sha256,
            size: stored.size,
            name: name.clone(),
            media_type: "text/csv".into(),
        });
    }
    by.produce(case, statement, Attaching::by_operator(refs))
        .await?;
    let others: Vec<String> = by
        .case_detail(case)?
        .participants
        .into_iter()
        .map(|p| p.party)
        .filter(|p| p != by.party().as_str())
        .collect();
    for party in others {
        let node = parties.get(&party)?;
        wait(&format!("the production on {party}"), || {
            Ok(node
                .case_detail(case)
                .is_ok_and(|d| d.messages.iter().any(|m| m.kind == "production")))
        })
        .await?;
    }
    Ok(())
}

/// `by` relays the production of execution case `exec` to the requesting
/// authority of the request it executes.
pub(super) async fn relay(parties: &Parties<'_>, by: &Node, exec: &str) -> Result<(), CliError> {
    let sent = by.relay(exec).await?;
    let requesting = by.case_detail(&sent.case_id)?.case.initiator;
    let node = parties.get(&requesting)?;
    wait(&format!("the relay on {requesting}"), || {
        Ok(node
            .case_detail(&sent.case_id)
            .is_ok_and(|d| d.messages.iter().any(|m| m.kind == "relay")))
    })
    .await
}

/// Waits until the notified authority's confirmation of order `case` is on `on`.
pub(super) async fn confirmed(on: &Node, case: &str) -> Result<(), CliError> {
    wait(
        &format!("the notified authority's confirmation on {}", on.party()),
        || {
            Ok(!matches!(
                on.disclosure(case)?,
                None | Some(Disclosure::AwaitingNotice { .. })
            ))
        },
    )
    .await
}

/// The notified authority `by` objects to (or consents to) order `case`;
/// waits until the provider `on` holds the answer.
pub(super) async fn notice(
    by: &Node,
    on: &Node,
    case: &str,
    answer: &str,
    grounds: &str,
) -> Result<(), CliError> {
    confirmed(on, case).await?;
    let answer = match answer {
        "objection" => NoticeAnswer::Objection,
        "no_objection" => NoticeAnswer::NoObjection,
        other => {
            return Err(failed(format!(
                "the seed names an unknown answer {other:?}"
            )));
        }
    };
    by.answer_notice(case, answer, grounds).await?;
    wait(&format!("the answer to {case} on {}", on.party()), || {
        Ok(matches!(
            on.disclosure(case)?,
            Some(Disclosure::Objected { .. } | Disclosure::Cleared { .. })
        ))
    })
    .await
}

/// `by` invites `to` into team `case`; `to` accepts, and gets the thread.
pub(super) async fn invite_and_accept(
    by: &Node,
    to: &Node,
    case: &str,
    role: &str,
    note: &str,
) -> Result<(), CliError> {
    let role = Role::parse(role)
        .ok_or_else(|| failed(format!("the seed names an unknown role {role:?}")))?;
    by.invite(case, to.party().as_str(), role, note).await?;
    let standing = |node: &Node| -> Option<Membership> {
        node.case_detail(case).ok().and_then(|d| {
            d.participants
                .into_iter()
                .find(|p| p.party == to.party().as_str())
                .map(|p| p.status)
        })
    };
    wait(&format!("the invitation on {}", to.party()), || {
        Ok(standing(to) == Some(Membership::Invited))
    })
    .await?;
    to.accept_invitation(case).await?;
    wait(
        &format!("{} a member on {}", to.party(), by.party()),
        || Ok(standing(by) == Some(Membership::Member)),
    )
    .await?;
    wait(&format!("the earlier thread on {}", to.party()), || {
        Ok(to
            .case_detail(case)
            .is_ok_and(|d| d.messages.iter().any(|m| m.direction == "relayed")))
    })
    .await
}

/// The files of a production step, their texts resolved.
pub(super) fn text_list(
    ctx: &Context,
    files: &[(String, String)],
) -> Result<Vec<(String, String)>, CliError> {
    files
        .iter()
        .map(|(name, text)| Ok((name.clone(), ctx.text(text)?)))
        .collect()
}
