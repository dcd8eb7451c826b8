//! What each command does.

use std::io::Write as _;
use std::path::Path;

use liaison_log::note::NoteVerifier;
use liaison_node::attachments::Attaching;
use liaison_node::verify::{TileSource, VerifyReport, verify_log};
use liaison_node::{InitOptions, Node};
use liaison_proto::NodeCard;
use liaison_store::peers::PinOutcome;
use serde_json::json;

use crate::cli::{
    AttachmentCommand, BenchCommand, CaseCommand, Cli, Command, DutyCommand, GlossaryCommand,
    LogCommand, PeerCommand, PingCommand, StixCommand, TokenCommand, UserCommand,
};
use crate::error::CliError;

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let json = cli.json;
    match cli.command {
        Command::Init {
            dir,
            party,
            name,
            lang,
            role,
            listen,
            app_listen,
            public_url,
        } => {
            let options = InitOptions {
                party,
                name,
                lang,
                role,
                listen,
                app_listen,
                public_url,
            };
            let node = liaison_node::init(&dir, &options).await?;
            if json {
                print_json(&json!({
                    "dir": dir,
                    "party": node.party.as_str(),
                    "log_origin": node.store.log_origin(),
                    "log_key": node.store.log_signer().verifier().to_encoded(),
                }))
            } else {
                println!(
                    "Created node {} ({}) in {}.\nLog {} — verifier key {}\nNext: `liaison card {}` to share its card, `liaison serve {}` to run it.",
                    node.party,
                    node.config.node.name,
                    dir.display(),
                    node.store.log_origin(),
                    node.store.log_signer().verifier().to_encoded(),
                    dir.display(),
                    dir.display()
                );
                Ok(())
            }
        }
        Command::Card { dir } => {
            let node = Node::open(&dir)?;
            println!("{}", node.card_json()?);
            Ok(())
        }
        Command::Peer { command } => peer(command, json).await,
        Command::Serve { dir } => serve(&dir).await,
        Command::Log { command } => log(command, json).await,
        Command::Config { dir } => {
            let node = Node::open(&dir)?;
            let vars = node.config.variables()?;
            if json {
                let map: serde_json::Map<String, serde_json::Value> =
                    vars.into_iter().map(|(k, v)| (k, json!(v))).collect();
                print_json(&map)
            } else {
                for (var, value) in vars {
                    println!("{var}={value}");
                }
                Ok(())
            }
        }
        Command::Case { command } => case(command, json).await,
        Command::Audit { dir, peer } => audit(&dir, peer.as_deref(), json).await,
        Command::Alerts { dir } => {
            let node = Node::open(&dir)?;
            let alerts = node
                .store
                .read(|c| liaison_store::federation::alerts(c, false))?;
            if json {
                return print_json(&alerts);
            }
            if alerts.is_empty() {
                println!("No open alerts.");
            }
            for a in alerts {
                println!("{}\t{}\t{}", a.at, a.kind, a.message);
            }
            Ok(())
        }
        Command::Attachment {
            command: AttachmentCommand::Get { dir, sha256, out },
        } => {
            use futures_util::StreamExt as _;
            let node = Node::open(&dir)?;
            let mut stream = Box::pin(
                node.read_attachment(&sha256)
                    .map_err(|e| CliError::new("not_found", e.to_string()))?,
            );
            let mut sink: Box<dyn std::io::Write> = match &out {
                Some(p) => Box::new(
                    std::fs::File::create(p)
                        .map_err(|e| CliError::io(format!("cannot create {}: {e}", p.display())))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| CliError::new("corrupt", e.to_string()))?;
                sink.write_all(&chunk)
                    .map_err(|e| CliError::io(format!("cannot write: {e}")))?;
            }
            sink.flush()
                .map_err(|e| CliError::io(format!("cannot write: {e}")))?;
            Ok(())
        }
        Command::User { command } => user(command, json).await,
        Command::Search {
            dir,
            query,
            lang,
            limit,
        } => {
            let node = Node::open(&dir)?;
            let hits = node.search(
                liaison_core::roles::Role::Administrator,
                &query,
                &lang,
                limit,
            )?;
            if json {
                return print_json(&hits);
            }
            for h in hits {
                println!("{}\t{}\t{}", h.kind, h.id, h.title);
            }
            Ok(())
        }
        Command::Reindex { dir } => {
            let node = Node::open(&dir)?;
            let bar = progress_bar("indexing");
            let total = node
                .rebuild_search_index(|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await?;
            bar.finish_and_clear();
            println!("Indexed {total} documents.");
            Ok(())
        }
        Command::Glossary { command } => glossary(command, json).await,
        Command::Duty { command } => duty(command, json).await,
        Command::Stix { command } => stix(command, json).await,
        Command::Hash { command } => crate::hashes::run(command, json).await,
        Command::Ping { command } => ping(command, json).await,
        Command::TlpReads { dir, limit } => {
            let node = Node::open(&dir)?;
            let reads = node.tlp_reads(limit)?;
            if json {
                return print_json(&reads);
            }
            for r in reads {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.at, r.username, r.tlp, r.via, r.object
                );
            }
            Ok(())
        }
        Command::Norms { dir } => {
            let node = Node::open(&dir)?;
            let stats = node.stats()?;
            let tags = node.store.read(liaison_store::reference::norm_tag_counts)?;
            if json {
                return print_json(
                    &json!({"norms": liaison_core::reference::NORMS.norms, "tagged_cases": tags, "norm_h_responsiveness": stats.responsiveness}),
                );
            }
            for n in &liaison_core::reference::NORMS.norms {
                let count = tags
                    .iter()
                    .find(|(id, _)| *id == n.id)
                    .map(|(_, c)| *c)
                    .unwrap_or(0);
                println!("13({}) [{} tagged cases] {}", n.id, count, n.en);
            }
            println!("\nNorm 13(h), measured from the cases (requests received by each party):");
            for r in &stats.responsiveness {
                let median = r
                    .median_ack_secs
                    .map(|s| format!("{s} s"))
                    .unwrap_or_else(|| "—".into());
                println!(
                    "  {}: {} requests, {} acknowledged (median {median}), {} executed, {} refused",
                    r.party, r.requests, r.acknowledged, r.executed, r.refused
                );
            }
            Ok(())
        }
        Command::Crosswalk { which } => match which.as_str() {
            "sectors" => {
                let s = &*liaison_core::reference::SECTORS;
                if json {
                    return print_json(s);
                }
                for x in s.us.iter().chain(&s.ru) {
                    let links = if x.counterparts.is_empty() {
                        format!(
                            "no counterpart: {}",
                            x.no_counterpart.clone().unwrap_or_default()
                        )
                    } else {
                        x.counterparts.join(", ")
                    };
                    println!("{}\t{} / {}\t→ {links}", x.id, x.en, x.ru);
                }
                Ok(())
            }
            "offences" => {
                let o = &*liaison_core::offences::OFFENCES;
                if json {
                    return print_json(o);
                }
                for x in &o.offences {
                    let statutes: Vec<String> = x
                        .statutes
                        .iter()
                        .map(|s| format!("{}: {}", s.jurisdiction, s.cite))
                        .collect();
                    println!(
                        "{}\tBudapest art. {}\t{}\t{}",
                        x.id,
                        x.budapest_article,
                        x.en,
                        statutes.join("; ")
                    );
                }
                Ok(())
            }
            other => Err(CliError::invalid(format!(
                "crosswalk {other:?} is not known: use sectors or offences"
            ))),
        },
        Command::Escalations { dir } => {
            let node = Node::open(&dir)?;
            let rows = node
                .store
                .read(|c| liaison_store::federation::escalations(c, 1000))?;
            if json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("No escalations.");
            }
            for e in rows {
                println!(
                    "{}\t{}\t{}\t{}\tdue {}\te-mail: {}\twebhook: {}\n\t{}",
                    e.at,
                    e.level,
                    e.deadline,
                    e.subject,
                    e.due,
                    e.email_status,
                    e.webhook_status,
                    e.message
                );
            }
            Ok(())
        }
        Command::Demo {
            dir,
            base_port,
            no_seed,
        } => crate::demo::run(&dir, base_port, !no_seed).await,
        Command::Bench { command } => match command {
            BenchCommand::Log { dir, entries } => crate::bench::log(dir.as_deref(), entries).await,
            BenchCommand::Federation {
                dir,
                messages,
                rate,
                seconds,
            } => crate::bench::federation(dir.as_deref(), messages, rate, seconds).await,
            BenchCommand::Ui { dir, cases, runs } => {
                crate::bench::ui(dir.as_deref(), cases, runs).await
            }
            BenchCommand::Taxii {
                dir,
                objects,
                medallion_objects,
                medallion_budget_secs,
            } => {
                crate::bench::taxii(
                    dir.as_deref(),
                    objects,
                    medallion_objects,
                    medallion_budget_secs,
                )
                .await
            }
            BenchCommand::Idle { dir } => crate::bench::idle(dir.as_deref()).await,
            BenchCommand::Abuse { dir, seconds } => {
                crate::bench::abuse(dir.as_deref(), seconds).await
            }
            BenchCommand::Pdq {
                dir,
                sizes,
                queries,
                reference_queries,
                images,
            } => crate::bench::pdq(dir.as_deref(), sizes, queries, reference_queries, images).await,
            BenchCommand::Search {
                dir,
                messages,
                per_case,
                queries,
            } => crate::bench::search(dir.as_deref(), messages, per_case, queries).await,
        },
    }
}

pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::io(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

fn read_card(path: &Path) -> Result<NodeCard, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::invalid(format!("{} is not a node card: {e}", path.display())))
}

async fn peer(command: PeerCommand, json: bool) -> Result<(), CliError> {
    match command {
        PeerCommand::Add {
            dir,
            card_file,
            replace,
        } => {
            let node = Node::open(&dir)?;
            let card = read_card(&card_file)?;
            let (checked, outcome) = node.pin_peer(&card, replace).await?;
            let what = match outcome {
                PinOutcome::Added => "pinned",
                PinOutcome::Unchanged => "already pinned with this card",
                PinOutcome::Replaced => "re-pinned with its new card",
            };
            if json {
                print_json(
                    &json!({"party": checked.party.as_str(), "outcome": what, "fingerprint": card.tls_fingerprint}),
                )
            } else {
                println!(
                    "Peer {} ({}) {what}: certificate {}, log {}.",
                    checked.party, card.name, card.tls_fingerprint, card.log_origin
                );
                Ok(())
            }
        }
        PeerCommand::List { dir } => {
            let node = Node::open(&dir)?;
            let peers = node.peers()?;
            if json {
                let cards: Vec<&NodeCard> = peers.iter().map(|p| &p.card).collect();
                print_json(&cards)
            } else {
                if peers.is_empty() {
                    println!("No peers pinned. Pin one with `liaison peer add DIR CARD_FILE`.");
                }
                for p in peers {
                    println!(
                        "{}\t{}\t{}\t{}",
                        p.party, p.card.role, p.card.federation_url, p.card.name
                    );
                }
                Ok(())
            }
        }
    }
}

async fn serve(dir: &Path) -> Result<(), CliError> {
    use tokio::signal::unix::{SignalKind, signal};
    // Watched before "serving" is announced: a signal sent as soon as the
    // line appears must reach the clean shutdown, not the default handler.
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| CliError::io(format!("cannot watch SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| CliError::io(format!("cannot watch SIGINT: {e}")))?;
    let node = Node::open(dir)?;
    let listeners = liaison_server::bind(&node).await?;
    let mut server = liaison_server::start(node.clone(), listeners).await?;
    let scheme = if server.app_tls { "https" } else { "http" };
    println!(
        "liaison: serving party {} — federation https://{}, app {scheme}://{}",
        node.party, server.federation_addr, server.app_addr
    );
    let _ = std::io::stdout().flush();
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = server.stopped() => {
            return Err(CliError::new("server_error", "a listener stopped unexpectedly"));
        }
    }
    eprintln!("liaison: shutting down");
    server.shutdown().await;
    eprintln!("liaison: stopped cleanly");
    Ok(())
}

async fn log(command: LogCommand, json: bool) -> Result<(), CliError> {
    match command {
        LogCommand::Checkpoint { dir } => {
            let node = Node::open(&dir)?;
            print!("{}", node.store.checkpoint()?);
            Ok(())
        }
        LogCommand::Verify {
            target,
            key,
            as_dir,
        } => {
            let (source, log_key) = verify_source(&target, key.as_deref(), as_dir.as_deref())?;
            let bar = progress_bar("verifying tiles");
            let result = verify_log(&source, &log_key, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await;
            bar.finish_and_clear();
            let report = result
                .map_err(|e| CliError::verification(format!("the log does not verify: {e}")))?;
            print_report(&report, json)
        }
    }
}

fn print_report(report: &VerifyReport, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(report);
    }
    let kinds: Vec<String> = report
        .entry_kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    println!(
        "Verified log {}: checkpoint signature valid; {} entries ({}) each match their leaf hash; {} tiles consistent; recomputed root {} equals the checkpoint's.{}",
        report.origin,
        report.size,
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            kinds.join(", ")
        },
        report.tiles_checked,
        report.root,
        if report.first_entry_is_card {
            " The first entry commits to the node's card."
        } else {
            ""
        }
    );
    Ok(())
}

/// Decides where tiles come from and which key must have signed them.
fn verify_source(
    target: &str,
    key: Option<&str>,
    as_dir: Option<&Path>,
) -> Result<(TileSource, NoteVerifier), CliError> {
    let parse_key =
        |k: &str| NoteVerifier::parse(k).map_err(|e| CliError::invalid(format!("--key: {e}")));
    if !(target.starts_with("http://") || target.starts_with("https://")) {
        let node = Node::open(Path::new(target))?;
        let log_key = match key {
            Some(k) => parse_key(k)?,
            None => node.store.log_signer().verifier(),
        };
        return Ok((TileSource::Local(node.store.clone()), log_key));
    }
    let base_url = target.trim_end_matches('/').to_owned();
    if base_url.starts_with("http://") {
        let log_key = parse_key(key.ok_or_else(|| CliError::invalid("verifying a URL needs --key (the log's verifier key) or --as DIR with the peer pinned"))?)?;
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| CliError::io(format!("cannot build the HTTP client: {e}")))?;
        return Ok((TileSource::Remote { client, base_url }, log_key));
    }
    let dir = as_dir.ok_or_else(|| {
        CliError::invalid("an https:// federation URL needs --as DIR: the node whose TLS identity and pinned peers to use")
    })?;
    let node = Node::open(dir)?;
    let peer = node
        .peers()?
        .into_iter()
        .find(|p| base_url.starts_with(p.card.federation_url.trim_end_matches('/')))
        .ok_or_else(|| {
            CliError::invalid(format!(
                "no pinned peer of {} serves {base_url}",
                dir.display()
            ))
        })?;
    let log_key = match key {
        Some(k) => parse_key(k)?,
        None => peer.log_key.clone(),
    };
    let client = liaison_node::tls::peer_http_client(&node.tls, peer.fingerprint)?;
    Ok((TileSource::Remote { client, base_url }, log_key))
}

pub fn progress_bar(message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

fn read_body(path: &Path) -> Result<serde_json::Value, CliError> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| CliError::io(format!("cannot read standard input: {e}")))?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::invalid(format!("{} is not JSON: {e}", path.display())))
}

async fn case(command: CaseCommand, json: bool) -> Result<(), CliError> {
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
                return print_json(&cases);
            }
            for c in cases {
                let title =
                    liaison_core::case::title(&c.kind, &c.subject, c.offence.as_deref(), "en");
                println!(
                    "{}\t{}\t{} → {}\t{}\t{title}",
                    c.id, c.kind, c.initiator, c.responder, c.state
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
                let proof = match m.receipt_verified {
                    Some(true) => "receipt verified",
                    Some(false) => "RECEIPT DOES NOT VERIFY",
                    None => "no receipt yet",
                };
                println!(
                    "- {} {} {} → {} [{}; {}; log entry {}]\n  {}",
                    m.created,
                    m.kind,
                    m.sender,
                    m.recipient,
                    m.delivery,
                    proof,
                    m.log_index,
                    m.body
                );
            }
            Ok(())
        }
    }
}

async fn audit(dir: &Path, peer: Option<&str>, json: bool) -> Result<(), CliError> {
    let node = Node::open(dir)?;
    let report = node.audit(peer).await?;
    if json {
        print_json(&report)?;
    } else {
        for p in &report.peers {
            let head = match (p.size, &p.root) {
                (Some(s), Some(r)) => format!("log size {s}, root {r}"),
                _ => "log unavailable".to_owned(),
            };
            let cosigned = if p.cosigned_by.is_empty() {
                String::new()
            } else {
                format!(", cosigned by {}", p.cosigned_by.join(", "))
            };
            println!(
                "{}: {} — {head}{cosigned}; {} checkpoints consistent, {} receipts included",
                p.party,
                if p.ok { "OK" } else { "PROBLEMS" },
                p.checkpoints_checked,
                p.receipts_verified
            );
            for problem in &p.problems {
                println!("  {}: {}", problem.kind, problem.message);
            }
        }
        if report.peers.is_empty() {
            println!("No pinned parties to audit.");
        }
    }
    if report.ok {
        Ok(())
    } else {
        Err(CliError::verification(
            "the audit found problems (listed above)",
        ))
    }
}

/// Stores local files as attachments and describes them for an envelope.
async fn store_attachments(
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
fn media_type(name: &str) -> &'static str {
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

async fn user(command: UserCommand, json: bool) -> Result<(), CliError> {
    match command {
        UserCommand::Add {
            dir,
            username,
            role,
            lang,
        } => {
            let node = Node::open(&dir)?;
            let mut password = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut password).map_err(|e| {
                CliError::io(format!("cannot read the password from standard input: {e}"))
            })?;
            let password = password.trim_end_matches(['\n', '\r']);
            let created = node.add_user(&username, &role, password, &lang).await?;
            if json {
                print_json(&json!({"username": username, "role": role, "created": created}))
            } else {
                println!(
                    "{} user {username} ({role}).",
                    if created { "Added" } else { "Updated" }
                );
                Ok(())
            }
        }
        UserCommand::Token(args) => match args.action {
            None => {
                let (Some(dir), Some(username)) = (args.dir, args.username) else {
                    return Err(CliError::invalid(
                        "give the node directory and the user name",
                    ));
                };
                let node = Node::open(&dir)?;
                let days = args.days.unwrap_or(node.config.accounts.token_days);
                let token = node
                    .create_token_for_days(&username, &args.label, days)
                    .await?;
                println!("{token}");
                Ok(())
            }
            Some(TokenCommand::List { dir, username }) => {
                let node = Node::open(&dir)?;
                let tokens = node.tokens(&username)?;
                if json {
                    return print_json(&tokens);
                }
                for t in tokens {
                    let expires = jiff::Timestamp::from_second(t.expires)
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    println!("{}\t{}\t{}\texpires {expires}", t.id, t.label, t.created);
                }
                Ok(())
            }
            Some(TokenCommand::Revoke {
                dir,
                username,
                id,
                all,
            }) => {
                if id.is_none() && !all {
                    return Err(CliError::invalid(
                        "name the token to revoke (its id from `liaison user token list`) or give --all",
                    ));
                }
                let node = Node::open(&dir)?;
                let n = node.revoke_tokens(&username, id.as_deref()).await?;
                if n == 0 && id.is_some() {
                    return Err(CliError::invalid(format!(
                        "{username} has no token with that id"
                    )));
                }
                println!("revoked {n} token(s) of {username}");
                Ok(())
            }
        },
        UserCommand::Disable { dir, username } => {
            let node = Node::open(&dir)?;
            node.set_user_disabled(&username, true).await?;
            println!("{username} is disabled: its sessions ended and its tokens no longer work");
            Ok(())
        }
        UserCommand::Enable { dir, username } => {
            let node = Node::open(&dir)?;
            node.set_user_disabled(&username, false).await?;
            println!("{username} is enabled");
            Ok(())
        }
        UserCommand::Clearance {
            dir,
            username,
            level,
        } => {
            let node = Node::open(&dir)?;
            let clearance = match level.as_str() {
                "default" => None,
                other => Some(
                    liaison_core::tlp::Tlp::parse(other).map_err(liaison_node::NodeError::from)?,
                ),
            };
            node.set_user_clearance(&username, clearance).await?;
            let user = node
                .user(&username)?
                .ok_or_else(|| CliError::new("not_found", format!("no user {username}")))?;
            println!("{username}: reads up to {}", user.clearance.label());
            Ok(())
        }
        UserCommand::List { dir } => {
            let node = Node::open(&dir)?;
            let users = node.store.read(liaison_store::users::all)?;
            if json {
                return print_json(&users);
            }
            for u in users {
                println!(
                    "{}\t{}\t{}{}",
                    u.username,
                    u.role,
                    u.lang,
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
            Ok(())
        }
    }
}

async fn stix(command: StixCommand, json: bool) -> Result<(), CliError> {
    match command {
        StixCommand::Import {
            dir,
            file,
            collection,
        } => {
            let node = Node::open(&dir)?;
            let text = std::fs::read(&file)
                .map_err(|e| CliError::new("io", format!("cannot read {}: {e}", file.display())))?;
            let bundle: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
                CliError::new(
                    "invalid_input",
                    format!("{} is not JSON: {e}", file.display()),
                )
            })?;
            let objects = liaison_core::stix::objects_of(&bundle)
                .map_err(liaison_node::NodeError::from)?
                .clone();
            let bar = progress_bar("importing");
            bar.set_length(objects.len() as u64);
            let outcome = node
                .add_stix_objects(&collection, objects, |done, _| bar.set_position(done))
                .await?;
            bar.finish_and_clear();
            if json {
                print_json(&outcome)?;
            } else {
                let present = outcome
                    .accepted
                    .iter()
                    .filter(|a| a.already_present)
                    .count();
                println!(
                    "{} objects added, {present} already present, {} refused",
                    outcome.accepted.len() - present,
                    outcome.refused.len()
                );
                for r in &outcome.refused {
                    println!(
                        "refused #{} {}: {}",
                        r.index,
                        r.id.as_deref().unwrap_or("(no id)"),
                        r.reason
                    );
                }
            }
            if outcome.refused.is_empty() {
                Ok(())
            } else {
                Err(CliError::new(
                    "partially_imported",
                    format!(
                        "{} of {} objects were refused (the others were imported)",
                        outcome.refused.len(),
                        outcome.refused.len() + outcome.accepted.len()
                    ),
                ))
            }
        }
        StixCommand::Export {
            dir,
            case,
            max_tlp,
            out,
        } => {
            let node = Node::open(&dir)?;
            let ceiling =
                liaison_core::tlp::Tlp::parse(&max_tlp).map_err(liaison_node::NodeError::from)?;
            let bundle = node
                .export_incidents(case.as_deref(), ceiling, "cli")
                .await?;
            let n = bundle["objects"].as_array().map_or(0, Vec::len);
            let text = serde_json::to_string_pretty(&bundle)
                .map_err(|e| CliError::new("internal", e.to_string()))?;
            match out {
                Some(path) => {
                    let bar = progress_bar("writing");
                    bar.set_length(text.len() as u64);
                    std::fs::write(&path, &text).map_err(|e| {
                        CliError::new("io", format!("cannot write {}: {e}", path.display()))
                    })?;
                    bar.finish_and_clear();
                    eprintln!("{n} objects written to {}", path.display());
                }
                None => println!("{text}"),
            }
            Ok(())
        }
    }
}

async fn duty(command: DutyCommand, json: bool) -> Result<(), CliError> {
    match command {
        DutyCommand::Add {
            dir,
            name,
            email,
            phone,
            from,
            to,
        } => {
            let node = Node::open(&dir)?;
            let id = node.add_shift(&name, &email, &phone, &from, &to).await?;
            println!("{id}");
            Ok(())
        }
        DutyCommand::List { dir } => {
            let node = Node::open(&dir)?;
            let (roster, now) = (node.roster()?, node.on_duty()?);
            if json {
                return print_json(&json!({"roster": roster, "on_duty": now}));
            }
            for s in roster {
                let on = if now.iter().any(|n| n.id == s.id) {
                    "\ton duty now"
                } else {
                    ""
                };
                println!(
                    "{}\t{} → {}\t{} <{}> {}{on}",
                    s.id, s.starts, s.ends, s.name, s.email, s.phone
                );
            }
            Ok(())
        }
        DutyCommand::Remove { dir, id } => {
            let node = Node::open(&dir)?;
            node.remove_shift(id).await?;
            println!("shift {id} removed");
            Ok(())
        }
    }
}

async fn ping(command: PingCommand, json: bool) -> Result<(), CliError> {
    match command {
        PingCommand::Send { dir, party } => {
            let node = Node::open(&dir)?;
            let sent = node.ping(&party, false).await?;
            if json {
                print_json(&sent)
            } else {
                println!("{}", sent.case_id);
                Ok(())
            }
        }
        PingCommand::List { dir } => {
            let node = Node::open(&dir)?;
            let stats = node.ping_stats()?;
            if json {
                return print_json(&stats);
            }
            let secs = |s: Option<i64>| s.map(|s| format!("{s} s")).unwrap_or_else(|| "—".into());
            for s in stats {
                println!(
                    "{}\tsent {}\tanswered {}\twaiting {}\tlast {}\tmedian {}\tmax {}",
                    s.party,
                    s.sent,
                    s.answered,
                    s.waiting,
                    secs(s.last_response_secs),
                    secs(s.median_response_secs),
                    secs(s.max_response_secs)
                );
            }
            Ok(())
        }
    }
}

async fn glossary(command: GlossaryCommand, json: bool) -> Result<(), CliError> {
    match command {
        GlossaryCommand::List { dir } => {
            let node = Node::open(&dir)?;
            let terms = node.glossary()?;
            if json {
                return print_json(&terms);
            }
            for t in terms {
                println!(
                    "{}\t{}\t{} / {}",
                    t.id,
                    t.status.as_str(),
                    t.term_en,
                    t.term_ru
                );
            }
            Ok(())
        }
        GlossaryCommand::Show { dir, term } => {
            let node = Node::open(&dir)?;
            let t = node.glossary_term(&term)?;
            if json {
                return print_json(&t);
            }
            println!("{} / {} — {}", t.term_en, t.term_ru, t.status.as_str());
            if let Some(a) = &t.agreed {
                println!(
                    "Agreed (signed by {}):\n  en: {}\n  ru: {}",
                    a.signed_by.join(", "),
                    a.en,
                    a.ru
                );
            }
            for (party, d) in &t.definitions {
                println!("Definition of {party}:\n  en: {}\n  ru: {}", d.en, d.ru);
            }
            for (party, (en, ru)) in &t.divergences {
                println!("{party} diverges: {en} {ru}");
            }
            if let Some((en, ru)) = &t.draft {
                println!("Draft (this project):\n  en: {en}\n  ru: {ru}");
            }
            for h in &t.history {
                println!("- {} {} {} {}", h.at, h.party, h.action, h.summary);
            }
            Ok(())
        }
        GlossaryCommand::Propose { dir, term, file } => {
            let node = Node::open(&dir)?;
            let v = read_body(&file)?;
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
            let sources = v
                .get("sources")
                .and_then(|x| x.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let id = node
                .glossary_propose(
                    &term,
                    &s("term_en"),
                    &s("term_ru"),
                    &s("definition_en"),
                    &s("definition_ru"),
                    sources,
                )
                .await?;
            println!("{id}");
            Ok(())
        }
        GlossaryCommand::Sign { dir, term } => {
            let node = Node::open(&dir)?;
            println!("{}", node.glossary_sign(&term).await?);
            Ok(())
        }
        GlossaryCommand::Diverge {
            dir,
            term,
            reasons_en,
            reasons_ru,
        } => {
            let node = Node::open(&dir)?;
            println!(
                "{}",
                node.glossary_diverge(&term, &reasons_en, &reasons_ru)
                    .await?
            );
            Ok(())
        }
    }
}
