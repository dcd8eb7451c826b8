//! What each command does: `run` dispatches to one module per command group
//! (`node`, `peer`, `case`, `user`, `stix`, `operations`, `glossary`) on the
//! shared leaf `crate::output`.

use std::io::Write as _;

use liaison_node::{InitOptions, Node};
use serde_json::json;

use crate::cli::{AttachmentCommand, BenchCommand, Cli, Command};
use crate::error::CliError;

mod case;
mod directory;
mod glossary;
mod hashes;
mod key;
mod node;
mod operations;
mod peer;
mod stix;
mod user;

use self::case::case;
use self::glossary::glossary;
use self::key::key;
use self::node::{audit, log, serve};
use self::operations::{duty, ping};
use self::peer::peer;
use self::stix::stix;
use self::user::user;
use crate::output::{print_json, progress_bar};

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let json = cli.json;
    match cli.command {
        Command::Init {
            dir,
            party,
            name,
            lang,
            role,
            kind,
            jurisdiction,
            listen,
            app_listen,
            public_url,
            notify,
        } => {
            let options = InitOptions {
                party,
                name,
                lang,
                role,
                kind,
                jurisdiction,
                listen,
                app_listen,
                public_url,
                notify,
            };
            let node = liaison_node::init(&dir, &options).await?;
            if json {
                print_json(&json!({
                    "dir": dir,
                    "party": node.party().as_str(),
                    "log_origin": node.log_origin(),
                    "log_key": node.log_verifier().to_encoded(),
                    "recovery_key_file": node.dir().recovery_key(),
                }))
            } else {
                println!(
                    "Created node {} ({}) in {}.\nLog {} — verifier key {}\nNext: `liaison card {}` to share its card, `liaison serve {}` to run it.",
                    node.party(),
                    node.config().node.name,
                    dir.display(),
                    node.log_origin(),
                    node.log_verifier().to_encoded(),
                    dir.display(),
                    dir.display()
                );
                println!(
                    "\nRecovery key: {}\nMove it off this machine now (e.g. to offline storage) and delete it here: the node does not need it to run. It is what revokes a stolen log key; its public half is on the card.",
                    node.dir().recovery_key().display()
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
        Command::Key { command } => key(command, json).await,
        Command::Directory { dir, publish, sync } => {
            directory::directory(&dir, publish.as_deref(), sync, json).await
        }
        Command::Serve { dir } => serve(&dir).await,
        Command::Log { command } => log(command, json).await,
        Command::Config { dir } => {
            let node = Node::open(&dir)?;
            let vars = node.config().variables()?;
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
        Command::Audit {
            dir,
            peer,
            require_ml_dsa,
        } => audit(&dir, peer.as_deref(), require_ml_dsa, json).await,
        Command::Alerts { dir } => {
            let node = Node::open(&dir)?;
            let alerts = node.alerts(false)?;
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
        Command::Hash { command } => hashes::run(command, json).await,
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
            let tags = node.norm_tag_counts()?;
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
            let rows = node.all_escalations(1000)?;
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
        Command::Bench { command } => {
            let report = match command {
                BenchCommand::Log { dir, entries } => {
                    crate::bench::log(dir.as_deref(), entries).await
                }
                BenchCommand::Federation {
                    dir,
                    messages,
                    rounds,
                    rate,
                    seconds,
                } => {
                    crate::bench::federation(dir.as_deref(), messages, rounds, rate, seconds).await
                }
                BenchCommand::Keys {
                    dir,
                    messages,
                    rounds,
                } => crate::bench::keys(dir.as_deref(), messages, rounds).await,
                BenchCommand::Fanout {
                    dir,
                    messages,
                    rate,
                    seconds,
                    rounds,
                } => crate::bench::fanout(dir.as_deref(), messages, rate, seconds, rounds).await,
                BenchCommand::Network { dir, parties } => {
                    crate::bench::network(dir.as_deref(), parties).await
                }
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
                } => {
                    crate::bench::pdq(dir.as_deref(), sizes, queries, reference_queries, images)
                        .await
                }
                BenchCommand::Search {
                    dir,
                    messages,
                    per_case,
                    queries,
                } => crate::bench::search(dir.as_deref(), messages, per_case, queries).await,
            }?;
            report.print(json);
            Ok(())
        }
    }
}
