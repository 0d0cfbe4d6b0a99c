//! PDF renderer: model → Typst markup (layout template from `layouts/typst/`)
//! → compiled in-process with the Typst compiler → PDF via typst-pdf.
//! One combined book and one standalone PDF per part, and study booklets.
//!
//! A few free functions over explicit inputs (a [`Job`]): [`typeset`] lays
//! the whole book out, [`export`] turns that layout into the book PDF or a
//! part PDF, [`typeset_parts`] and [`booklet`] do the same for study
//! booklets. The rooms behind them:
//!
//! - `markup`: the model as Typst markup, one document at a time
//! - `layout`: documents laid out in parallel, in rounds until page numbers
//!   settle; math Typst rejects and misplaced footnotes retried
//! - `diagnostics`: Typst's errors and warnings mapped to Markdown file:line
//! - `pagemap`: where each document, label and index mention lands
//! - `compose`: the book and part PDFs composed of the documents' pages,
//!   links between documents resolved
//! - `export`: typst-pdf, PDF/UA-1 when the content allows it
//! - `impose`: a part PDF imposed onto booklet sheets
//! - `session`: what `quire watch` keeps between builds
//! - `world`: the Typst `World` (fonts, images, sources), `coverage`:
//!   characters no font draws, `math`: TeX → Typst math

mod compose;
mod coverage;
mod diagnostics;
mod doc;
mod export;
pub mod formula;
mod impose;
mod laid;
mod layout;
mod markup;
pub mod math;
mod pagemap;
mod pagestart;
mod paper;
mod session;
mod world;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::Result;
use crate::model::{Book, Index};
use crate::render::BuildInfo;
use crate::render::booklet::{BookletOptions, Sheet};

pub use crate::model::print::{Assembly, Open, Paper};
pub use impose::{impose, typeset_markup};
pub use laid::{Layout, Parts};
pub use pagestart::page_list;
pub use session::Session;
pub use world::Fonts;

pub static DEFAULT_LAYOUTS: &[(&str, &str)] = &[(
    "typst/quire.typ",
    include_str!("../../../layouts/typst/quire.typ"),
)];

/// The Typst markup of the book's documents (front matter, each part, the
/// indexes) one after the other, for inspection and fuzzing (no compile).
pub fn markup(book: &Book, index: &Index, paper: Paper) -> String {
    let fallback = BTreeSet::new();
    let no_breaks = BTreeSet::new();
    let pages = doc::PageMap::default();
    let settings = markup::Settings {
        paper: crate::model::paper::Profile::of(paper),
        open: Open::MODULES,
        part_open: Open::PARTS,
        math_fallback: &fallback,
        note_breaks: &no_breaks,
        pages: &pages,
        index,
    };
    let docs = std::iter::once(doc::Doc::Front)
        .chain((0..book.parts.len()).map(doc::Doc::Opener))
        .chain(book.modules().map(|(r, _)| doc::Doc::Module(r)))
        .chain([doc::Doc::Back]);
    docs.map(|d| markup::generate(book, &settings, d, "2000-01-01", "Quire").text)
        .collect()
}

/// A publisher's font folders: `fonts/` next to the content folder, or inside it.
pub fn font_dirs(content: &Path) -> Vec<PathBuf> {
    let parent = content.parent().map(Path::to_path_buf).unwrap_or_default();
    vec![parent.join("fonts"), content.join("fonts")]
}

/// The settings a PDF is laid out with (a command line's over a book's `[pdf]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PdfOptions {
    pub paper: Paper,
    /// Where each module opens.
    pub open: Open,
    /// Where each part's opening pages, and the indexes, open.
    pub part_open: Open,
    /// How the PDFs are put together.
    pub assembly: Assembly,
}

impl Default for PdfOptions {
    fn default() -> Self {
        Self {
            paper: Paper::default(),
            open: Open::MODULES,
            part_open: Open::PARTS,
            assembly: Assembly::default(),
        }
    }
}

/// Which PDF [`export`] writes: the combined book, or one part of it (a
/// booklet is [`booklet`]'s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Book,
    Part(usize),
}

/// One rendered PDF.
pub struct Pdf {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub pages: usize,
}

/// Everything a typesetting job reads: the book, its settings, the build's
/// facts, the fonts, what a watch session keeps, and when memory may go.
pub struct Job<'a> {
    pub book: &'a Book,
    /// The book's index (see `crate::index`).
    pub index: &'a Index,
    pub options: PdfOptions,
    pub info: &'a BuildInfo,
    /// Loaded once by the caller (a watch session keeps its own).
    pub fonts: Arc<Fonts>,
    /// `quire watch`: sources and exports kept between builds.
    pub session: Option<&'a Session>,
    /// Called whenever memory may go (see [`Release`]): a one-shot build
    /// frees it, so peak memory is a few documents' caches, not the book's;
    /// watch keeps Typst's caches for the next edit.
    pub release: &'a (dyn Fn(Release) + Sync),
}

/// What a [`Job`]'s caller may free at a point of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Nothing laid out so far is laid out again: all of Typst's caches.
    All,
    /// A document finished: what no compile used in the last this many
    /// calls (what a compile under way uses stays).
    Unused(usize),
    /// Only the freed heap, back to the OS now.
    Heap,
}

/// Where a PDF of this book goes under `out_dir`.
pub fn path(book: &Book, out_dir: &Path, scope: Scope) -> PathBuf {
    match scope {
        Scope::Book => out_dir.join(format!("{}.pdf", book.meta.slug)),
        Scope::Part(p) => {
            let part = &book.parts[p];
            out_dir
                .join("pdf")
                .join(format!("{:02}-{}.pdf", part.number, part.slug))
        }
    }
}

/// Where part `p`'s study booklet goes under `out_dir`.
pub fn booklet_path(book: &Book, out_dir: &Path, p: usize) -> PathBuf {
    let part = &book.parts[p];
    out_dir
        .join("booklets")
        .join(format!("{:02}-{}-booklet.pdf", part.number, part.slug))
}

/// Lays out the whole book: every part (in parallel), then the indexes and
/// the front matter. Nothing is exported yet, unless the book is streamed
/// (see [`Assembly`]: each document is then exported as it is laid out);
/// the warnings are known.
pub fn typeset(job: &Job) -> Result<Layout> {
    let words = job.book.modules().map(|(_, m)| m.words).sum();
    // Watch keeps each part PDF's export for the next edit: whole parts.
    let streamed = job.session.is_none() && job.options.assembly.streams(words);
    let layout = layout::Context::new(job)?.book_layout(streamed)?;
    (job.release)(Release::All);
    Ok(layout)
}

/// Lays out only the parts (no front matter, no book index): what a
/// booklet imposes.
pub fn typeset_parts(job: &Job) -> Result<Parts> {
    let parts = layout::Context::new(job)?.parts()?;
    (job.release)(Release::All);
    Ok(parts)
}

/// The part PDFs of these parts (each a document of its own, see
/// [`compose::part`]), packed: what watch writes before the book.
pub fn export(job: &Job, layout: &Layout, parts: &[usize], out_dir: &Path) -> Result<Vec<Pdf>> {
    if let Some(chunks) = &layout.chunks {
        let scopes: Vec<Scope> = parts.iter().map(|&p| Scope::Part(p)).collect();
        return merged(job, layout, chunks, &scopes, out_dir);
    }
    let one = |&p: &usize| {
        let path = path(job.book, out_dir, Scope::Part(p));
        let part = part_document(job, layout, p);
        let bytes = match job.session {
            Some(s) => s.exported(&path, typst::utils::hash128(part.pages()), || {
                export::pdf(job, &part)
            })?,
            None => export::pdf(job, &part)?,
        };
        let pages = part.pages().len();
        Ok(Pdf { path, bytes, pages })
    };
    // One at a time, see `export_all`.
    parts.iter().map(one).collect()
}

/// Part `p` as a document of its own, on the job's paper.
fn part_document(job: &Job, layout: &Layout, p: usize) -> typst_layout::PagedDocument {
    let duplex = crate::model::paper::Profile::of(job.options.paper).duplex;
    compose::part(job.book, job.index, &layout.parts, &layout.pages, p, duplex)
}

/// The PDFs of these scopes, in their order, with as little in memory at
/// once as the layout allows. typst-pdf writes each part PDF, one at a
/// time (it uses every core itself; on rayon's workers a part's export
/// waiting for krilla's deferred work would take up the next one's, and
/// every part would be in memory at once), then the book, composed of the
/// layout's documents. Only then, the layout and the composed book freed,
/// are their objects packed (see `export::pack`), the parts two at a time,
/// the book alone: lopdf holds every object of a PDF, some twenty times
/// its size, the export's largest step, which so never adds to the layout.
pub fn export_all(job: &Job, layout: Layout, scopes: &[Scope], out_dir: &Path) -> Result<Vec<Pdf>> {
    if let Some(chunks) = &layout.chunks {
        return merged(job, &layout, chunks, scopes, out_dir);
    }
    let duplex = crate::model::paper::Profile::of(job.options.paper).duplex;
    let mut unpacked = Vec::with_capacity(scopes.len());
    for &scope in scopes {
        if let Scope::Part(p) = scope {
            let part = part_document(job, &layout, p);
            unpacked.push((scope, export::typst_pdf(job, &part)?, part.pages().len()));
        }
    }
    // What the part PDFs' exports freed goes back to the OS (some of it
    // in other threads' arenas, which the book's export does not reuse).
    (job.release)(Release::Heap);
    if scopes.contains(&Scope::Book) {
        let book = compose::book(&layout, duplex);
        // Its pages share their frames with the layout: the rest goes.
        drop(layout);
        let at = scopes.iter().position(|s| *s == Scope::Book).unwrap_or(0);
        let pdf = export::typst_pdf(job, &book)?;
        unpacked.insert(at, (Scope::Book, pdf, book.pages().len()));
    } else {
        drop(layout);
    }
    (job.release)(Release::All);
    let pack = |(scope, bytes, pages): (Scope, Vec<u8>, usize)| {
        Ok(Pdf {
            path: path(job.book, out_dir, scope),
            bytes: export::pack(&bytes)?,
            pages,
        })
    };
    // The parts two at a time, the book alone: its objects are as many as
    // all the parts'.
    let (book, parts): (Vec<_>, Vec<_>) = unpacked.into_iter().partition(|u| u.0 == Scope::Book);
    let parts: Vec<Pdf> = parts.into_par_iter().map(pack).collect::<Result<_>>()?;
    // Their heaps are rayon's workers', which the book's does not reuse.
    (job.release)(Release::Heap);
    let mut book = book.into_iter().map(pack).collect::<Result<Vec<Pdf>>>()?;
    let mut parts = parts.into_iter();
    // Back in the order asked for.
    Ok(scopes
        .iter()
        .filter_map(|s| match s {
            Scope::Book => book.pop(),
            Scope::Part(_) => parts.next(),
        })
        .collect())
}

/// The PDFs of these scopes merged from a streamed layout's chunks, one
/// at a time (see `compose::pieces`, `export::merge`).
fn merged(
    job: &Job,
    layout: &Layout,
    chunks: &laid::Chunks,
    scopes: &[Scope],
    out_dir: &Path,
) -> Result<Vec<Pdf>> {
    scopes
        .iter()
        .map(|&scope| {
            let pieces = compose::pieces(job.index, layout, chunks, scope);
            let pages = pieces.pieces.iter().map(|c| c.heights.len()).sum();
            let bytes = export::merge(&pieces)?;
            (job.release)(Release::Heap);
            Ok(Pdf {
                path: path(job.book, out_dir, scope),
                bytes,
                pages,
            })
        })
        .collect()
}

/// Part `p`'s study booklet: its PDF (from parts laid out at the booklet's
/// half-size paper) imposed onto `sheet`s.
pub fn booklet(
    job: &Job,
    parts: &Parts,
    p: usize,
    sheet: Sheet,
    imposition: &BookletOptions,
    out_dir: &Path,
) -> Result<Pdf> {
    // A booklet is printed on both sides, whatever the book's paper.
    let part = compose::part(job.book, job.index, parts, &parts.pages, p, true);
    let source = export::pdf(job, &part)?;
    let (bytes, pages) = impose::impose_with(
        &job.fonts,
        source,
        part.pages().len(),
        sheet,
        imposition,
        export::options(job)?,
        export::today(job.info),
    )?;
    Ok(Pdf {
        path: booklet_path(job.book, out_dir, p),
        bytes,
        pages,
    })
}
