//! One diagnostic type for every stage: `file:line:col: severity: message`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.pos.line.max(1),
            self.pos.col.max(1),
            sev,
            self.message
        )
    }
}

/// Collects every problem of a run so all of them can be reported, not just the first.
#[derive(Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, file: &Path, pos: Pos, message: impl Into<String>) {
        self.push(Severity::Error, file, pos, message.into());
    }

    pub fn warning(&mut self, file: &Path, pos: Pos, message: impl Into<String>) {
        self.push(Severity::Warning, file, pos, message.into());
    }

    fn push(&mut self, severity: Severity, file: &Path, pos: Pos, message: String) {
        self.list.push(Diagnostic {
            severity,
            file: file.to_path_buf(),
            pos,
            message,
        });
    }

    pub fn error_count(&self) -> usize {
        self.list
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warning_count(&self) -> usize {
        self.list.len() - self.error_count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// Diagnostics in a stable order: by file, then position, errors first on ties.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.list.sort_by(|a, b| {
            (
                &a.file,
                a.pos.line,
                a.pos.col,
                std::cmp::Reverse(a.severity),
            )
                .cmp(&(
                    &b.file,
                    b.pos.line,
                    b.pos.col,
                    std::cmp::Reverse(b.severity),
                ))
        });
        self.list
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_a_compiler() {
        let mut d = Diagnostics::new();
        d.error(Path::new("content/a.md"), Pos { line: 3, col: 7 }, "bad");
        d.warning(Path::new("content/a.md"), Pos { line: 1, col: 1 }, "meh");
        assert_eq!(d.error_count(), 1);
        let sorted = d.into_sorted();
        assert_eq!(sorted[0].to_string(), "content/a.md:1:1: warning: meh");
        assert_eq!(sorted[1].to_string(), "content/a.md:3:7: error: bad");
    }
}
