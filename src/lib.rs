//! Quire: a Markdown curriculum → one document model → EPUB and PDF books.
//!
//! The pipeline runs one way: `source::load` → `parse::parse` → `index::build`
//! → renderers. `check` is the same pipeline without rendering, so `check`
//! and `build` can never disagree about the content.

pub mod alloc;
pub mod build;
pub mod check;
pub mod diag;
pub mod error;
pub mod index;
pub mod init;
pub mod mdbook_backend;
pub mod model;
pub mod parse;
pub mod render;
pub mod source;
pub mod time;
pub mod watch;

use std::path::Path;

pub use error::{Error, Result};

use diag::{Diagnostic, Diagnostics};
use model::{Book, Index};

/// A book that loaded without errors, with its warnings and statistics.
#[derive(Debug)]
pub struct Loaded {
    pub book: Book,
    /// What the index stage found in it (tags, difficulties, mentions).
    pub index: Index,
    pub warnings: Vec<Diagnostic>,
    pub stats: parse::Stats,
}

/// Load, parse and index the book in `content`, never touching the network
/// (remote images come from `quire.lock` and its cache, or stay links).
/// Content errors come back as `Error::Content` with every diagnostic
/// (errors and warnings) in file order.
pub fn load(content: &Path) -> Result<Loaded> {
    let offline = parse::remote::FetchOptions {
        fetch: parse::remote::Fetch::Never,
        ..Default::default()
    };
    load_with(content, &offline)
}

/// `load`, downloading remote images as `fetch` says (for builds).
pub fn load_with(content: &Path, fetch: &parse::remote::FetchOptions) -> Result<Loaded> {
    let mut diags = Diagnostics::new();
    let source = source::load(content, &mut diags)?;
    load_source(source, diags, fetch)
}

/// Parse and index a book another loader read (the mdBook backend), with
/// that loader's diagnostics.
pub fn load_source(
    source: source::Source,
    mut diags: Diagnostics,
    fetch: &parse::remote::FetchOptions,
) -> Result<Loaded> {
    let (book, stats) = parse::parse(source, fetch, &mut diags);
    let index = index::build(&book, &mut diags);
    if diags.has_errors() {
        return Err(Error::Content(diags.into_sorted()));
    }
    Ok(Loaded {
        book,
        index,
        warnings: diags.into_sorted(),
        stats,
    })
}
