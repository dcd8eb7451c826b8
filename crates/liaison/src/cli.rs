//! Command-line syntax (clap). The behaviour lives in `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "liaison",
    version,
    about = "A federated, verifiable exchange for cross-border cyber cooperation."
)]
pub struct Cli {
    /// Print results and errors as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a node: keys, configuration, database, and a log whose first entry is the node's card.
    Init {
        dir: PathBuf,
        /// Party code, e.g. `us`, `ru`, `ru-cert`.
        #[arg(long)]
        party: String,
        /// Display name of the party.
        #[arg(long)]
        name: String,
        /// Language of the party's officials.
        #[arg(long, default_value = "en")]
        lang: String,
        /// `party` or `witness`.
        #[arg(long, default_value = "party")]
        role: String,
        /// `authority`, `cert`, `provider`, `expert` or `witness` (default:
        /// authority, or witness for a witness): which requests it takes.
        #[arg(long)]
        kind: Option<String>,
        /// ISO 3166-1 alpha-2 code of the party's jurisdiction, e.g. `US`.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// Federation listener (HTTPS, mutual TLS).
        #[arg(long, default_value = "127.0.0.1:7443")]
        listen: String,
        /// App listener (API, UI).
        #[arg(long, default_value = "127.0.0.1:8080")]
        app_listen: String,
        /// URL peers reach the federation listener at (default: https://<listen>).
        #[arg(long, default_value = "")]
        public_url: String,
        /// An authority: the data categories of direct production orders to
        /// providers in its jurisdiction it must be notified of, comma-separated
        /// (subscriber_information, traffic_data, content_data).
        #[arg(long, default_value = "")]
        notify: String,
    },
    /// Print the node card (JSON) to hand to other parties.
    Card { dir: PathBuf },
    /// Pinned peers.
    Peer {
        #[command(subcommand)]
        command: PeerCommand,
    },
    /// This node's keys: rotation, revocation and recovery with the
    /// offline recovery key, and the key history of each party.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// The verifiable directory: every party's latest published entry
    /// (card, 24/7 contacts, kinds accepted, notification), each proved in
    /// its owner's log against a checkpoint a pinned witness cosigned.
    Directory {
        dir: PathBuf,
        /// First publish this party's entry with these 24/7 contacts (JSON array).
        #[arg(long)]
        publish: Option<PathBuf>,
        /// First fetch the directories of every pinned party and witness.
        #[arg(long)]
        sync: bool,
    },
    /// Run the node until SIGTERM or SIGINT.
    Serve { dir: PathBuf },
    /// The node's verifiable log.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Run a demonstration: authorities `us` and `ru`, providers `us-isp` and `ru-isp`, and the witness `ngo` on loopback, pinned to each other.
    Demo {
        /// Where the three nodes live (reused when it already holds them).
        #[arg(long, default_value = "liaison-demo")]
        dir: PathBuf,
        /// First of the ten consecutive loopback ports the demo uses (two per node).
        #[arg(long, default_value_t = 7440)]
        base_port: u16,
        /// Do not seed example cases.
        #[arg(long)]
        no_seed: bool,
    },
    /// Cases: threads of signed messages with another party.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
    /// Audit peers: their logs append-only, every receipt included, nothing sent left unreceipted.
    Audit {
        dir: PathBuf,
        /// Audit only this party.
        #[arg(long)]
        peer: Option<String>,
        /// A checkpoint without an ML-DSA-44 (post-quantum) cosignature by
        /// a pinned witness is a problem (also `witness.require_ml_dsa`).
        #[arg(long)]
        require_ml_dsa: bool,
    },
    /// Open alerts: undelivered or refused envelopes, equivocating peers.
    Alerts { dir: PathBuf },
    /// Escalations: deadlines passed and alerts, with what was sent to the duty officer.
    Escalations { dir: PathBuf },
    /// Attachments received or sent.
    Attachment {
        #[command(subcommand)]
        command: AttachmentCommand,
    },
    /// People who use this node.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Full-text search over case threads and the glossary (English and Russian stemming).
    Search {
        dir: PathBuf,
        query: String,
        /// Language of the titles printed.
        #[arg(long, default_value = "en")]
        lang: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Rebuild the search index from the database.
    Reindex { dir: PathBuf },
    /// The shared bilingual glossary.
    Glossary {
        #[command(subcommand)]
        command: GlossaryCommand,
    },
    /// The norms of the 2015 UN GGE report, with norm (h) measured from the cases.
    Norms { dir: PathBuf },
    /// The crosswalks: critical-infrastructure sectors and offences.
    Crosswalk {
        /// `sectors` or `offences`.
        which: String,
    },
    /// The duty roster: who receives escalations and answers the hotline when.
    Duty {
        #[command(subcommand)]
        command: DutyCommand,
    },
    /// Ping tests of a party's duty officer: send one, or list response times per peer.
    Ping {
        #[command(subcommand)]
        command: PingCommand,
    },
    /// STIX 2.1 bundles: import into a TAXII collection, export incidents.
    Stix {
        #[command(subcommand)]
        command: StixCommand,
    },
    /// PDQ image hashes and the shared hash list: hash images, match them, add or withdraw hashes.
    Hash {
        #[command(subcommand)]
        command: HashCommand,
    },
    /// Who read TLP:AMBER, AMBER+STRICT or RED content, newest first.
    TlpReads {
        dir: PathBuf,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Show the effective configuration and the environment variables that override it.
    Config { dir: PathBuf },
    /// Measure performance (results for BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum StixCommand {
    /// Import a bundle into a collection: valid objects are kept, invalid ones listed with their reason.
    Import {
        dir: PathBuf,
        file: PathBuf,
        /// Collection id or alias.
        #[arg(long, default_value = "shared")]
        collection: String,
    },
    /// Export incidents (all, or one case) as a bundle, within a TLP ceiling.
    Export {
        dir: PathBuf,
        #[arg(long)]
        case: Option<String>,
        /// The most restrictive marking the recipient may receive (clear, green, amber, amber_strict, red).
        #[arg(long, default_value = "green")]
        max_tlp: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum HashCommand {
    /// Print each image's PDQ hash (64 hex digits, ThreatExchange order) and quality.
    Image {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Match images (hashed here) or hashes against every live hash list.
    Match {
        dir: PathBuf,
        /// Image files to hash and look up.
        files: Vec<PathBuf>,
        /// PDQ hashes (64 hex digits) to look up.
        #[arg(long)]
        pdq: Vec<String>,
        #[arg(long)]
        md5: Vec<String>,
        #[arg(long)]
        sha256: Vec<String>,
        /// Hamming distance for PDQ matches (default: content.match_radius, 31).
        #[arg(long)]
        radius: Option<u32>,
    },
    /// List entries of the hash lists (this party's and each peer's), newest first.
    List {
        dir: PathBuf,
        /// Only this party's list.
        #[arg(long)]
        owner: Option<String>,
        /// Include withdrawn entries.
        #[arg(long)]
        withdrawn: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Withdraw entries of this party's list, here and on every party's copy.
    Withdraw {
        dir: PathBuf,
        #[arg(required = true)]
        entry_ids: Vec<String>,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum DutyCommand {
    /// Add a shift (times in RFC 3339, e.g. 2026-11-23T18:00:00Z); prints its id.
    Add {
        dir: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        phone: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Shifts that have not ended, and who is on duty now.
    List { dir: PathBuf },
    /// Remove a shift.
    Remove { dir: PathBuf, id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum PingCommand {
    /// Send a ping test to a party's duty officer; prints the case id.
    Send { dir: PathBuf, party: String },
    /// Pings sent per peer: answered, waiting, response times.
    List { dir: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum PeerCommand {
    /// Pin a peer from its card file, or from its directory entry once you
    /// have confirmed its certificate's fingerprint with it.
    Add {
        dir: PathBuf,
        #[arg(
            required_unless_present = "from_directory",
            conflicts_with = "from_directory"
        )]
        card_file: Option<PathBuf>,
        /// Replace the pinned card of a party whose card changed.
        #[arg(long)]
        replace: bool,
        /// The party's code in this node's directory.
        #[arg(long, requires = "fingerprint")]
        from_directory: Option<String>,
        /// The SHA-256 fingerprint of its TLS certificate, as the party told you.
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// List pinned peers.
    List { dir: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Rotate the log key and the TLS certificate: the old log key signs a
    /// key change naming the new keys (the new log key countersigns),
    /// committed to the log and sent to every pinned party, whose pins
    /// follow; during the overlap both log keys sign checkpoints and
    /// either certificate is accepted. Works on a serving node.
    Rotate {
        dir: PathBuf,
        /// Rotate the log key (every key the node has when none of
        /// `--log`, `--tls`, `--cosigner` is given).
        #[arg(long)]
        log: bool,
        /// Rotate the TLS certificate: the old one is still presented
        /// during the overlap, and peers accept either.
        #[arg(long)]
        tls: bool,
        /// Rotate a witness's cosigning keys (Ed25519 and ML-DSA-44): both
        /// cosigners sign during the overlap.
        #[arg(long)]
        cosigner: bool,
        /// How long the old key stays accepted, in seconds (at most 30 days).
        #[arg(long, default_value_t = 86_400)]
        overlap_secs: u64,
    },
    /// Replace the recovery key: the current one (brought from where it is
    /// kept offline) signs a recovery rotation naming the new one, which
    /// countersigns; the new secret is written to `--out` (move it offline).
    RotateRecovery {
        dir: PathBuf,
        /// The current recovery key's file (`keys/recovery.key` as `init` wrote it).
        #[arg(long)]
        recovery_key: PathBuf,
        /// Where to write the new recovery key (a new file, mode 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke the log key, presumed stolen: the recovery key signs a
    /// revocation naming a new log key; peers refuse everything the revoked
    /// key signs from then on and flag what they accepted from it since
    /// `--compromised-since`.
    Revoke {
        dir: PathBuf,
        /// The recovery key's file (brought from where it is kept offline).
        #[arg(long)]
        recovery_key: PathBuf,
        /// Since when the key is presumed stolen (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long)]
        compromised_since: String,
    },
    /// Write this node's key changes (its whole chain, as peers fetch it
    /// online) to a file, for a peer that cannot be reached: after a thief
    /// rotated the certificate, a revocation cannot arrive online.
    Export {
        dir: PathBuf,
        /// The file to write (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Follow a peer's key changes from a file its operator wrote with
    /// `key export` and handed over by any channel: every statement is
    /// checked against the card pinned here, as online.
    Follow {
        dir: PathBuf,
        /// The file `key export` wrote.
        file: PathBuf,
    },
    /// The key changes on record: this node's own, or a peer's.
    History {
        dir: PathBuf,
        /// A pinned party (default: this node).
        #[arg(long)]
        peer: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum CaseCommand {
    /// Open a case with another party (or several); prints the case id.
    New {
        dir: PathBuf,
        /// Party code of a recipient; repeat for several (notes, incident
        /// notifications and content reports): every one is on the case's roster.
        #[arg(long, required = true)]
        to: Vec<String>,
        /// Case kind (`note`).
        #[arg(long)]
        kind: String,
        /// JSON body of the first message (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
        /// A file to attach (repeat for several); encrypted at rest, pushed to the recipient.
        #[arg(long = "attach")]
        attach: Vec<PathBuf>,
    },
    /// Add a message to a case.
    Reply {
        dir: PathBuf,
        case_id: String,
        /// JSON body of the message (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
    },
    /// Take a lifecycle action on a legal case (acknowledge, start_review, request_clarification,
    /// provide_clarification, start_execution, report_partial, report_executed, close, refuse,
    /// withdraw, extend).
    Act {
        dir: PathBuf,
        case_id: String,
        action: String,
        /// JSON details: {"text": …} for clarifications, results and reasons, {"ground": …, "text": …}
        /// to refuse, {"days": N} to extend (`-` for standard input).
        #[arg(long)]
        file: Option<PathBuf>,
        /// A file to attach (repeat for several).
        #[arg(long = "attach")]
        attach: Vec<PathBuf>,
    },
    /// Forward a legal request this authority was asked to a provider in its
    /// jurisdiction for execution; prints the execution case's id.
    Forward {
        dir: PathBuf,
        case_id: String,
        /// Party code of the provider.
        #[arg(long)]
        to: String,
        /// JSON {"note": …}: instructions to the provider (`-` for standard input).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Answer an execution order with the data produced: the files and a
    /// statement {"period_from", "period_to", "legal_basis", "text"?}.
    Produce {
        dir: PathBuf,
        case_id: String,
        /// JSON statement (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
        /// A file produced (repeat for several).
        #[arg(long = "attach", required = true)]
        attach: Vec<PathBuf>,
    },
    /// Relay the provider's production in an execution case, unchanged, to
    /// the requesting authority of the request it executes.
    Relay { dir: PathBuf, case_id: String },
    /// Object, as the authority notified of a production order, within its
    /// objection window: the provider then discloses nothing.
    Object {
        dir: PathBuf,
        case_id: String,
        /// Why (required).
        #[arg(long)]
        grounds: String,
    },
    /// Invite a pinned party into a joint team this node is a member of.
    Invite {
        dir: PathBuf,
        case_id: String,
        #[arg(long)]
        to: String,
        /// `co_investigator` (an authority or expert) or `executing_provider`.
        #[arg(long, default_value = "co_investigator")]
        role: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Accept this node's invitation into a joint team (pin every member first).
    Accept { dir: PathBuf, case_id: String },
    /// Leave a joint team (this node stays on its roster, marked gone).
    Leave {
        dir: PathBuf,
        case_id: String,
        #[arg(long, default_value = "")]
        text: String,
    },
    /// Consent, as the authority notified of a production order: the
    /// provider may disclose before the objection window ends.
    Consent {
        dir: PathBuf,
        case_id: String,
        #[arg(long, default_value = "")]
        text: String,
    },
    /// Each produced file of a case with every hand-over and its receipt.
    Custody { dir: PathBuf, case_id: String },
    /// List the cases this node holds (sent and received).
    List { dir: PathBuf },
    /// Show one case with its messages and their receipts.
    Show { dir: PathBuf, case_id: String },
    /// Add an update to an incident or hotline thread: {"text": …, "severity"?, "indicators"?, "tlp"?}.
    Update {
        dir: PathBuf,
        case_id: String,
        /// JSON body of the update (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
    },
    /// Answer an item of a content report addressed to this party: checked, removed,
    /// still_online, or disputed (with --reason). Several at once: --file {"answers": [...]}.
    Answer {
        dir: PathBuf,
        case_id: String,
        /// Index of the item (from 0).
        #[arg(long, required_unless_present = "file")]
        item: Option<usize>,
        #[arg(long, required_unless_present = "file")]
        status: Option<String>,
        #[arg(long, default_value = "")]
        reason: String,
        /// JSON body {"answers": [{"item": N, "status": S, "reason"?: R}, ...]} (`-` for standard input).
        #[arg(long, conflicts_with_all = ["item", "status"])]
        file: Option<PathBuf>,
    },
    /// Tag a case with a norm of the 2015 UN GGE report (a–k), or remove the tag.
    Tag {
        dir: PathBuf,
        case_id: String,
        #[arg(long)]
        norm: String,
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum GlossaryCommand {
    /// Every term with its status.
    List { dir: PathBuf },
    /// One term: both languages, each party's definition, the agreed one, divergences, history.
    Show { dir: PathBuf, term: String },
    /// Propose this party's definition: a JSON file {"term_en", "term_ru", "definition_en", "definition_ru", "sources": []}.
    Propose {
        dir: PathBuf,
        term: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Sign the other party's latest proposal: the definition becomes agreed.
    Sign { dir: PathBuf, term: String },
    /// Record that this party diverges from the definition, with its reasons.
    Diverge {
        dir: PathBuf,
        term: String,
        #[arg(long, default_value = "")]
        reasons_en: String,
        #[arg(long, default_value = "")]
        reasons_ru: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user (or reset one's role, password and language); the password is read from standard input.
    Add {
        dir: PathBuf,
        username: String,
        /// administrator, legal_officer, cert_analyst, duty_officer, provider_liaison or observer.
        #[arg(long)]
        role: String,
        /// Language of the user's pages: en or ru.
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Create an API token for a user (shown once; valid
    /// `accounts.token_days` unless `--days`); `token list`, `token revoke`.
    Token(TokenArgs),
    /// Disable a user: its sessions end and its tokens stop working.
    Disable { dir: PathBuf, username: String },
    /// Enable a disabled user again.
    Enable { dir: PathBuf, username: String },
    /// List users.
    List { dir: PathBuf },
    /// Set the most restrictive TLP marking a user may read (clear, green,
    /// amber, amber_strict, red), or `default` for the role's.
    Clearance {
        dir: PathBuf,
        username: String,
        level: String,
    },
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: Option<TokenCommand>,
    #[arg(required = true)]
    pub dir: Option<PathBuf>,
    #[arg(required = true)]
    pub username: Option<String>,
    #[arg(long, default_value = "cli")]
    pub label: String,
    /// Days the token is valid (1 to 3650).
    #[arg(long)]
    pub days: Option<u32>,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// List a user's tokens: id, label, created, expires (never the tokens).
    List { dir: PathBuf, username: String },
    /// Revoke one token of a user (its id from `token list`), or all.
    Revoke {
        dir: PathBuf,
        username: String,
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AttachmentCommand {
    /// Write an attachment's content (decrypted) to a file or standard output.
    Get {
        dir: PathBuf,
        sha256: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Print the latest signed checkpoint.
    Checkpoint { dir: PathBuf },
    /// Fetch every tile and entry bundle, recompute the tree and check the checkpoint.
    Verify {
        /// A node directory, or the log's base URL (e.g. http://127.0.0.1:8080/log).
        target: String,
        /// Verifier key of the log (default: from the node directory, or from the pinned peer serving the URL).
        #[arg(long)]
        key: Option<String>,
        /// Node directory whose TLS identity and pinned peers are used for https:// URLs.
        #[arg(long = "as")]
        as_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Durable log appends per second at several batch sizes, beside the disk's raw fsync rate.
    Log {
        /// Directory for the scratch database (default: a temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Entries appended per measurement.
        #[arg(long, default_value_t = 200_000)]
        entries: u64,
    },
    /// Signed and receipted messages between two nodes on this machine: throughput, and latency at a fixed rate.
    Federation {
        /// Directory for the scratch nodes (default: a new directory here).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Messages for each throughput round.
        #[arg(long, default_value_t = 20_000)]
        messages: u64,
        /// Throughput rounds (fresh nodes each; the median is reported).
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Messages per second for the latency run.
        #[arg(long, default_value_t = 500)]
        rate: u64,
        /// Duration of the latency run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Federation throughput with one log key, inside a rotation's overlap
    /// (two keys sign every checkpoint) and with a witness cosigning in
    /// Ed25519 and ML-DSA-44, each round on fresh nodes.
    Keys {
        /// Directory for the scratch nodes (default: a new directory here).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Messages for each measurement.
        #[arg(long, default_value_t = 20_000)]
        messages: u64,
        /// Rounds (each measures the three setups; medians are reported).
        #[arg(long, default_value_t = 3)]
        rounds: u32,
    },
    /// One envelope to 2, 5 and 10 participants of a case until every
    /// receipt is stored, beside the two-party figure of the same run.
    Fanout {
        /// Directory for the scratch nodes (default: a new directory here).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Messages for each throughput measurement.
        #[arg(long, default_value_t = 5_000)]
        messages: u64,
        /// Messages per second for the latency run.
        #[arg(long, default_value_t = 100)]
        rate: u64,
        /// Duration of the latency run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Rounds per fan-out (fresh nodes each; the median is reported).
        #[arg(long, default_value_t = 1)]
        rounds: u32,
    },
    /// N real nodes (a `liaison serve` process each) and a witness, every one
    /// pinned to every other: one broadcast and one directory update until
    /// every node holds them, memory and open sockets per node.
    Network {
        /// Directory for the scratch nodes (default: a new directory here).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long, default_value_t = 10)]
        parties: usize,
    },
    /// Server time to render the inbox page with many cases in the database.
    Ui {
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long, default_value_t = 100_000)]
        cases: u64,
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
    /// TAXII 2.1 ingest and paging beside medallion 3.0.0 (memory backend), in the same run.
    Taxii {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Objects to ingest into Liaison.
        #[arg(long, default_value_t = 100_000)]
        objects: usize,
        /// Objects to ingest into medallion (it slows down as its collection grows;
        /// paging 10,000 of them takes it minutes).
        #[arg(long, default_value_t = 10_000)]
        medallion_objects: usize,
        /// Stop medallion's ingest after this many seconds.
        #[arg(long, default_value_t = 900)]
        medallion_budget_secs: u64,
    },
    /// A user's page and API latency and the node's peak memory under slow
    /// connections, bad-password floods, image bombs and oversized TAXII posts,
    /// beside the same without attack.
    Abuse {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Seconds each phase (without, with attacks) lasts.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Resident memory of an idle `liaison serve` and of the seeded demo, beside medallion 3.0.0 idle.
    Idle {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Exact PDQ matching (radius 31) and PDQ hashing beside Python threatexchange 1.2.17 PDQIndex and pdqhash.
    Pdq {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Hash-list sizes to measure.
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
        sizes: Vec<usize>,
        /// Queries timed on Liaison's index.
        #[arg(long, default_value_t = 100_000)]
        queries: usize,
        /// Queries timed on threatexchange's PDQIndex (it is slower).
        #[arg(long, default_value_t = 4_000)]
        reference_queries: usize,
        /// Images for the hashing comparison (0: skip).
        #[arg(long, default_value_t = 150)]
        images: usize,
    },
    /// Search queries over many indexed case messages (English and Russian), beside the bare index lookup.
    Search {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Messages to index.
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        /// Messages per case.
        #[arg(long, default_value_t = 10)]
        per_case: u64,
        /// Queries to time.
        #[arg(long, default_value_t = 600)]
        queries: usize,
    },
}
