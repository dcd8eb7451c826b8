//! `liaison case`: opening, continuing and showing cases, with attachments.

use liaison_core::order::NoticeAnswer;
use liaison_core::roster::Role;
use liaison_node::Node;
use liaison_node::attachments::Attaching;
use serde_json::json;

use crate::cli::CaseCommand;
use crate::error::CliError;
use crate::output::{print_json, read_body};

pub(super) async fn case(command: CaseCommand, json: bool) -> Result<(), CliError> {
    match command {
        CaseCommand::New {
            dir,
            to,
            kind,
            file,
            attach,
        } => {
            let node = Node::open(&dir)?;
            let body = read_body(&file)?;
            let attachments = store_attachments(&node, &attach).await?;
            let sent = node
                .open_case_with(&to, &kind, body, Attaching::by_operator(attachments))
                .await?;
            if json {
                print_json(&sent)
            } else {
                println!("{}", sent.case_id);
                Ok(())
            }
        }
        CaseCommand::Reply { dir, case_id, file } => {
            let node = Node::open(&dir)?;
            let body = read_body(&file)?;
            let sent = node.reply(&case_id, body).await?;
            if json {
                print_json(&sent)
            } else {
                println!("{}", sent.envelope_id);
                Ok(())
            }
        }
        CaseCommand::Act {
            dir,
            case_id,
            action,
            file,
            attach,
        } => {
            let node = Node::open(&dir)?;
            let details = match file {
                Some(f) => read_body(&f)?,
                None => serde_json::Value::Null,
            };
            let attachments = store_attachments(&node, &attach).await?;
            let sent = node
                .act_with(
                    &case_id,
                    &action,
                    details,
                    Attaching::by_operator(attachments),
                )
                .await?;
            let detail = node.case_detail(&case_id)?;
            if json {
                print_json(
                    &serde_json::json!({"envelope_id": sent.envelope_id, "state": detail.case.state}),
                )
            } else {
                println!("{} → {}", case_id, detail.case.state);
                Ok(())
            }
        }
        CaseCommand::Update { dir, case_id, file } => {
            let node = Node::open(&dir)?;
            let body = read_body(&file)?;
            let sent = node.update(&case_id, body).await?;
            if json {
                print_json(&sent)
            } else {
                println!("{}", sent.envelope_id);
                Ok(())
            }
        }
        CaseCommand::Answer {
            dir,
            case_id,
            item,
            status,
            reason,
            file,
        } => {
            let node = Node::open(&dir)?;
            let body = match (file, item, status) {
                (Some(f), _, _) => read_body(&f)?,
                (None, Some(item), Some(status)) => {
                    json!({"answers": [{"item": item, "status": status, "reason": reason}]})
                }
                _ => return Err(CliError::invalid("give --item and --status, or --file")),
            };
            let sent = node.answer_items(&case_id, body).await?;
            if json {
                print_json(&sent)
            } else {
                println!("{}", sent.envelope_id);
                Ok(())
            }
        }
        CaseCommand::Forward {
            dir,
            case_id,
            to,
            file,
        } => {
            let node = Node::open(&dir)?;
            let note = match file {
                Some(f) => read_body(&f)?
                    .get("note")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                None => String::new(),
            };
            let sent = node.forward(&case_id, &to, &note).await?;
            print_sent(&sent, json, &sent.case_id)
        }
        CaseCommand::Produce {
            dir,
            case_id,
            file,
            attach,
        } => {
            let node = Node::open(&dir)?;
            let statement = read_body(&file)?;
            let files = store_attachments(&node, &attach).await?;
            let sent = node
                .produce(&case_id, statement, Attaching::by_operator(files))
                .await?;
            print_sent(&sent, json, &sent.envelope_id)
        }
        CaseCommand::Relay { dir, case_id } => {
            let node = Node::open(&dir)?;
            let sent = node.relay(&case_id).await?;
            print_sent(&sent, json, &sent.envelope_id)
        }
        CaseCommand::Invite {
            dir,
            case_id,
            to,
            role,
            note,
        } => {
            let node = Node::open(&dir)?;
            let role = Role::parse(&role).ok_or_else(|| {
                CliError::invalid(format!(
                    "--role {role:?} is not co_investigator or executing_provider"
                ))
            })?;
            let sent = node.invite(&case_id, &to, role, &note).await?;
            print_sent(&sent, json, &sent.envelope_id)
        }
        CaseCommand::Accept { dir, case_id } => {
            let node = Node::open(&dir)?;
            let sent = node.accept_invitation(&case_id).await?;
            print_sent(&sent, json, &sent.envelope_id)
        }
        CaseCommand::Leave { dir, case_id, text } => {
            let node = Node::open(&dir)?;
            let sent = node.leave_team(&case_id, &text).await?;
            print_sent(&sent, json, &sent.envelope_id)
        }
        CaseCommand::Object {
            dir,
            case_id,
            grounds,
        } => {
            let node = Node::open(&dir)?;
            let sent = node
                .answer_notice(&case_id, NoticeAnswer::Objection, &grounds)
                .await?;
            print_sent(&sent, json, &sent.envelope_id)
        }
        CaseCommand::Consent { dir, case_id, text } => {
            let node = Node::open(&dir)?;
            let sent = node
                .answer_notice(&case_id, NoticeAnswer::NoObjection, &text)
                .await?;
            print_sent(&sent, json, &sent.envelope_id)
        }
        CaseCommand::Custody { dir, case_id } => {
            let node = Node::open(&dir)?;
            let files = node.custody(&case_id)?;
            if json {
                return print_json(&files);
            }
            for f in &files {
                println!("{} {} ({} bytes)", f.sha256, f.name, f.size);
                for h in &f.hand_overs {
                    let proof = match h.receipt_verified {
                        Some(true) => "receipt verified",
                        Some(false) => "RECEIPT DOES NOT VERIFY",
                        None => "no receipt held here",
                    };
                    println!(
                        "  {} {} → {} [{}; {}]",
                        h.created, h.from, h.to, h.kind, proof
                    );
                }
            }
            Ok(())
        }
        CaseCommand::Tag {
            dir,
            case_id,
            norm,
            remove,
        } => {
            let node = Node::open(&dir)?;
            node.tag_case(&case_id, &norm, !remove).await?;
            println!(
                "{case_id}: norm 13({norm}) {}",
                if remove { "removed" } else { "tagged" }
            );
            Ok(())
        }
        CaseCommand::List { dir } => {
            let node = Node::open(&dir)?;
            let cases = node.list_cases(100_000)?;
            if json {
                return print_json(&liaison_node::wire::Wire::wire(cases));
            }
            for c in cases {
                let kind = c.kind.as_str();
                let title = liaison_core::case::title(kind, &c.subject, c.offence.as_deref(), "en");
                println!(
                    "{}\t{kind}\t{} → {}\t{}\t{title}",
                    c.id, c.initiator, c.responder, c.state
                );
            }
            Ok(())
        }
        CaseCommand::Show { dir, case_id } => {
            let node = Node::open(&dir)?;
            let detail = node.case_detail(&case_id)?;
            if json {
                return print_json(&detail);
            }
            let c = &detail.case;
            let title = liaison_core::case::title(&c.kind, &c.subject, c.offence.as_deref(), "en");
            println!(
                "Case {} ({}) {} → {}: {title}\nState: {}, opened {}, updated {}",
                c.id, c.kind, c.initiator, c.responder, c.state, c.created, c.updated
            );
            let roster: Vec<String> = detail
                .participants
                .iter()
                .map(|p| format!("{} ({})", p.party, p.role.label("en")))
                .collect();
            println!("Participants: {}", roster.join(", "));
            if !c.links.is_empty() {
                println!("Follows: {}", c.links.join(", "));
            }
            if !detail.followed_by.is_empty() {
                println!("Followed by: {}", detail.followed_by.join(", "));
            }
            if let Some(h) = &detail.offence_hint {
                let statutes: Vec<String> = h
                    .statutes
                    .iter()
                    .map(|s| format!("{} ({})", s.cite, s.en))
                    .collect();
                println!(
                    "Offence: {} (Budapest art. {}); under {} law: {} — indicative, not legal advice",
                    h.en,
                    h.budapest_article,
                    h.jurisdiction,
                    if statutes.is_empty() {
                        "no counterpart listed".to_owned()
                    } else {
                        statutes.join("; ")
                    }
                );
            }
            if !detail.available_actions.is_empty() {
                println!(
                    "You ({}) may: {}",
                    detail.role,
                    detail.available_actions.join(", ")
                );
            }
            for m in &detail.messages {
                let proof = |verified: Option<bool>| match verified {
                    Some(true) => "receipt verified",
                    Some(false) => "RECEIPT DOES NOT VERIFY",
                    None => "no receipt yet",
                };
                println!(
                    "- {} {} {} → {} [{}; {}; log entry {}]\n  {}",
                    m.created,
                    m.kind,
                    m.sender,
                    m.recipients.join(", "),
                    m.delivery,
                    proof(m.receipt_verified),
                    m.log_index,
                    m.body
                );
                if m.receipts.len() > 1 {
                    for r in &m.receipts {
                        println!(
                            "    {}: {}; {}",
                            r.party,
                            r.delivery,
                            proof(r.receipt_verified)
                        );
                    }
                }
            }
            Ok(())
        }
    }
}

/// Prints what was sent: JSON, or the one id the command is about.
fn print_sent(sent: &liaison_node::federation::Sent, json: bool, id: &str) -> Result<(), CliError> {
    if json {
        print_json(sent)
    } else {
        println!("{id}");
        Ok(())
    }
}

/// Stores local files as attachments and describes them for an envelope.
pub(super) async fn store_attachments(
    node: &Node,
    files: &[std::path::PathBuf],
) -> Result<Vec<liaison_core::envelope::AttachmentRef>, CliError> {
    let mut out = Vec::new();
    for path in files {
        let stored = node
            .store_attachment_file(path)
            .await
            .map_err(|e| CliError::invalid(e.to_string()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(liaison_core::envelope::AttachmentRef {
            sha256: stored.sha256,
            size: stored.size,
            media_type: media_type(&name).to_owned(),
            name,
        });
    }
    Ok(out)
}

/// The media type of common evidence files, by extension.
pub(super) fn media_type(name: &str) -> &'static str {
    match name
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("txt" | "log") => "text/plain",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}
