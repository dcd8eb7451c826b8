//! `liaison user`: users, passwords, clearances, tokens.

use liaison_node::Node;
use serde_json::json;

use crate::cli::{TokenCommand, UserCommand};
use crate::error::CliError;
use crate::output::print_json;

pub(super) async fn user(command: UserCommand, json: bool) -> Result<(), CliError> {
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
                let days = args.days.unwrap_or(node.config().accounts.token_days);
                let token = node
                    .create_token_for_days(&username, &args.label, days)
                    .await?;
                if json {
                    return print_json(&json!({
                        "username": username, "label": args.label, "days": days, "token": token,
                    }));
                }
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
                if json {
                    return print_json(&json!({"username": username, "revoked": n}));
                }
                println!("revoked {n} token(s) of {username}");
                Ok(())
            }
        },
        UserCommand::Disable { dir, username } => {
            let node = Node::open(&dir)?;
            node.set_user_disabled(&username, true).await?;
            if json {
                return print_json(&json!({"username": username, "disabled": true}));
            }
            println!("{username} is disabled: its sessions ended and its tokens no longer work");
            Ok(())
        }
        UserCommand::Enable { dir, username } => {
            let node = Node::open(&dir)?;
            node.set_user_disabled(&username, false).await?;
            if json {
                return print_json(&json!({"username": username, "disabled": false}));
            }
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
            let users = node.users()?;
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
