//! The one integration-test binary: real `liaison` processes and in-process
//! nodes on 127.0.0.1, real TLS, real SQLite files.

// Tests may unwrap: a panic is a test failure with a backtrace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod attachments;
mod cli;
mod content;
mod crash;
mod deadlines;
mod directory;
mod federation;
mod forwarding;
mod incidents;
mod key_forks;
mod keys;
mod kit;
mod legal;
mod log;
mod orders;
mod parties;
mod pdq;
mod recovery;
mod reference;
mod rosters;
mod security;
mod support;
mod taxii;
mod teams;
mod tidy;
mod tls;
mod ui;
mod witness;
mod witness_keys;
