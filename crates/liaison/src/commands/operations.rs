//! `liaison duty` and `liaison ping`: the duty roster and ping tests.

use liaison_node::Node;
use serde_json::json;

use crate::cli::{DutyCommand, PingCommand};
use crate::error::CliError;
use crate::output::print_json;

pub(super) async fn duty(command: DutyCommand, json: bool) -> Result<(), CliError> {
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

pub(super) async fn ping(command: PingCommand, json: bool) -> Result<(), CliError> {
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
