//! CLI errors: a stable code, one sentence, an exit status.

use liaison_node::NodeError;
use liaison_server::ServerError;
use liaison_store::StoreError;

#[derive(Debug)]
pub struct CliError {
    pub code: &'static str,
    pub message: String,
    pub exit_code: i32,
}

impl CliError {
    pub fn new(code: &'static str, message: impl Into<String>) -> CliError {
        CliError {
            code,
            message: message.into(),
            exit_code: 1,
        }
    }

    pub fn invalid(message: impl Into<String>) -> CliError {
        CliError::new("invalid_input", message)
    }

    pub fn io(message: impl Into<String>) -> CliError {
        CliError::new("io_error", message)
    }

    pub fn verification(message: impl Into<String>) -> CliError {
        CliError::new("verification_failed", message)
    }
}

impl From<NodeError> for CliError {
    fn from(e: NodeError) -> CliError {
        let code = match &e {
            NodeError::Config(_) => "config_error",
            NodeError::Invalid(_) | NodeError::Core(_) => "invalid_input",
            NodeError::Io(_) => "io_error",
            NodeError::Tls(_) => "tls_error",
            NodeError::Store(s) => return CliError::from_store(s),
        };
        CliError::new(code, e.to_string())
    }
}

impl CliError {
    fn from_store(e: &StoreError) -> CliError {
        let code = match e {
            StoreError::NotFound(_) => "not_found",
            StoreError::Conflict(_) => "conflict",
            StoreError::Invalid(_) => "invalid_input",
            StoreError::Corrupt(_) => "corrupt",
            _ => "store_error",
        };
        CliError::new(code, e.to_string())
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> CliError {
        CliError::from_store(&e)
    }
}

impl From<ServerError> for CliError {
    fn from(e: ServerError) -> CliError {
        match e {
            ServerError::Node(n) => n.into(),
            other => CliError::new("server_error", other.to_string()),
        }
    }
}
