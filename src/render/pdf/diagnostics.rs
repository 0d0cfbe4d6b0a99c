//! Typst's diagnostics as the author's: a span in generated markup is
//! mapped back to the Markdown file and line it came from (each block that
//! can fail marks where it starts, see `markup::MapEntry`); an error in the
//! layout template is the template's.

use std::path::{Path, PathBuf};

use typst::WorldExt;
use typst::diag::{Severity as TypstSeverity, SourceDiagnostic};

use super::markup::Generated;
use super::world::QuireWorld;
use crate::diag::{Diagnostic, Severity};
use crate::error::Error;
use crate::model::Pos;

/// Why a document did not compile: only math Typst rejected (retried with
/// those formulas as TeX source, by file, line and column), or anything else.
pub(super) enum Failure {
    Math(Vec<(PathBuf, u32, u32)>),
    Other(Error),
}

/// A Typst diagnostic as a Markdown diagnostic, when it points into
/// generated text (and whether it is in math); an error elsewhere is the
/// book's layout template's (under `root`).
pub(super) fn locate(
    root: &Path,
    world: &QuireWorld<'_>,
    generated: &Generated,
    d: &SourceDiagnostic,
) -> Option<(Diagnostic, bool)> {
    let severity = match d.severity {
        TypstSeverity::Error => Severity::Error,
        TypstSeverity::Warning => Severity::Warning,
    };
    let span = d.span;
    let in_main = span.id() == Some(world.generated_id());
    let entry = if in_main {
        world
            .range(span)
            .and_then(|r| generated.map.iter().rev().find(|e| e.offset <= r.start))
    } else {
        None
    };
    match entry {
        Some(e) => Some((
            Diagnostic {
                severity,
                file: e.file.clone(),
                pos: e.pos,
                message: format!("typesetting: {}", d.message),
            },
            e.math,
        )),
        None if severity == Severity::Error => Some((
            Diagnostic {
                severity,
                file: root.join("layouts/typst/quire.typ"),
                pos: Pos { line: 1, col: 1 },
                message: format!("typesetting (layout): {}", d.message),
            },
            false,
        )),
        // Layout warnings that can't be tied to the book are not the author's to fix.
        None => None,
    }
}

/// Typst's errors for one document as a [`Failure`].
pub(super) fn failure(
    root: &Path,
    world: &QuireWorld<'_>,
    generated: &Generated,
    errors: &[SourceDiagnostic],
) -> Failure {
    let located: Vec<(Diagnostic, bool)> = errors
        .iter()
        .filter_map(|e| locate(root, world, generated, e))
        .collect();
    if !located.is_empty() && located.iter().all(|(_, math)| *math) {
        return Failure::Math(
            located
                .into_iter()
                .map(|(d, _)| (d.file, d.pos.line, d.pos.col))
                .collect(),
        );
    }
    Failure::Other(Error::Content(
        located.into_iter().map(|(d, _)| d).collect(),
    ))
}

/// A Typst failure in generated (not book) markup: a bug, reported as such.
pub(super) fn typst_error(what: &str, errors: &[SourceDiagnostic]) -> Error {
    let first = errors.first().map(|e| e.message.to_string());
    Error::Internal(format!("{what}: {}", first.unwrap_or_default()))
}
