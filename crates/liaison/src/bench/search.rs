//! `liaison bench search`: queries over a node whose index holds many case
//! messages in English and Russian, through `Node::search` (stemming,
//! BM25 ranking, access rights, one hit per case, titles), beside the bare
//! FTS5 lookup of the same stems (no ranking, nothing else) and, for a few
//! queries, a scan of the stored text without the index.

use super::report::{Report, say};
use std::path::Path;
use std::time::Instant;

use liaison_core::roles::Role;
use liaison_core::text::{analyze, stems};
use liaison_store::reference as refdb;

use super::{percentile_ms, rusqlite_params};
use crate::error::CliError;
use crate::output::progress_bar;

/// Word groups (forms of one word) of the case threads; documents and
/// queries pick forms independently, so a query must meet its stem.
const ENGLISH: &[&[&str]] = &[
    &["request", "requests", "requested", "requesting"],
    &["data", "data"],
    &["preservation", "preserve", "preserved"],
    &["account", "accounts"],
    &["server", "servers"],
    &["attack", "attacks", "attacked"],
    &["phishing", "phished"],
    &["subscriber", "subscribers"],
    &["traffic", "traffic"],
    &["log", "logs", "logged"],
    &["provider", "providers"],
    &["botnet", "botnets"],
    &["malware", "malware"],
    &["ransomware", "ransomware"],
    &["victim", "victims"],
    &["bank", "banks", "banking"],
    &["payment", "payments"],
    &["domain", "domains"],
    &["address", "addresses"],
    &["connection", "connections", "connected"],
    &["investigation", "investigations", "investigating"],
    &["evidence", "evidence"],
    &["court", "courts"],
    &["order", "orders", "ordered"],
    &["disclosure", "disclose", "disclosed"],
    &["emergency", "emergencies"],
    &["threat", "threats", "threatened"],
    &["hospital", "hospitals"],
    &["network", "networks"],
    &["incident", "incidents"],
    &["email", "emails"],
    &["message", "messages"],
    &["transfer", "transfers", "transferred"],
    &["wallet", "wallets"],
    &["exchange", "exchanges"],
    &["fraud", "frauds", "fraudulent"],
    &["credential", "credentials"],
    &["password", "passwords"],
    &["intrusion", "intrusions"],
    &["extortion", "extorted"],
    &["encryption", "encrypted"],
    &["hosting", "hosted"],
    &["registration", "registered"],
    &["invoice", "invoices"],
    &["suspect", "suspects"],
    &["identity", "identities"],
    &["timestamp", "timestamps"],
    &["session", "sessions"],
    &["device", "devices"],
    &["operator", "operators"],
];

const RUSSIAN: &[&[&str]] = &[
    &["запрос", "запроса", "запросы", "запросов", "запросу"],
    &["данные", "данных", "данным"],
    &["сохранение", "сохранения", "сохранить"],
    &["учётная", "учётной", "учётные"],
    &["сервер", "сервера", "серверов"],
    &["атака", "атаки", "атаку", "атаках"],
    &["фишинговая", "фишинговой", "фишинговых"],
    &["абонент", "абонента", "абонентов"],
    &["трафик", "трафика"],
    &["журнал", "журналы", "журналов"],
    &["провайдер", "провайдера", "провайдеров"],
    &["ботнет", "ботнета", "ботнетов"],
    &["вредоносная", "вредоносной", "вредоносных"],
    &["вымогатель", "вымогателя", "вымогателей"],
    &["потерпевший", "потерпевшего", "потерпевших"],
    &["банк", "банка", "банков"],
    &["платёж", "платежа", "платежей"],
    &["домен", "домена", "доменов"],
    &["адрес", "адреса", "адресов"],
    &["подключение", "подключения", "подключений"],
    &["расследование", "расследования", "расследованию"],
    &["доказательство", "доказательства", "доказательств"],
    &["суд", "суда", "судом"],
    &["постановление", "постановления"],
    &["раскрытие", "раскрытия"],
    &["угроза", "угрозы", "угрозу"],
    &["больница", "больницы", "больниц"],
    &["сеть", "сети", "сетей"],
    &["инцидент", "инцидента", "инцидентов"],
    &["почта", "почты", "почтой"],
    &["сообщение", "сообщения", "сообщений"],
    &["перевод", "перевода", "переводов"],
    &["кошелёк", "кошелька", "кошельков"],
    &["биржа", "биржи", "бирж"],
    &["мошенничество", "мошенничества", "мошенничеству"],
    &["пароль", "пароля", "паролей"],
    &["вторжение", "вторжения"],
    &["шифрование", "шифрования", "зашифрованных"],
    &["хостинг", "хостинга"],
    &["регистрация", "регистрации"],
    &["подозреваемый", "подозреваемого", "подозреваемых"],
    &["личность", "личности"],
    &["устройство", "устройства", "устройств"],
    &["оператор", "оператора", "операторов"],
    &["прокуратура", "прокуратуры"],
    &["следователь", "следователя"],
    &["ходатайство", "ходатайства"],
    &["документ", "документа", "документов"],
    &["срок", "срока", "сроков"],
    &["ответ", "ответа", "ответов"],
];

/// A small deterministic generator (SplitMix64): the corpus is the same in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A vocabulary ranked by frequency: the real word groups first, then a
/// long tail of made-up words (names, hosts, jargon) as real threads have.
struct Vocabulary {
    words: Vec<Vec<String>>,
    /// Cumulative Zipf weights (exponent 1) over `words`.
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(groups: &[&[&str]], syllables: &[&str], tail: usize, rng: &mut Rng) -> Vocabulary {
        let mut words: Vec<Vec<String>> = groups
            .iter()
            .map(|g| g.iter().map(|w| (*w).to_owned()).collect())
            .collect();
        for _ in 0..tail {
            let n = 2 + rng.below(3);
            let w: String = (0..n)
                .map(|_| syllables[rng.below(syllables.len())])
                .collect();
            words.push(vec![w]);
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn rank(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.words.len() - 1)
    }

    fn form(&self, rank: usize, rng: &mut Rng) -> &str {
        let forms = &self.words[rank];
        &forms[rng.below(forms.len())]
    }
}

const LATIN: &[&str] = &[
    "ka", "ro", "ve", "ni", "tor", "al", "mex", "bi", "dra", "sul", "pen", "qu", "zo", "lin",
    "gar", "fe", "os", "tri", "un", "hel",
];
const CYRILLIC: &[&str] = &[
    "ка", "ро", "ве", "ни", "тор", "ал", "мех", "би", "дра", "сул", "пен", "зо", "лин", "гар",
    "фе", "ос", "три", "ун", "хел", "ми",
];

struct Query {
    text: String,
    class: &'static str,
}

fn queries(en: &Vocabulary, ru: &Vocabulary, n: usize, rng: &mut Rng) -> Vec<Query> {
    (0..n)
        .map(|i| {
            let vocab = if i % 2 == 0 { en } else { ru };
            let (text, class) = match i % 3 {
                // A frequent word, alone: the most matches to rank.
                0 => (vocab.form(rng.below(10), rng).to_owned(), "frequent word"),
                // Two words of the real vocabulary, in any form.
                1 => {
                    let a = vocab.form(rng.below(ENGLISH.len()), rng).to_owned();
                    let b = vocab.form(rng.below(ENGLISH.len()), rng).to_owned();
                    (format!("{a} {b}"), "two words")
                }
                // A rare word of the tail.
                _ => {
                    let rank = 2_000 + rng.below(vocab.words.len() - 2_000);
                    (vocab.form(rank, rng).to_owned(), "rare word")
                }
            };
            Query { text, class }
        })
        .collect()
}

pub async fn search(
    dir: Option<&Path>,
    messages: u64,
    per_case: u64,
    runs: usize,
) -> Result<Report, CliError> {
    if per_case == 0 || messages == 0 || runs == 0 {
        return Err(CliError::new(
            "invalid_input",
            "--messages, --per-case and --queries must be at least 1",
        ));
    }
    let scratch = super::Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    let mut options = liaison_node::InitOptions::new("us", "Benchmark party us");
    options.listen = "127.0.0.1:0".into();
    options.app_listen = "127.0.0.1:0".into();
    let node = liaison_node::init(&dir.join("search"), &options).await?;
    let mut rng = Rng(0x4c69_6169_736f_6e21);
    let en = Vocabulary::new(ENGLISH, LATIN, 40_000, &mut rng);
    let ru = Vocabulary::new(RUSSIAN, CYRILLIC, 40_000, &mut rng);

    eprintln!(
        "Indexing {messages} messages of {} cases …",
        messages.div_ceil(per_case)
    );
    let bar = progress_bar("indexing");
    bar.set_length(messages);
    let started = Instant::now();
    let chunk = 20_000u64;
    let mut done = 0u64;
    while done < messages {
        let (from, to) = (done, (done + chunk).min(messages));
        // Compose and stem outside the writer, as the node does before it records.
        let docs: Vec<(String, String, String)> = (from..to)
            .map(|i| {
                let vocab = if (i / per_case).is_multiple_of(2) {
                    &en
                } else {
                    &ru
                };
                let words = 20 + rng.below(30);
                let mut text = format!("OIA-2026-{:06}", i / per_case);
                for _ in 0..words {
                    let rank = vocab.rank(&mut rng);
                    text.push(' ');
                    text.push_str(vocab.form(rank, &mut rng));
                }
                (
                    format!("{i:064x}"),
                    format!("us-{:020}", i / per_case),
                    analyze(&text),
                )
            })
            .collect();
        node.store()
            .write(move |tx| {
                let mut case = tx.conn().sqlite().prepare_cached(
                    "INSERT OR IGNORE INTO cases (id, kind, initiator, responder, outgoing, subject, state, created, updated, offence, urgent, links, root_hash, delivered_at)
                     VALUES (?1, 'mla', 'us', 'ru', 1, ?2, 'under_review', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', 'computer-fraud', 0, '[]', NULL, NULL)",
                )?;
                for (doc, case_id, text) in &docs {
                    let subject = format!("OIA-2026-{}", &case_id[case_id.len() - 6..]);
                    case.execute(rusqlite_params(&[case_id, &subject]))?;
                    refdb::index_case_message(tx.conn(), doc, case_id, text)?;
                }
                Ok(())
            })
            .await?;
        done = to;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    let index_secs = started.elapsed().as_secs_f64();
    eprintln!("Optimizing the index …");
    node.store()
        .write(|tx| refdb::optimize_index(tx.conn()))
        .await?;

    let qs = queries(&en, &ru, runs, &mut rng);
    // Warm the page cache as a running node would be.
    for q in qs.iter().take(20) {
        node.search(Role::LegalOfficer, &q.text, "en", 20)?;
    }
    let bar = progress_bar("querying");
    bar.set_length(qs.len() as u64);
    let mut full: Vec<(&'static str, i64)> = Vec::new();
    let mut bare: Vec<i64> = Vec::new();
    let mut exact: Vec<i64> = Vec::new();
    let every_level: Vec<&str> = liaison_core::tlp::ALL_LEVELS
        .iter()
        .map(|l| l.as_str())
        .collect();
    let mut empty = 0;
    for q in &qs {
        let start = Instant::now();
        let hits = node.search(Role::LegalOfficer, &q.text, "en", 20)?;
        full.push((q.class, start.elapsed().as_micros() as i64));
        if hits.is_empty() {
            empty += 1;
        }
        let terms = stems(&q.text);
        let start = Instant::now();
        node.store().read(|c| {
            let query = terms
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(" ");
            let mut stmt = c.sqlite().prepare_cached(
                "SELECT doc FROM search_cases WHERE search_cases MATCH ?1 LIMIT 80",
            )?;
            let n = stmt.query_map([query], |r| r.get::<_, String>(0))?.count();
            Ok(n)
        })?;
        bare.push(start.elapsed().as_micros() as i64);
        let start = Instant::now();
        node.store()
            .read(|c| refdb::search_cases(c, &terms, 80, None, &every_level))?;
        exact.push(start.elapsed().as_micros() as i64);
        bar.inc(1);
    }
    bar.finish_and_clear();
    // Without the index: a scan of the stored text, for three queries.
    let mut scans = Vec::new();
    for q in qs.iter().filter(|q| q.class == "rare word").take(3) {
        let stem = stems(&q.text).join(" ");
        let start = Instant::now();
        node.store().read(|c| {
            let n: i64 = c.sqlite().query_row(
                "SELECT count(*) FROM search_cases_content WHERE c2 LIKE ?1",
                [format!("%{stem}%")],
                |r| r.get(0),
            )?;
            Ok(n)
        })?;
        scans.push(start.elapsed().as_micros() as i64);
    }

    let ms = |us: i64| us as f64 / 1000.0;
    let all: Vec<i64> = full.iter().map(|(_, t)| *t).collect();
    let (p50, p99) = (percentile_ms(&all, 0.5), percentile_ms(&all, 0.99));
    let (b50, b99) = (percentile_ms(&bare, 0.5), percentile_ms(&bare, 0.99));
    let mut report = Report::new("search");
    report.figure("messages", messages);
    report.figure("index_messages_per_s", messages as f64 / index_secs);
    report.figure("queries", qs.len());
    report.figure("queries_without_hits", empty);
    report.figure("p50_ms", p50);
    report.figure("p99_ms", p99);
    report.figure("max_ms", ms(*all.iter().max().unwrap_or(&0)));
    report.figure("bare_fts5_p50_ms", b50);
    report.figure("bare_fts5_p99_ms", b99);
    report.figure("ratio_to_bare_fts5", p50 / b50.max(0.001));
    report.figure("exact_bm25_p50_ms", percentile_ms(&exact, 0.5));
    if !scans.is_empty() {
        report.figure("scan_p50_ms", percentile_ms(&scans, 0.5));
    }
    say!(
        report,
        "Search over {messages} indexed messages ({} cases; English and Russian; index built at {:.0} messages/s), {} queries ({empty} without hits):\n",
        messages.div_ceil(per_case),
        messages as f64 / index_secs,
        qs.len()
    );
    say!(
        report,
        "| queries | p50 | p99 | max | ratio to the bare FTS5 lookup (p50) |"
    );
    say!(report, "|---|---:|---:|---:|---:|");
    say!(
        report,
        "| all, through `Node::search` | {p50:.2} ms | **{p99:.2} ms** | {:.2} ms | {:.1}× |",
        ms(*all.iter().max().unwrap_or(&0)),
        p50 / b50.max(0.001)
    );
    for class in ["frequent word", "two words", "rare word"] {
        let t: Vec<i64> = full
            .iter()
            .filter(|(c, _)| *c == class)
            .map(|(_, t)| *t)
            .collect();
        say!(
            report,
            "| — {class} | {:.2} ms | {:.2} ms | {:.2} ms | |",
            percentile_ms(&t, 0.5),
            percentile_ms(&t, 0.99),
            ms(*t.iter().max().unwrap_or(&0))
        );
    }
    say!(
        report,
        "| reference: bare FTS5 lookup, same stems, first 80, unranked | {b50:.2} ms | {b99:.2} ms | {:.2} ms | 1.0× |",
        ms(*bare.iter().max().unwrap_or(&0))
    );
    say!(
        report,
        "| comparison: exact BM25 over every match (no window), store query only | {:.2} ms | {:.2} ms | {:.2} ms | {:.1}× |",
        percentile_ms(&exact, 0.5),
        percentile_ms(&exact, 0.99),
        ms(*exact.iter().max().unwrap_or(&0)),
        percentile_ms(&exact, 0.5) / b50.max(0.001)
    );
    if !scans.is_empty() {
        say!(
            report,
            "| reference: no index, scan of the stored text ({} queries) | {:.0} ms | | | {:.0}× |",
            scans.len(),
            percentile_ms(&scans, 0.5),
            percentile_ms(&scans, 0.5) / b50.max(0.001)
        );
    }
    Ok(report)
}
