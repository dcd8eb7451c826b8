//! The demo's seed: `seed.json` lists what the parties do, in order (open
//! a case and play it to its state, update, tag, roster shifts, glossary
//! events, item answers); this module plays it on running nodes, each step
//! waiting until both nodes agree.
//!
//! Strings of the form `${…}` are replaced before a step runs: `${today}`,
//! `${hours:N}` (now plus N hours), `${case:NAME}` (the id of the case an
//! earlier step named), `${demo_image.pdq}` / `${demo_image.quality}` (the
//! demo picture's PDQ hash), and any entry of `values`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use liaison_node::Node;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::CliError;

mod many;

/// The seed, embedded in the binary.
const SEED: &str = include_str!("seed.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seed {
    values: HashMap<String, Value>,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
enum Step {
    /// Opens a case (with `to` and every party of `also`) and plays `then` to its state.
    Open {
        name: Option<String>,
        from: String,
        to: String,
        #[serde(default)]
        also: Vec<String>,
        kind: String,
        body: Value,
        #[serde(default)]
        then: Vec<Move>,
    },
    /// The requested authority forwards `case` to a provider.
    Forward {
        name: String,
        case: String,
        by: String,
        to: String,
        note: String,
    },
    /// A provider produces files (name, text) with a statement.
    Produce {
        case: String,
        by: String,
        statement: Value,
        files: Vec<(String, String)>,
    },
    /// The forwarding authority relays the production of execution case `case`.
    Relay {
        case: String,
        by: String,
    },
    /// Waits until the notified authority's confirmation of an order is on `on`.
    Confirmed {
        case: String,
        on: String,
    },
    /// The notified authority objects (`objection`) or consents (`no_objection`).
    Notice {
        case: String,
        by: String,
        on: String,
        answer: String,
        grounds: String,
    },
    /// A member invites a party into a team, which accepts.
    Invite {
        case: String,
        by: String,
        to: String,
        role: String,
        note: String,
    },
    Update {
        case: String,
        by: String,
        body: Value,
    },
    Tag {
        case: String,
        norm: String,
        on: Vec<String>,
    },
    /// Tags every case but those of `except_kind` on each party.
    TagAll {
        norm: String,
        except_kind: String,
        on: Vec<String>,
    },
    Shift {
        on: String,
        name: String,
        email: String,
        phone: String,
        from_hours: i64,
        to_hours: i64,
    },
    GlossaryPropose {
        by: String,
        term: String,
        term_en: String,
        term_ru: String,
        definition_en: String,
        definition_ru: String,
        sources: Vec<String>,
    },
    GlossarySign {
        by: String,
        term: String,
    },
    GlossaryDiverge {
        by: String,
        term: String,
        reasons_en: String,
        reasons_ru: String,
    },
    AnswerItems {
        case: String,
        by: String,
        body: Value,
    },
    /// Waits until `on` holds an entry of `owner`'s hash list.
    WaitHashList {
        on: String,
        owner: String,
    },
}

/// One action in a case, by its requesting or requested party.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    by: Side,
    action: String,
    #[serde(default)]
    details: Value,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Side {
    Requesting,
    Requested,
}

/// What `${…}` strings stand for while the seed runs.
struct Context {
    values: HashMap<String, Value>,
    cases: HashMap<String, String>,
    now: jiff::Timestamp,
    pdq: String,
    quality: u8,
    /// Where the demo keeps its files.
    dir: std::path::PathBuf,
}

impl Context {
    fn resolve(&self, value: &Value) -> Result<Value, CliError> {
        Ok(match value {
            Value::String(s) => match s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(name) => self.lookup(name)?,
                None => value.clone(),
            },
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.resolve(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
                    .collect::<Result<_, CliError>>()?,
            ),
            _ => value.clone(),
        })
    }

    fn lookup(&self, name: &str) -> Result<Value, CliError> {
        let unknown = || {
            CliError::new(
                "demo_failed",
                format!("the seed names an unknown ${{{name}}}"),
            )
        };
        if name == "today" {
            return Ok(json!(
                self.now
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date()
                    .to_string()
            ));
        }
        if let Some(hours) = name.strip_prefix("hours:") {
            let hours: i64 = hours.parse().map_err(|_| unknown())?;
            return self.hours(hours).map(|at| json!(at));
        }
        if let Some(case) = name.strip_prefix("case:") {
            return self.cases.get(case).map(|id| json!(id)).ok_or_else(unknown);
        }
        match name {
            "demo_image.pdq" => Ok(json!(self.pdq)),
            "demo_image.quality" => Ok(json!(self.quality)),
            _ => self.values.get(name).cloned().ok_or_else(unknown),
        }
    }

    /// Now plus `hours`, as RFC 3339.
    fn hours(&self, hours: i64) -> Result<String, CliError> {
        self.now
            .checked_add(jiff::SignedDuration::from_hours(hours))
            .map(|at| at.to_string())
            .map_err(|e| CliError::new("demo_failed", format!("now + {hours} h: {e}")))
    }

    fn text(&self, s: &str) -> Result<String, CliError> {
        Ok(match self.resolve(&json!(s))? {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }
}

/// The parties of the seed, by code.
struct Parties<'a>(Vec<&'a Node>);

impl<'a> Parties<'a> {
    fn get(&self, code: &str) -> Result<&'a Node, CliError> {
        self.0
            .iter()
            .copied()
            .find(|n| n.party().as_str() == code)
            .ok_or_else(|| {
                CliError::new("demo_failed", format!("the seed names no party {code:?}"))
            })
    }

    /// The other party of a two-party step.
    fn other(&self, node: &Node) -> Result<&'a Node, CliError> {
        self.0
            .iter()
            .copied()
            .find(|n| n.party() != node.party())
            .ok_or_else(|| CliError::new("demo_failed", "the seed needs two parties"))
    }
}

/// Plays the seed on `nodes` (the parties it names); writes the demo
/// picture to `dir`.
pub async fn run(dir: &Path, nodes: &[&Node]) -> Result<(), CliError> {
    let seed: Seed = serde_json::from_str(SEED)
        .map_err(|e| CliError::new("demo_failed", format!("the seed is not valid: {e}")))?;
    let (pdq, quality) = write_demo_image(dir)?;
    let mut ctx = Context {
        values: seed.values,
        cases: HashMap::new(),
        now: jiff::Timestamp::now(),
        pdq,
        quality,
        dir: dir.to_owned(),
    };
    let parties = Parties(nodes.to_vec());
    for step in &seed.steps {
        play(step, &parties, &mut ctx).await?;
    }
    Ok(())
}

async fn play(step: &Step, parties: &Parties<'_>, ctx: &mut Context) -> Result<(), CliError> {
    match step {
        Step::Open {
            name,
            from,
            to,
            also,
            kind,
            body,
            then,
        } => {
            let (from, to) = (parties.get(from)?, parties.get(to)?);
            let also = also
                .iter()
                .map(|p| parties.get(p))
                .collect::<Result<Vec<_>, _>>()?;
            let case = open(from, to, &also, kind, ctx.resolve(body)?, then, ctx).await?;
            if let Some(name) = name {
                ctx.cases.insert(name.clone(), case);
            }
        }
        Step::Forward {
            name,
            case,
            by,
            to,
            note,
        } => {
            let exec =
                many::forward(parties.get(by)?, &ctx.text(case)?, parties.get(to)?, note).await?;
            ctx.cases.insert(name.clone(), exec);
        }
        Step::Produce {
            case,
            by,
            statement,
            files,
        } => {
            let files = many::text_list(ctx, files)?;
            many::produce(
                &ctx.dir,
                parties,
                parties.get(by)?,
                &ctx.text(case)?,
                ctx.resolve(statement)?,
                &files,
            )
            .await?;
        }
        Step::Relay { case, by } => {
            many::relay(parties, parties.get(by)?, &ctx.text(case)?).await?;
        }
        Step::Confirmed { case, on } => {
            many::confirmed(parties.get(on)?, &ctx.text(case)?).await?;
        }
        Step::Notice {
            case,
            by,
            on,
            answer,
            grounds,
        } => {
            many::notice(
                parties.get(by)?,
                parties.get(on)?,
                &ctx.text(case)?,
                answer,
                grounds,
            )
            .await?;
        }
        Step::Invite {
            case,
            by,
            to,
            role,
            note,
        } => {
            many::invite_and_accept(
                parties.get(by)?,
                parties.get(to)?,
                &ctx.text(case)?,
                role,
                note,
            )
            .await?;
        }
        Step::Update { case, by, body } => {
            let by = parties.get(by)?;
            by.update(&ctx.text(case)?, ctx.resolve(body)?).await?;
        }
        Step::Tag { case, norm, on } => {
            for party in on {
                parties
                    .get(party)?
                    .tag_case(&ctx.text(case)?, norm, true)
                    .await?;
            }
        }
        Step::TagAll {
            norm,
            except_kind,
            on,
        } => {
            for party in on {
                let node = parties.get(party)?;
                for case in node.list_cases(10_000)? {
                    if case.kind.as_str() != except_kind {
                        node.tag_case(&case.id, norm, true).await?;
                    }
                }
            }
        }
        Step::Shift {
            on,
            name,
            email,
            phone,
            from_hours,
            to_hours,
        } => {
            let (starts, ends) = (ctx.hours(*from_hours)?, ctx.hours(*to_hours)?);
            parties
                .get(on)?
                .add_shift(name, email, phone, &starts, &ends)
                .await?;
        }
        Step::GlossaryPropose {
            by,
            term,
            term_en,
            term_ru,
            definition_en,
            definition_ru,
            sources,
        } => {
            let node = parties.get(by)?;
            node.glossary_propose(
                term,
                term_en,
                term_ru,
                definition_en,
                definition_ru,
                sources.clone(),
            )
            .await?;
            glossary_agree(node, parties.other(node)?, term).await?;
        }
        Step::GlossarySign { by, term } => {
            let node = parties.get(by)?;
            node.glossary_sign(term).await?;
            glossary_agree(node, parties.other(node)?, term).await?;
        }
        Step::GlossaryDiverge {
            by,
            term,
            reasons_en,
            reasons_ru,
        } => {
            let node = parties.get(by)?;
            node.glossary_diverge(term, reasons_en, reasons_ru).await?;
            glossary_agree(node, parties.other(node)?, term).await?;
        }
        Step::AnswerItems { case, by, body } => {
            parties
                .get(by)?
                .answer_items(&ctx.text(case)?, ctx.resolve(body)?)
                .await?;
        }
        Step::WaitHashList { on, owner } => {
            let node = parties.get(on)?;
            wait(&format!("{owner}'s hash list on {on}"), || {
                Ok(!node
                    .hash_list(Some(owner), false, 1, 0, liaison_core::tlp::Tlp::Red)?
                    .is_empty())
            })
            .await?;
        }
    }
    Ok(())
}

/// Opens a case and plays `moves`, each waiting until both nodes agree.
async fn open(
    from: &Node,
    to: &Node,
    also: &[&Node],
    kind: &str,
    body: Value,
    moves: &[Move],
    ctx: &Context,
) -> Result<String, CliError> {
    let recipients: Vec<String> = std::iter::once(to)
        .chain(also.iter().copied())
        .map(|n| n.party().to_string())
        .collect();
    let case = from
        .open_case_with(
            &recipients,
            kind,
            body,
            liaison_node::attachments::Attaching::none(),
        )
        .await?
        .case_id;
    // Notes and teams have no lifecycle: they stay "open".
    let arrived = if matches!(kind, "note" | "joint_team") {
        "open"
    } else {
        "delivered"
    };
    for node in std::iter::once(to).chain(also.iter().copied()) {
        reach(node, &case, arrived).await?;
    }
    reach(from, &case, arrived).await?;
    for m in moves {
        let (actor, other) = match m.by {
            Side::Requested => (to, from),
            Side::Requesting => (from, to),
        };
        actor
            .act(&case, &m.action, ctx.resolve(&m.details)?)
            .await?;
        let state = actor.case_detail(&case)?.case.state;
        reach(other, &case, &state).await?;
    }
    Ok(case)
}

/// Waits until `node` shows `state` for a case.
async fn reach(node: &Node, case: &str, state: &str) -> Result<(), CliError> {
    wait(
        &format!("case {case} reaching {state} on {}", node.party()),
        || {
            Ok(node
                .case_detail(case)
                .map(|d| d.case.state == state)
                .unwrap_or(false))
        },
    )
    .await
}

/// Waits until the other party holds every glossary event on `term` that `by` holds.
async fn glossary_agree(by: &Node, other: &Node, term: &str) -> Result<(), CliError> {
    let events = by.glossary_term(term)?.history.len();
    wait(&format!("the glossary events on {term}"), || {
        Ok(other.glossary_term(term)?.history.len() >= events)
    })
    .await
}

async fn wait(
    what: &str,
    mut done: impl FnMut() -> Result<bool, liaison_node::NodeError>,
) -> Result<(), CliError> {
    for _ in 0..200 {
        if done()? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(CliError::new(
        "demo_failed",
        format!("timed out waiting for {what}"),
    ))
}

/// Writes a smaller, re-encoded copy of the demo picture (what a user would
/// upload) to `dir`; answers the original's PDQ hash and quality.
fn write_demo_image(dir: &Path) -> Result<(String, u8), CliError> {
    let picture = demo_image(640, 480);
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| CliError::io(format!("cannot encode the demo image: {e}")))?;
    let pdq = liaison_core::pdq::hash_image(&png).map_err(liaison_node::NodeError::from)?;
    let copy = image::imageops::resize(&picture, 480, 360, image::imageops::FilterType::Triangle);
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(copy)
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .map_err(|e| CliError::io(format!("cannot encode the demo image: {e}")))?;
    std::fs::write(dir.join("demo-image.jpg"), &jpeg)
        .map_err(|e| CliError::io(format!("cannot write the demo image: {e}")))?;
    Ok((pdq.hash.to_hex(), pdq.quality))
}

/// A photo-like picture (gradients, blocks, rings), deterministic; its PDQ
/// hash is on the demo's hash list, so uploading it (or a copy) matches.
fn demo_image(width: u32, height: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let ring = ((((fx - 0.6).powi(2) + (fy - 0.4).powi(2)).sqrt() * 40.0).sin() * 60.0) as i32;
        let block = if (x / 40 + y / 30) % 3 == 0 { 70 } else { 0 };
        let r = (40.0 + 180.0 * fx) as i32 + ring;
        let g = (60.0 + 120.0 * fy) as i32 + block;
        let b = (200.0 - 150.0 * fx * fy) as i32 - ring / 2;
        image::Rgb([
            r.clamp(0, 255) as u8,
            g.clamp(0, 255) as u8,
            b.clamp(0, 255) as u8,
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_parses_and_names_only_known_cases_and_values() {
        let seed: Seed = serde_json::from_str(SEED).unwrap();
        let mut named = Vec::new();
        for step in &seed.steps {
            match step {
                Step::Open { name: Some(n), .. } | Step::Forward { name: n, .. } => {
                    named.push(format!("case:{n}"));
                }
                _ => {}
            }
        }
        let mut rest = SEED;
        while let Some(i) = rest.find("${") {
            let end = rest[i..].find('}').unwrap() + i;
            let name = &rest[i + 2..end];
            assert!(
                name == "today"
                    || name.starts_with("hours:")
                    || name.starts_with("demo_image.")
                    || named.iter().any(|n| n == name)
                    || seed.values.contains_key(name),
                "unknown ${{{name}}}"
            );
            rest = &rest[end..];
        }
        assert!(seed.steps.len() > 30);
    }
}
