//! The book laid out, as data: each document's pages with the markup they
//! came from, and the page numbers they settled on. Layout makes them,
//! composition reads them.

use typst::introspection::PagedPosition;
use typst::layout::Abs;
use typst::model::Document as _;
use typst_layout::{Page, PagedDocument};

use super::doc::PageMap;
use super::markup::Generated;
use crate::diag::Diagnostic;

/// One laid-out document and the markup it came from.
pub(super) struct Laid {
    pub(super) doc: PagedDocument,
    /// Every labelled place in it (see [`super::pagemap::labelled`]): what
    /// composition reads of a document whose pages it has copied.
    pub(super) labels: Vec<(String, PagedPosition)>,
    /// Its page count, kept when the pages go.
    pub(super) pages: usize,
    /// Its index mention markers (see [`super::pagemap::mentions`]).
    pub(super) mentions: Vec<super::pagemap::Mention>,
    pub(super) generated: Generated,
    /// Typst's warnings (the markup's own are in `generated`).
    pub(super) warnings: Vec<Diagnostic>,
}

impl Laid {
    /// Frees the pages and the introspector, once the pages are copied
    /// (moved to their side of the sheet, furniture grafted on, see
    /// [`super::compose::part_pages`]): labels, markup and warnings stay.
    pub(super) fn forget_pages(&mut self) {
        self.doc = PagedDocument::new(Default::default(), self.doc.info().clone());
    }

    fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.generated.warnings.iter().chain(&self.warnings)
    }
}

/// Every part laid out, document by document, with the page numbers known:
/// what a part PDF (or a booklet) is composed of.
pub struct Parts {
    /// Each part's opening pages.
    pub(super) openers: Vec<Laid>,
    /// Each part's modules, one document each (running heads and footers
    /// grafted on from `numbers`). Their pages are in `assembled`: the
    /// documents themselves are emptied (see [`Laid::forget_pages`]).
    pub(super) modules: Vec<Vec<Laid>>,
    /// Each part's own tag index (its PDF only).
    pub(super) indexes: Vec<Laid>,
    /// The running heads and footers of the modules' pages, page n at index n - 1.
    pub(super) numbers: Laid,
    /// See [`super::pagemap::verso_shift`].
    pub(super) verso_shift: Abs,
    pub(super) pages: PageMap,
    /// Each part's pages, running heads and footers grafted on (see
    /// [`super::compose::part_pages`]).
    pub(super) assembled: Vec<Vec<Page>>,
}

impl Parts {
    /// Every document, the running heads and footers first.
    fn laid(&self) -> impl Iterator<Item = &Laid> {
        std::iter::once(&self.numbers)
            .chain(self.openers.iter())
            .chain(self.modules.iter().flatten())
            .chain(self.indexes.iter())
    }
}

/// The whole book laid out, ready for export.
pub struct Layout {
    pub(super) parts: Parts,
    /// The parts' page map with the back matter's labels too.
    pub(super) pages: PageMap,
    pub(super) front: Laid,
    /// The indexes; none when the book has neither tags nor difficulties.
    pub(super) back: Option<Laid>,
    /// Text no font can draw (see `coverage`).
    pub(super) coverage: Vec<Diagnostic>,
    /// A book exported document by document: every page is in these, the
    /// documents above keep only their labels (see [`Chunks`]).
    pub(super) chunks: Option<Chunks>,
    /// Warnings of documents not kept (a chunk's running heads).
    pub(super) more_warnings: Vec<Diagnostic>,
}

impl Layout {
    /// Warnings of every document (Markdown file and line).
    pub fn warnings(&self) -> Vec<Diagnostic> {
        std::iter::once(&self.front)
            .chain(self.back.as_ref())
            .chain(self.parts.laid())
            .flat_map(Laid::warnings)
            .chain(self.coverage.iter())
            .chain(self.more_warnings.iter())
            .cloned()
            .collect()
    }
}

/// One document's pages (or a module's, with the blank pages after it)
/// exported to a PDF of its own, for a book too large to hold laid out
/// whole: the book and part PDFs are merged from these (`export::merge`).
pub(super) struct Chunk {
    /// As typst-pdf writes it (not packed).
    pub(super) pdf: Vec<u8>,
    /// Each page's height, pt: where a link onto it lands.
    pub(super) heights: Vec<f64>,
    /// Whether it claims PDF/UA-1 (its content meets it).
    pub(super) ua: bool,
    /// Its headings, for the merged PDF's bookmarks, as typst-pdf makes them.
    pub(super) bookmarks: Vec<Bookmark>,
    /// How many empty headings it starts with, there only for typst-pdf's
    /// check of PDF/UA-1 (see `layout::stream`): the first elements of its
    /// tag tree, which the merged PDF leaves out.
    pub(super) lead: usize,
}

/// A heading of a chunk: what typst-pdf's outline is built of.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bookmark {
    pub(super) title: String,
    pub(super) level: std::num::NonZeroUsize,
    /// Bookmarked (else it only shapes the tree).
    pub(super) include: bool,
    /// Its position in the chunk.
    pub(super) at: PagedPosition,
}

/// Every document of a book too large to hold laid out whole, exported
/// (see [`Chunk`]) in page order.
pub(super) struct Chunks {
    /// Front matter (padded to an even page count when printed duplex).
    pub(super) front: Chunk,
    /// Per part: its opening pages and the blank pages up to its first module.
    pub(super) openers: Vec<Chunk>,
    /// Per part, per module: its pages and the blank pages after it.
    pub(super) modules: Vec<Vec<Chunk>>,
    /// Per part: its own tag index (its PDF only), if it has one.
    pub(super) indexes: Vec<Option<Chunk>>,
    /// Per part: the blank right-hand page its PDF opens with when it
    /// starts on a left-hand one (see `compose::part`).
    pub(super) leads: Vec<Option<Chunk>>,
    /// The indexes.
    pub(super) back: Option<Chunk>,
}
