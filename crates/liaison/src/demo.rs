//! `liaison demo`: the parties of the background documents — `us` (English)
//! and `ru` (Russian) — and a neutral witness, on loopback, pinned to each
//! other, with users of every role and a realistic set of cases in every
//! kind and state, served from one process until Ctrl-C.

use std::path::Path;
use std::time::Duration;

use liaison_node::{InitOptions, Node};
use serde_json::{Value, json};

use crate::error::CliError;

struct DemoParty {
    code: &'static str,
    name: &'static str,
    lang: &'static str,
    role: &'static str,
    time_zone: &'static str,
}

const PARTIES: [DemoParty; 3] = [
    DemoParty {
        code: "us",
        name: "United States — Department of Justice, Office of International Affairs",
        lang: "en",
        role: "party",
        time_zone: "America/New_York",
    },
    DemoParty {
        code: "ru",
        name: "Российская Федерация — Генеральная прокуратура",
        lang: "ru",
        role: "party",
        time_zone: "Europe/Moscow",
    },
    DemoParty {
        code: "witness",
        name: "Independent expert group (witness)",
        lang: "en",
        role: "witness",
        time_zone: "UTC",
    },
];

/// Every demo user's password (printed with the logins).
pub const DEMO_PASSWORD: &str = "liaison-demo-2026";

const ROLES: [(&str, &str); 6] = [
    ("admin", "administrator"),
    ("legal", "legal_officer"),
    ("cert", "cert_analyst"),
    ("duty", "duty_officer"),
    ("provider", "provider_liaison"),
    ("observer", "observer"),
];

pub async fn run(dir: &Path, base_port: u16, seed: bool) -> Result<(), CliError> {
    let mut nodes = Vec::new();
    let mut fresh = false;
    for (i, p) in PARTIES.iter().enumerate() {
        let node_dir = dir.join(p.code);
        let node = if node_dir.join("liaison.toml").exists() {
            Node::open(&node_dir)?
        } else {
            fresh = true;
            let port = |k: u16| -> Result<u16, CliError> {
                base_port
                    .checked_add(2 * i as u16 + k)
                    .ok_or_else(|| CliError::invalid("--base-port is too high"))
            };
            let mut options = InitOptions::new(p.code, p.name);
            options.lang = p.lang.to_owned();
            options.role = p.role.to_owned();
            options.listen = format!("127.0.0.1:{}", port(0)?);
            options.app_listen = format!("127.0.0.1:{}", port(1)?);
            drop(liaison_node::init(&node_dir, &options).await?);
            // Each authority counts deadlines in its own calendar.
            let path = node_dir.join("liaison.toml");
            let text = std::fs::read_to_string(&path).map_err(|e| CliError::io(e.to_string()))?;
            let mut config = liaison_node::Config::from_toml_with_env(&text, |_| None)?;
            config.deadlines.time_zone = p.time_zone.to_owned();
            config.witness.interval_secs = 2;
            std::fs::write(&path, config.to_toml()?).map_err(|e| CliError::io(e.to_string()))?;
            let node = Node::open(&node_dir)?;
            for (user, role) in ROLES {
                node.add_user(user, role, DEMO_PASSWORD, p.lang).await?;
            }
            node
        };
        nodes.push(node);
    }
    for a in &nodes {
        for b in &nodes {
            if a.party() != b.party() {
                a.pin_peer(&b.card(), true).await?;
            }
        }
    }
    let mut servers = Vec::new();
    for node in &nodes {
        let listeners = liaison_server::bind(node).await?;
        servers.push((
            node.clone(),
            liaison_server::start(node.clone(), listeners).await?,
        ));
    }
    if fresh && seed {
        eprintln!("Seeding cases in every kind and state, and the glossary …");
        seed_cases(&nodes[0], &nodes[1]).await?;
        seed_glossary(&nodes[0], &nodes[1]).await?;
        seed_operations(&nodes[0], &nodes[1]).await?;
        seed_content(dir, &nodes[0], &nodes[1]).await?;
    }
    println!(
        "Liaison demo in {} — three nodes, pinned to each other:\n",
        dir.display()
    );
    for (node, server) in &servers {
        println!(
            "  {:<8} {:<8} web http://{}   federation https://{}   log {}",
            node.party().as_str(),
            node.role().to_string(),
            server.app_addr,
            server.federation_addr,
            node.log_origin()
        );
    }
    println!("\nLogins on us and ru (password {DEMO_PASSWORD}):");
    for (user, role) in ROLES {
        println!("  {user:<9} {role}");
    }
    println!(
        "\nHash matching: sign in to ru as provider and upload {}/demo-image.jpg on /hashes\n(or: liaison hash match {}/ru {}/demo-image.jpg)",
        dir.display(),
        dir.display(),
        dir.display()
    );
    println!("\nVerify a log:  liaison log verify {}/us", dir.display());
    println!("Stop with Ctrl-C.");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let _ = tokio::signal::ctrl_c().await;
    for (_, server) in servers {
        server.shutdown().await;
    }
    Ok(())
}

fn authority(en: bool) -> Value {
    if en {
        json!({"name": "U.S. Department of Justice, Office of International Affairs", "contact_person": "Jane Doe, Trial Attorney", "email": "oia.cyber@usdoj.example", "phone": "+1 202 555 0100", "office_hours": "09:00–17:30 Mon–Fri", "time_zone": "America/New_York"})
    } else {
        json!({"name": "Генеральная прокуратура Российской Федерации", "contact_person": "И. И. Петров, прокурор отдела", "email": "mpp@genproc.example", "phone": "+7 495 555 01 00", "office_hours": "09:00–18:00 пн–пт", "time_zone": "Europe/Moscow"})
    }
}

fn mla(
    en: bool,
    reference: &str,
    offence: &str,
    facts: &str,
    sought: &str,
    preservation: Option<&str>,
    urgent: bool,
) -> Value {
    let mut b = json!({
        "date": jiff::Zoned::now().date().to_string(),
        "reference_number": reference,
        "request_type": "new",
        "requested_authority": authority(!en),
        "requesting_authority": authority(en),
        "preferred_channel": "liaison",
        "investigating_authority": if en { "Federal Bureau of Investigation, Cyber Division" } else { "Следственный комитет Российской Федерации" },
        "prosecutor_or_court": {"name": if en { "U.S. Attorney's Office, Eastern District of Virginia" } else { "Мещанский районный суд г. Москвы" }, "case_numbers": [if en { "1:26-cr-00042" } else { "1-1234/2026" }]},
        "legal_basis": "bilateral_treaty",
        "legal_basis_details": if en { "Treaty on Mutual Legal Assistance in Criminal Matters (1999)" } else { "Договор о взаимной правовой помощи по уголовным делам 1999 г." },
        "offence": {"id": offence},
        "summary_of_facts": facts,
        "assistance_sought": ["subscriber_information", "traffic_data"],
        "assistance_description": sought,
        "urgency": if urgent { "urgent" } else { "normal" },
    });
    if urgent {
        b["urgency_reasons"] = json!(if en {
            "The servers are being moved; logs will be lost within days."
        } else {
            "Серверы переносятся; журналы будут утрачены в ближайшие дни."
        });
    }
    if let Some(p) = preservation {
        b["preservation_case"] = json!(p);
    }
    b
}

fn preservation(en: bool, facts: &str, data: &str, custodian: &str) -> Value {
    json!({
        "requesting_authority": authority(en),
        "offence": {"id": "illegal-access"},
        "summary_of_facts": facts,
        "data_sought": ["traffic_data", "subscriber_information"],
        "data_description": data,
        "relation_to_offence": if en { "The intruder connected from this server." } else { "Нарушитель подключался с этого сервера." },
        "custodian": custodian,
        "necessity": if en { "The provider deletes connection logs after 30 days." } else { "Провайдер удаляет журналы подключений через 30 дней." },
        "mla_to_follow": true
    })
}

fn emergency(en: bool, risk: &str, description: &str) -> Value {
    json!({
        "requesting_authority": authority(en),
        "risk_type": risk,
        "risk_description": description,
        "data_sought": ["subscriber_information"],
        "data_description": if en { "Subscriber data and the last log-in IP addresses of the account, last 48 hours only." } else { "Регистрационные данные и IP-адреса последних входов в учётную запись, только за последние 48 часов." },
        "custodian": if en { "Mail provider, Moscow" } else { "Почтовый сервис, Сан-Франциско" }
    })
}

/// Waits until `node` shows `state` for a case (after the other side acted).
async fn reach(node: &Node, case: &str, state: &str) -> Result<(), CliError> {
    for _ in 0..200 {
        if node
            .case_detail(case)
            .map(|d| d.case.state == state)
            .unwrap_or(false)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(CliError::new(
        "demo_failed",
        format!("case {case} did not reach {state} on {}", node.party()),
    ))
}

/// Opens a case and plays `steps` (who acts, action, text) to its end state,
/// each step waiting until both nodes agree.
async fn play(
    from: &Node,
    to: &Node,
    kind: &str,
    body: Value,
    steps: &[(bool, &str, Value)],
) -> Result<String, CliError> {
    let case = from
        .open_case(to.party().as_str(), kind, body)
        .await?
        .case_id;
    // Notes have no lifecycle: they stay "open".
    let arrived = if kind == "note" { "open" } else { "delivered" };
    reach(to, &case, arrived).await?;
    reach(from, &case, arrived).await?;
    for (by_requested, action, details) in steps {
        let (actor, other) = if *by_requested {
            (to, from)
        } else {
            (from, to)
        };
        actor.act(&case, action, details.clone()).await?;
        let state = actor.case_detail(&case)?.case.state;
        reach(other, &case, &state).await?;
    }
    Ok(case)
}

async fn seed_cases(us: &Node, ru: &Node) -> Result<(), CliError> {
    let t = |s: &str| json!({ "text": s });
    let none = Value::Null;
    // us → ru
    play(us, ru, "mla", mla(true, "OIA-2026-0101", "computer-fraud", "A phishing campaign impersonating a U.S. bank stole USD 2.1 million from 340 customers between June and September 2026. The phishing kit was hosted on a server in Moscow.", "Subscriber records and IP log-ins of the hosting account used for the phishing kit.", None, false), &[
        (true, "acknowledge", none.clone()),
        (true, "start_review", none.clone()),
        (true, "request_clarification", t("Укажите, пожалуйста, идентификатор учётной записи и период времени.")),
        (false, "provide_clarification", t("Account host-7731 at Example Hosting; 1 June – 30 September 2026.")),
        (true, "start_review", none.clone()),
        (true, "start_execution", none.clone()),
        (true, "report_partial", t("Регистрационные данные направлены; журналы подключений будут направлены дополнительно.")),
        (true, "report_executed", t("Журналы подключений направлены.")),
        (false, "close", none.clone()),
    ]).await?;
    play(us, ru, "mla", mla(true, "OIA-2026-0117", "illegal-access", "Ransomware intrusion into a regional hospital network in Ohio; the operators negotiated over an e-mail account hosted in Russia.", "Subscriber information and log-in records of the e-mail account used in the negotiation.", None, true), &[
        (true, "acknowledge", none.clone()),
        (true, "start_review", none.clone()),
        (true, "request_clarification", t("Просим представить постановление суда об изъятии данных.")),
    ]).await?;
    play(
        us,
        ru,
        "mla",
        mla(
            true,
            "OIA-2026-0119",
            "computer-fraud",
            "Investment fraud through a fake trading platform; victims in 12 U.S. states.",
            "Registration data of the platform's domain and payment accounts.",
            None,
            false,
        ),
        &[
            (true, "acknowledge", none.clone()),
            (
                true,
                "request_clarification",
                t("Уточните, пожалуйста, сумму ущерба и даты переводов."),
            ),
            (
                false,
                "provide_clarification",
                t("USD 830,000 in 214 transfers between 3 March and 28 August 2026."),
            ),
        ],
    )
    .await?;
    play(us, ru, "mla", mla(true, "OIA-2026-0123", "misuse-of-devices", "Sale of stolen payment card data on a marketplace operated from servers in St. Petersburg.", "Registration data of the marketplace domain and hosting account.", None, false), &[
        (true, "acknowledge", none.clone()),
        (true, "start_review", none.clone()),
    ]).await?;
    play(us, ru, "mla", mla(true, "OIA-2026-0131", "computer-fraud", "Business e-mail compromise against a U.S. manufacturer; funds were moved through accounts controlled from Russia.", "Subscriber information of three e-mail accounts.", None, false), &[]).await?;
    play(us, ru, "mla", mla(true, "OIA-2026-0097", "copyright", "Distribution of pirated software through a file-sharing site.", "Subscriber information of the site operator.", None, false), &[
        (true, "acknowledge", none.clone()),
        (true, "refuse", json!({"ground": "no_dual_criminality", "text": "Деяние в описанном объёме не является уголовно наказуемым по законодательству Российской Федерации."})),
    ]).await?;
    play(
        us,
        ru,
        "mla",
        mla(
            true,
            "OIA-2026-0088",
            "computer-fraud",
            "Card-not-present fraud against an online retailer.",
            "Subscriber information of the merchant account.",
            None,
            false,
        ),
        &[(
            false,
            "withdraw",
            t("The suspect was identified and arrested in the United States."),
        )],
    )
    .await?;
    let p = play(us, ru, "preservation", preservation(true, "Intrusion into a water utility's control network from a virtual server hosted in Russia.", "Connection logs and subscriber data of server 203.0.113.5.", "Example Hosting LLC, Moscow"), &[
        (true, "acknowledge", none.clone()),
        (true, "start_execution", none.clone()),
        (true, "report_executed", t("Данные сохранены на 60 дней.")),
    ]).await?;
    play(
        us,
        ru,
        "mla",
        mla(
            true,
            "OIA-2026-0142",
            "illegal-access",
            "Follow-up of the preservation request on the water utility intrusion.",
            "Production of the preserved connection logs and subscriber data.",
            Some(&p),
            false,
        ),
        &[
            (true, "acknowledge", none.clone()),
            (true, "start_review", none.clone()),
            (true, "start_execution", none.clone()),
        ],
    )
    .await?;
    play(us, ru, "preservation", preservation(true, "DDoS-for-hire service administered from a server in Novosibirsk.", "Logs of server 198.51.100.20.", "Hosting provider, Novosibirsk"), &[
        (true, "acknowledge", none.clone()),
        (true, "start_execution", none.clone()),
        (true, "report_executed", t("Данные сохранены.")),
        (false, "extend", json!({"days": 30, "text": "The MLA request is with the central authority for signature."})),
    ]).await?;
    play(
        us,
        ru,
        "preservation",
        preservation(
            true,
            "Botnet command server used against U.S. hospitals.",
            "Logs of server 198.51.100.77.",
            "Hosting provider, Yekaterinburg",
        ),
        &[
            (true, "acknowledge", none.clone()),
            (true, "start_execution", none.clone()),
            // It expires on its own when the 60 days have passed.
            (true, "report_executed", t("Данные сохранены на 60 дней.")),
        ],
    )
    .await?;
    play(us, ru, "emergency_disclosure", emergency(true, "kidnapping", "A 15-year-old was abducted in Texas; the kidnapper is using an e-mail account hosted in Russia to demand ransom."), &[
        (true, "acknowledge", none.clone()),
        (true, "start_execution", none.clone()),
        (true, "report_executed", t("Данные направлены дежурному 24/7.")),
    ]).await?;
    play(us, ru, "emergency_disclosure", emergency(true, "threat_to_life", "A post announces an armed attack on a school tomorrow; the account was registered with a Russian provider."), &[]).await?;
    play(us, ru, "note", json!({"subject": "24/7 contact point update", "text": "Our 24/7 point of contact changes on 1 December: +1 202 555 0199."}), &[]).await?;
    // ru → us
    play(ru, us, "mla", mla(false, "МПП-2026/0457", "computer-fraud", "Хищение денежных средств клиентов российского банка с использованием вредоносной программы; управляющий сервер размещён в США.", "Регистрационные данные и журналы доступа к управляющему серверу.", None, false), &[
        (true, "acknowledge", none.clone()),
    ]).await?;
    let mut energy = preservation(
        false,
        "Неправомерный доступ к информационной системе энергетической компании с сервера, размещённого в США.",
        "Журналы подключений к серверу 192.0.2.44.",
        "Cloud provider, Virginia",
    );
    energy["sectors"] = json!(["ru-energy", "ru-fuel-energy-complex"]);
    let energy = play(ru, us, "preservation", energy, &[]).await?;
    for node in [us, ru] {
        node.tag_case(&energy, "h", true).await?;
    }
    play(ru, us, "emergency_disclosure", emergency(false, "terrorism", "Публикация с угрозой взрыва в московском метро; учётная запись зарегистрирована у американского провайдера."), &[
        (true, "acknowledge", none.clone()),
        (true, "start_execution", none.clone()),
        (true, "report_executed", t("Subscriber data provided to the 24/7 point of contact.")),
    ]).await?;
    play(ru, us, "mla", mla(false, "МПП-2026/0502", "child-sexual-abuse-material", "Распространение материалов с изображением несовершеннолетних через ресурс, размещённый в США.", "Сведения о владельце ресурса и журналы загрузок.", None, false), &[
        (true, "acknowledge", none.clone()),
        (true, "start_review", none.clone()),
        (true, "start_execution", none.clone()),
        (true, "report_partial", t("Owner information provided; upload logs follow.")),
    ]).await?;
    play(ru, us, "note", json!({"subject": "Рабочая встреча экспертов", "text": "Предлагаем провести видеоконференцию экспертов по вопросам сохранения данных 10 декабря."}), &[]).await?;
    // Every legal request is cooperation against criminal use of ICTs: norm 13(d).
    for node in [us, ru] {
        for case in node.list_cases(10_000)? {
            if case.kind != "note" {
                node.tag_case(&case.id, "d", true).await?;
            }
        }
    }
    Ok(())
}

fn team(en: bool) -> Value {
    if en {
        json!({"name": "US-CERT (CISA)", "contact_person": "Watch floor analyst", "email": "soc@cisa.example", "phone": "+1 888 555 0100", "time_zone": "America/New_York"})
    } else {
        json!({"name": "НКЦКИ", "contact_person": "Дежурный аналитик", "email": "soc@cert.example.ru", "phone": "+7 495 555 01 01", "time_zone": "Europe/Moscow"})
    }
}

/// Duty rosters, incidents in several states and markings, a hotline
/// inquiry waiting for its duty officer, pings answered and waiting.
async fn seed_operations(us: &Node, ru: &Node) -> Result<(), CliError> {
    let now = jiff::Timestamp::now();
    let at = |hours: i64| {
        now.checked_add(jiff::SignedDuration::from_hours(hours))
            .unwrap_or(now)
            .to_string()
    };
    us.add_shift(
        "J. Miller",
        "duty@cisa.example",
        "+1 888 555 0111",
        &at(-4),
        &at(8),
    )
    .await?;
    us.add_shift(
        "K. Brown",
        "night@cisa.example",
        "+1 888 555 0112",
        &at(8),
        &at(20),
    )
    .await?;
    ru.add_shift(
        "А. Смирнов",
        "duty@cert.example.ru",
        "+7 495 555 01 11",
        &at(-6),
        &at(6),
    )
    .await?;
    let wiper = play(us, ru, "incident", json!({
        "title": "Wiper malware at a regional grid operator",
        "reporting_team": team(true),
        "sectors": ["us-energy"], "severity": "severe", "tlp": "TLP:AMBER",
        "description": "Destructive malware disabled SCADA engineering workstations at a regional operator; its command servers are hosted in the recipient's address space.",
        "indicators": [
            {"type": "ipv4-addr", "value": "198.51.100.23", "description": "command server"},
            {"type": "domain-name", "value": "update-check.example", "description": "staging domain"},
            {"type": "file-sha256", "value": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
        ],
        "request": "mitigation", "request_details": "Take the two command servers down and preserve their logs for a later MLA request.",
        "first_seen": at(-30)
    }), &[(true, "acknowledge", Value::Null)]).await?;
    ru.update(&wiper, json!({"text": "Один сервер отключён провайдером; второй размещён у другого провайдера, работаем.",
        "indicators": [{"type": "ipv4-addr", "value": "203.0.113.9", "description": "второй сервер"}]})).await?;
    play(ru, us, "incident", json!({
        "title": "DDoS against a bank's online services",
        "reporting_team": team(false),
        "sectors": ["ru-banking-finance"], "severity": "high", "tlp": "TLP:GREEN",
        "description": "Атака типа «отказ в обслуживании» на дистанционное банковское обслуживание; часть трафика исходит из сетей на территории получателя.",
        "indicators": [{"type": "ipv4-addr", "value": "192.0.2.77"}],
        "request": "assistance", "request_details": "Просим сообщить владельцев перечисленных адресов и принять меры к прекращению атаки."
    }), &[]).await?;
    play(ru, us, "hotline", json!({
        "subject": "Scanning of grid operators from your address space",
        "inquiry": "Известна ли вам активность из сети 203.0.113.0/24 и является ли она санкционированной?",
        "contact": {"name": "НЦУ", "contact_person": "Оперативный дежурный", "email": "watch@ncc.example.ru"},
        "tlp": "TLP:RED"
    }), &[]).await?;
    play(
        us,
        ru,
        "ping",
        json!({"scheduled": false}),
        &[(true, "acknowledge", Value::Null)],
    )
    .await?;
    play(ru, us, "ping", json!({"scheduled": true}), &[]).await?;
    Ok(())
}

/// Waits until `node` holds at least `events` glossary events for `term`.
async fn glossary_reach(node: &Node, term: &str, events: usize) -> Result<(), CliError> {
    for _ in 0..200 {
        if node.glossary_term(term)?.history.len() >= events {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(CliError::new(
        "demo_failed",
        format!("the glossary event on {term} did not arrive"),
    ))
}

/// The glossary in each status: agreed both ways, divergent, and proposed.
async fn seed_glossary(us: &Node, ru: &Node) -> Result<(), CliError> {
    us.glossary_propose(
        "data-preservation",
        "data preservation",
        "сохранение данных",
        "Keeping specified stored computer data, already in a custodian's possession, safe from change or deletion for a set period at an authority's request, pending a request for its disclosure.",
        "Обеспечение по запросу компетентного органа сохранности указанных компьютерных данных, уже находящихся у их держателя, от изменения или удаления в течение установленного срока до поступления запроса об их раскрытии.",
        vec!["budapest".into(), "t-cy".into()],
    )
    .await?;
    glossary_reach(ru, "data-preservation", 1).await?;
    ru.glossary_sign("data-preservation").await?;
    glossary_reach(us, "data-preservation", 2).await?;

    ru.glossary_propose(
        "critical-information-infrastructure",
        "critical information infrastructure",
        "критическая информационная инфраструктура",
        "Information systems, information and telecommunication networks and automated control systems of the subjects of critical information infrastructure in the spheres listed by law, and the networks that connect them.",
        "Информационные системы, информационно-телекоммуникационные сети и автоматизированные системы управления субъектов критической информационной инфраструктуры в установленных законом сферах, а также сети электросвязи, обеспечивающие их взаимодействие.",
        vec!["fz-187".into()],
    )
    .await?;
    glossary_reach(us, "critical-information-infrastructure", 1).await?;
    us.glossary_sign("critical-information-infrastructure")
        .await?;
    glossary_reach(ru, "critical-information-infrastructure", 2).await?;

    ru.glossary_diverge(
        "cybersecurity",
        "Russian usage prefers 'information security', which also covers the protection of society from harmful information, not only of systems and data.",
        "В российской практике используется понятие «информационная безопасность», охватывающее также защиту общества от вредной информации, а не только систем и данных.",
    )
    .await?;
    us.glossary_diverge(
        "information-security",
        "The U.S. does not treat content as a security matter; for systems and data 'cybersecurity' is the term to use.",
        "США не рассматривают содержание информации как вопрос безопасности; для систем и данных следует использовать термин «кибербезопасность».",
    )
    .await?;
    us.glossary_propose(
        "attribution",
        "attribution",
        "атрибуция",
        "Establishing, on evidence that can be stated, who is responsible for an ICT incident: the machines, the persons and any state behind them.",
        "Установление на основании доказательств, которые можно изложить, того, кто ответственен за инцидент в сфере ИКТ: оборудования, лиц и стоящего за ними государства.",
        vec!["un-gge-2015".into(), "policy-brief".into()],
    )
    .await?;
    glossary_reach(ru, "attribution", 1).await?;
    Ok(())
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

/// A terrorist-content report from us to ru answered item by item: the
/// removed image hash joins us's hash list and reaches ru; one item is
/// disputed, one still waits (its timer runs). And one report back.
async fn seed_content(dir: &Path, us: &Node, ru: &Node) -> Result<(), CliError> {
    let picture = demo_image(640, 480);
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| CliError::io(format!("cannot encode the demo image: {e}")))?;
    let pdq = liaison_core::pdq::hash_image(&png).map_err(liaison_node::NodeError::from)?;
    // What a user would upload: a smaller, re-encoded copy.
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

    let report = play(us, ru, "content_report", json!({
        "title": "Recruitment video and images of a designated group",
        "reporting_unit": {"name": "FBI Internet Referral Unit", "contact_person": "Duty agent", "email": "iru@fbi.example", "phone": "+1 202 555 0199"},
        "provider": "VideoHost (RU)",
        "tlp": "TLP:AMBER",
        "legal_basis": "Request under the bilateral arrangement on terrorist content",
        "items": [
            {"type": "url", "value": "https://videohost.example.ru/watch/8841", "behaviour": "recruitment", "urgency": "removal_order", "entity": "Group X"},
            {"type": "pdq", "value": pdq.hash.to_hex(), "quality": pdq.quality, "behaviour": "glorification", "urgency": "priority", "entity": "Group X"},
            {"type": "sha256", "value": "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b", "behaviour": "instruction", "urgency": "priority"},
            {"type": "url", "value": "https://forum.example.ru/t/5521", "behaviour": "incitement", "urgency": "standard", "entity": "Group X"}
        ]
    }), &[(true, "acknowledge", Value::Null)]).await?;
    ru.answer_items(&report, json!({"answers": [
        {"item": 0, "status": "removed", "reason": "Удалено в течение 40 минут"},
        {"item": 1, "status": "removed"},
        {"item": 2, "status": "disputed", "reason": "Учебный материал по химии, не инструкция по изготовлению оружия"}
    ]})).await?;
    // The agreed image hash reaches ru's copy of us's list.
    for _ in 0..200 {
        if !ru
            .hash_list(Some("us"), false, 1, 0, liaison_core::tlp::Tlp::Red)?
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    play(ru, us, "content_report", json!({
        "title": "Призывы к нападению на видеохостинге",
        "reporting_unit": {"name": "Отдел мониторинга", "contact_person": "Дежурный", "email": "monitoring@mvd.example.ru"},
        "provider": "VideoHost (US)",
        "tlp": "TLP:GREEN",
        "items": [
            {"type": "url", "value": "https://video.example.com/v/x93k", "behaviour": "threat", "urgency": "crisis"}
        ]
    }), &[]).await?;
    Ok(())
}
