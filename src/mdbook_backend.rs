//! `mdbook-quire`: Quire as an mdBook backend. `mdbook build` runs it for
//! `[output.quire]` with the `RenderContext` JSON on stdin and the working
//! directory set to `destination` (`book/quire/` when book.toml has other
//! outputs too, else `book/`). The chapters come as the book's preprocessors
//! left them; `source::mdbook::load_rendered` maps them onto parts and
//! modules as `quire build --content BOOK` does, and the usual build writes
//! the EPUB and PDFs into `destination`.

use std::io::Read;
use std::path::Path;

use crate::build::{self, BuildOptions, BuildReport, Input, Silent};
use crate::diag::{Diagnostic, Diagnostics};
use crate::error::{Error, Result};
use crate::source::mdbook::{self, RenderContext};

/// The mdBook versions whose protocol this backend was written against.
const KNOWN_MDBOOK: [&str; 2] = ["0.4.", "0.5."];

/// Reads mdBook's `RenderContext` from `input` (the backend's stdin).
pub fn read_context(mut input: impl Read) -> Result<RenderContext> {
    let mut json = String::new();
    input
        .read_to_string(&mut json)
        .map_err(|e| Error::io("read", "<stdin>", e))?;
    if json.trim().is_empty() {
        return Err(Error::Usage(
            "mdbook-quire is an mdBook backend: add [output.quire] to book.toml and run `mdbook build` (stdin was empty)".into(),
        ));
    }
    serde_json::from_str(&json).map_err(|e| {
        Error::Usage(format!(
            "stdin is not mdBook's RenderContext JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })
}

/// A warning when `version` is an mdBook this backend does not know.
pub fn version_note(ctx: &RenderContext) -> Option<String> {
    (!KNOWN_MDBOOK.iter().any(|v| ctx.version.starts_with(v))).then(|| {
        format!(
            "mdBook {} is newer or older than the 0.4 and 0.5 this backend knows: the output may miss chapters",
            ctx.version
        )
    })
}

/// Builds the EPUB and PDFs of the book mdBook sent into its `destination`.
/// `source_date_epoch`: SOURCE_DATE_EPOCH as the binary read it.
pub fn render(
    ctx: &RenderContext,
    source_date_epoch: Option<i64>,
) -> Result<(BuildReport, Vec<Diagnostic>)> {
    let mut diags = Diagnostics::new();
    let (source, formats) = mdbook::load_rendered(ctx, &mut diags)?;
    let opts = BuildOptions {
        epub: formats.epub,
        pdf: formats.pdf,
        // Every run renders: the chapters' texts come from the preprocessors,
        // which the cache's fingerprint of the book folder cannot see.
        force: true,
        source_date_epoch,
        ..BuildOptions::default()
    };
    build::build_from(
        Input::Loaded(Box::new(source), diags),
        &ctx.destination,
        &opts,
        &Silent,
    )
}

/// A diagnostic with its file relative to the book root, where `mdbook build` runs.
pub fn relative_to(mut d: Diagnostic, root: &Path) -> Diagnostic {
    if let Ok(rel) = d.file.strip_prefix(root) {
        d.file = rel.to_path_buf();
    }
    d
}
