//! The one integration-test binary: real `liaison` processes and in-process
//! nodes on 127.0.0.1, real TLS, real SQLite files.

mod cli;
mod log;
mod support;
mod tls;
