//! `liaison glossary`: the shared glossary.

use liaison_node::Node;

use crate::cli::GlossaryCommand;
use crate::error::CliError;
use crate::output::{print_json, read_body};

pub(super) async fn glossary(command: GlossaryCommand, json: bool) -> Result<(), CliError> {
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
