//! CLI errors: a stable code, one sentence, an exit status.

use liaison_node::NodeError;
use liaison_server::ServerError;

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
        CliError::new(e.code(), e.to_string())
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
