//! Typed failures of a whole run, each with its exit code.

use std::path::PathBuf;

use crate::diag::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The content has errors; every one of them is listed.
    #[error("{} error(s) in the content", .0.iter().filter(|d| d.severity == crate::diag::Severity::Error).count())]
    Content(Vec<Diagnostic>),
    /// The command line points at something unusable.
    #[error("{0}")]
    Usage(String),
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A template (shipped or a book's override) failed to render.
    #[error("layout {name}: {message}")]
    Layout { name: String, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// 0 ok, 1 content errors, 2 usage errors, 3 I/O or internal errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Content(_) | Error::Layout { .. } => 1,
            Error::Usage(_) => 2,
            Error::Io { .. } | Error::Internal(_) => 3,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
