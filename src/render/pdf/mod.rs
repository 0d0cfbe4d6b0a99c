//! PDF renderer: model → Typst markup (layout template from `layouts/typst/`)
//! → compiled in-process with the Typst compiler → PDF via typst-pdf.
//! One combined book and one standalone booklet per part.

mod coverage;
mod markup;
pub mod math;
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use std::num::NonZeroUsize;
use typst::WorldExt;
use typst::diag::{Severity as TypstSeverity, SourceDiagnostic};

use typst::ecow::eco_format;
use typst::foundations::{Datetime, NativeElement, Smart};
use typst::introspection::{PagedPosition, Tag};
use typst::layout::{Abs, Frame, FrameItem, Point};
use typst::model::{Destination, Document as _, FootnoteEntry, LinkMarker};
use typst_layout::{Page, PagedDocument};
use typst_pdf::{PdfOptions as TypstPdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::model::{Book, ModuleRef, Pos};
use crate::render::BuildInfo;
use crate::render::booklet::{self, BookletOptions, Sheet};
use crate::render::layouts::Layouts;
use markup::{Doc, Gen, Generated, PageMap, Settings, XREF};
pub use world::Fonts;
use world::{ImageStore, QuireWorld, doc_source, main_source};

pub static DEFAULT_LAYOUTS: &[(&str, &str)] = &[(
    "typst/quire.typ",
    include_str!("../../../layouts/typst/quire.typ"),
)];

/// The Typst markup of the book's documents (front matter, each part, the
/// indexes) one after the other, for inspection and fuzzing (no compile).
pub fn markup(book: &Book, paper: Paper) -> String {
    let fallback = BTreeSet::new();
    let no_breaks = BTreeSet::new();
    let pages = PageMap::default();
    let settings = Settings {
        paper: paper.key(),
        print: true,
        open: Open::MODULES,
        part_open: Open::PARTS,
        math_fallback: &fallback,
        note_breaks: &no_breaks,
        pages: &pages,
    };
    let mut out = Gen::new(book, &settings)
        .front_document("2000-01-01", "Quire")
        .text;
    for p in 0..book.parts.len() {
        out.push_str(&Gen::new(book, &settings).opener_document(p).text);
    }
    for (r, _) in book.modules() {
        out.push_str(&Gen::new(book, &settings).module_document(r).text);
    }
    out.push_str(&Gen::new(book, &settings).back_document().text);
    out
}

/// A publisher's font folders: `fonts/` next to the content folder, or inside it.
pub fn font_dirs(content: &Path) -> Vec<PathBuf> {
    let parent = content.parent().map(Path::to_path_buf).unwrap_or_default();
    vec![parent.join("fonts"), content.join("fonts")]
}

pub use crate::model::print::{Open, Paper};

impl Paper {
    fn key(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
            Paper::A5 => "a5",
            Paper::SixByNine => "sixbynine",
            Paper::HalfLetter => "halfletter",
        }
    }

    /// Booklets: the half-size page and the landscape sheet two of them fill.
    pub fn booklet(self) -> (Paper, Sheet) {
        match self {
            Paper::Letter | Paper::HalfLetter => (Paper::HalfLetter, Sheet::LETTER),
            Paper::A4 | Paper::A5 | Paper::SixByNine => (Paper::A5, Sheet::A4),
        }
    }
}

/// The settings a PDF is laid out with (a command line's over a book's `[pdf]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PdfOptions {
    pub paper: Paper,
    /// Where each module opens.
    pub open: Open,
    /// Where each part's opening pages, and the indexes, open.
    pub part_open: Open,
}

impl Default for PdfOptions {
    fn default() -> Self {
        Self {
            paper: Paper::default(),
            open: Open::MODULES,
            part_open: Open::PARTS,
        }
    }
}

/// Which PDF: the combined book, or one part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Book,
    Part(usize),
    /// A part imposed for saddle-stitch printing.
    Booklet(usize),
}

/// One rendered PDF.
pub struct Pdf {
    pub scope: Scope,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub pages: usize,
}

/// Typst sources kept between compiles, by paper and document, edited in
/// place: Typst reparses only the edited part of a source it has seen, so
/// spans of the unchanged text stay the same and its memoised layout is reused.
#[derive(Default)]
struct Sources(Mutex<BTreeMap<String, typst::syntax::Source>>);

impl Sources {
    /// The source at `path`, `text` now.
    fn source(&self, paper: &str, path: &str, text: String) -> typst::syntax::Source {
        let mut sources = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match sources.entry(format!("{paper}{path}")) {
            std::collections::btree_map::Entry::Occupied(mut e) => {
                e.get_mut().replace(&text);
                e.get().clone()
            }
            std::collections::btree_map::Entry::Vacant(e) => e
                .insert(typst::syntax::Source::new(world::file_id(path), text))
                .clone(),
        }
    }
}

/// What a long-running process (`quire watch`) keeps between builds: the
/// fonts, loaded once, and the sources of every document (with Typst's
/// caches, kept too, only what an edit touched is laid out again).
pub struct Session {
    fonts: Arc<Fonts>,
    sources: Arc<Sources>,
    /// Per part PDF: a hash of its pages and their PDF, so an unchanged part
    /// is not exported again.
    exported: Mutex<BTreeMap<PathBuf, (u128, Vec<u8>)>>,
}

impl Session {
    pub fn new(content: &Path) -> Self {
        Self {
            fonts: Arc::new(Fonts::load(&font_dirs(content))),
            sources: Arc::default(),
            exported: Mutex::default(),
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session")
    }
}

/// One laid-out document and the markup it came from.
struct Laid {
    doc: PagedDocument,
    generated: Generated,
    /// Typst's warnings (the markup's own are in `generated`).
    warnings: Vec<Diagnostic>,
}

/// The whole book laid out, document by document, ready for export.
pub struct Layout {
    front: Laid,
    /// Each part's opening pages.
    openers: Vec<Laid>,
    /// Each part's modules, one document each (running heads and footers
    /// grafted on from `numbers`).
    parts: Vec<Vec<Laid>>,
    /// Each part's own tag index (its PDF only).
    part_indexes: Vec<Laid>,
    back: Laid,
    /// The running heads and footers of the modules' pages, page n at index n - 1.
    numbers: Laid,
    /// See [`verso_shift`].
    verso_shift: Abs,
    pages: PageMap,
    /// Each part's pages, running heads and footers grafted on (see
    /// `Renderer::part_pages`).
    assembled: Vec<Vec<Page>>,
    /// Text no font can draw (see `coverage`).
    coverage: Vec<Diagnostic>,
}

impl Layout {
    /// Warnings of every document (Markdown file and line).
    pub fn warnings(&self) -> Vec<Diagnostic> {
        [&self.front, &self.back, &self.numbers]
            .into_iter()
            .chain(self.openers.iter())
            .chain(self.parts.iter().flatten())
            .chain(self.part_indexes.iter())
            .flat_map(|l| l.generated.warnings.iter().chain(&l.warnings).cloned())
            .chain(self.coverage.iter().cloned())
            .collect()
    }
}

/// Everything shared by the compiles of one build: fonts and images load once.
pub struct Renderer<'a> {
    book: &'a Book,
    opts: PdfOptions,
    info: BuildInfo,
    fonts: Arc<Fonts>,
    images: ImageStore,
    template: String,
    sources: Arc<Sources>,
    /// Watch mode: Typst's layout caches are kept between compiles instead of
    /// being freed as soon as the book is laid out.
    session: Option<Arc<Session>>,
}

impl<'a> Renderer<'a> {
    pub fn new(
        book: &'a Book,
        opts: &PdfOptions,
        info: &BuildInfo,
        session: Option<&Arc<Session>>,
    ) -> Result<Self> {
        let layouts = Layouts::new(&book.root, DEFAULT_LAYOUTS);
        let template = layouts.get("typst/quire.typ")?.into_owned();
        let fonts = match session {
            Some(s) => s.fonts.clone(),
            None => Fonts::shared(&font_dirs(&book.root)),
        };
        Ok(Self {
            book,
            opts: *opts,
            info: info.clone(),
            fonts,
            images: ImageStore::new(book),
            template,
            sources: session.map(|s| s.sources.clone()).unwrap_or_default(),
            session: session.cloned(),
        })
    }

    /// Output path of a target.
    pub fn path(&self, out_dir: &Path, scope: Scope) -> PathBuf {
        match scope {
            Scope::Book => out_dir.join(format!("{}.pdf", self.book.meta.slug)),
            Scope::Part(p) => {
                let part = &self.book.parts[p];
                out_dir
                    .join("pdf")
                    .join(format!("{:02}-{}.pdf", part.number, part.slug))
            }
            Scope::Booklet(p) => {
                let part = &self.book.parts[p];
                out_dir
                    .join("booklets")
                    .join(format!("{:02}-{}-booklet.pdf", part.number, part.slug))
            }
        }
    }

    /// Typesets every part (in parallel), then the indexes and the front
    /// matter. Nothing is exported yet; the warnings are known.
    pub fn typeset(&self) -> Result<Layout> {
        let mut layout = self.layout()?;
        layout.coverage = coverage::missing_glyphs(self.book, &self.fonts);
        if self.session.is_none() {
            // The layout caches are only useful to a later compile; free them
            // before export so peak memory is the layout's, not layout + export.
            comemo::evict(0);
            trim_heap();
        }
        Ok(layout)
    }

    /// The PDFs of these targets (exported in parallel): a part's own
    /// document, or the book composed of all of them.
    pub fn export_pdfs(
        &self,
        layout: &Layout,
        scopes: &[Scope],
        out_dir: &Path,
    ) -> Result<Vec<Pdf>> {
        scopes
            .par_iter()
            .map(|&scope| {
                let path = self.path(out_dir, scope);
                let (bytes, pages) = match scope {
                    Scope::Part(p) | Scope::Booklet(p) => {
                        let part = self.part_document(layout, p);
                        (self.export_cached(&path, &part)?, part.pages().len())
                    }
                    Scope::Book => {
                        let book = self.compose(layout);
                        (self.export(&book)?, book.pages().len())
                    }
                };
                Ok(Pdf {
                    scope,
                    path,
                    bytes,
                    pages,
                })
            })
            .collect()
    }

    /// Booklets of the given parts (all when `None`): the parts are laid out
    /// at this renderer's (half-size) paper, each becomes a PDF, and that PDF
    /// is imposed onto `sheet`s.
    pub fn render_booklets(
        &self,
        parts: Option<&[usize]>,
        sheet: Sheet,
        opts: &BookletOptions,
        out_dir: &Path,
    ) -> Result<Vec<Pdf>> {
        let layout = self.layout_parts()?;
        if self.session.is_none() {
            comemo::evict(0);
            trim_heap();
        }
        let wanted: Vec<usize> = match parts {
            Some(list) => list.to_vec(),
            None => (0..self.book.parts.len()).collect(),
        };
        wanted
            .into_par_iter()
            .map(|p| {
                let part = self.part_document(&layout, p);
                let source = self.export(&part)?;
                let (bytes, pages) = impose_with(
                    &self.fonts,
                    source,
                    part.pages().len(),
                    sheet,
                    opts,
                    self.pdf_options()?,
                    self.today(),
                )?;
                Ok(Pdf {
                    scope: Scope::Booklet(p),
                    path: self.path(out_dir, Scope::Booklet(p)),
                    bytes,
                    pages,
                })
            })
            .collect()
    }

    /// Lays out the whole book: the parts, then the indexes (they list the
    /// parts' pages), then the front matter (its contents list both).
    fn layout(&self) -> Result<Layout> {
        let mut layout = self.layout_parts()?;
        let mut fallback = BTreeSet::new();
        layout.back = self.typeset_doc(Doc::Back, &layout.pages, &mut fallback)?;
        let start = layout.pages.start(Doc::Back);
        add_labels(&mut layout.pages, &layout.back.doc, start);
        layout.front = self.typeset_doc(Doc::Front, &layout.pages, &mut fallback)?;
        Ok(layout)
    }

    /// Lays out every part as documents of their own, in parallel: its
    /// modules, which depend on nothing else (their running heads and
    /// footers come later, and either side of the sheet will do, see
    /// [`mirror`]), and its opening pages. Then, with every page number
    /// known, the opening pages again (their contents give page numbers, and
    /// they know their side; same length), the running heads and footers and
    /// each part's own index.
    fn layout_parts(&self) -> Result<Layout> {
        let n = self.book.parts.len();
        let mut docs: Vec<Doc> = (0..n).map(Doc::Opener).collect();
        docs.extend(self.book.modules().map(|(r, _)| Doc::Module(r)));
        // The longest documents first, so two workers finish at about the same time.
        docs.sort_by_key(|d| match d {
            Doc::Module(r) => std::cmp::Reverse(self.book.module(*r).words),
            _ => std::cmp::Reverse(0),
        });
        let mut pages = PageMap::default();
        let mut first = self.typeset_all(&docs, &pages)?;
        let mut openers: Vec<Laid> = (0..n)
            .map(|p| take(&mut first, Doc::Opener(p)))
            .collect::<Result<_>>()?;
        let parts: Vec<Vec<Laid>> = self
            .book
            .parts
            .iter()
            .enumerate()
            .map(|(p, part)| {
                (0..part.modules.len())
                    .map(|m| take(&mut first, Doc::Module(ModuleRef { part: p, module: m })))
                    .collect::<Result<Vec<Laid>>>()
            })
            .collect::<Result<_>>()?;
        if self.session.is_none() {
            // Nothing laid out so far is laid out again: free the caches.
            comemo::evict(0);
            trim_heap();
        }
        let mut later: Vec<Doc> = (0..n).map(Doc::Opener).collect();
        later.push(Doc::Numbers);
        later.extend((0..n).map(Doc::PartIndex));
        // An opening page's contents only change numbers in a fixed column,
        // so its length stays; if it did not, the numbering is redone.
        for _ in 0..3 {
            pages = page_map(&openers, &parts, &self.opts);
            let mut done = self.typeset_all(&later, &pages)?;
            let again: Vec<Laid> = (0..n)
                .map(|p| take(&mut done, Doc::Opener(p)))
                .collect::<Result<_>>()?;
            let settled = again
                .iter()
                .zip(&openers)
                .all(|(a, b)| a.doc.pages().len() == b.doc.pages().len());
            openers = again;
            if settled {
                let numbers = take(&mut done, Doc::Numbers)?;
                let part_indexes = (0..n)
                    .map(|p| take(&mut done, Doc::PartIndex(p)))
                    .collect::<Result<Vec<Laid>>>()?;
                pages = page_map(&openers, &parts, &self.opts);
                let mut layout = Layout {
                    front: Laid::empty(),
                    openers,
                    parts,
                    part_indexes,
                    back: Laid::empty(),
                    verso_shift: verso_shift(&numbers.doc),
                    numbers,
                    pages,
                    assembled: Vec::new(),
                    coverage: Vec::new(),
                };
                layout.assembled = (0..n).map(|p| self.part_pages(&layout, p)).collect();
                return Ok(layout);
            }
        }
        Err(Error::Internal("part openers did not settle".into()))
    }

    /// Lays out these documents in parallel: (document key, layout).
    fn typeset_all(&self, docs: &[Doc], pages: &PageMap) -> Result<BTreeMap<String, Laid>> {
        docs.par_iter()
            .map(|&d| {
                self.typeset_doc(d, pages, &mut BTreeSet::new())
                    .map(|l| (d.key(), l))
            })
            .collect()
    }

    /// Generates and lays out one document. Math Typst rejects is retried as
    /// source text; other errors are final. A module whose footnote lands on
    /// another page than its reference is laid out again with a page break
    /// before the reference's block (see `Gen::note_breaks`).
    fn typeset_doc(
        &self,
        doc: Doc,
        pages: &PageMap,
        fallback: &mut BTreeSet<(PathBuf, u32, u32)>,
    ) -> Result<Laid> {
        let mut note_breaks = BTreeSet::new();
        for attempt in 0..6 {
            let settings = Settings {
                paper: self.opts.paper.key(),
                print: true,
                open: self.opts.open,
                part_open: self.opts.part_open,
                math_fallback: fallback,
                note_breaks: &note_breaks,
                pages,
            };
            let generator = Gen::new(self.book, &settings);
            let generated = match doc {
                Doc::Front => generator.front_document(
                    &self.info.date(),
                    &format!("Quire {}", self.info.quire_version),
                ),
                Doc::Module(r) => generator.module_document(r),
                Doc::Opener(p) => generator.opener_document(p),
                Doc::Back => generator.back_document(),
                Doc::PartIndex(p) => generator.part_index_document(p),
                Doc::Numbers => generator.numbers_document(),
            };
            match self.compile(doc, &generated) {
                Ok((laid, warnings)) => {
                    let misplaced: Vec<String> = match doc {
                        Doc::Module(_) => misplaced_notes(&laid),
                        _ => Vec::new(),
                    };
                    let before = note_breaks.len();
                    note_breaks.extend(misplaced);
                    // Each attempt adds a break; what one more cannot fix is kept.
                    if note_breaks.len() > before && attempt < 5 {
                        continue;
                    }
                    return Ok(Laid {
                        doc: laid,
                        generated,
                        warnings,
                    });
                }
                Err(Failure::Math(spots)) if spots.iter().any(|s| !fallback.contains(s)) => {
                    fallback.extend(spots);
                }
                Err(Failure::Math(_)) => break,
                Err(Failure::Other(e)) => return Err(e),
            }
        }
        Err(Error::Internal("math fallback did not converge".into()))
    }

    /// A part's pages as in the book, from its opening page to its last
    /// module's last page: its opening pages, then each module from where
    /// the [`Plan`] starts it (blank pages fill the gaps), running heads and
    /// footers grafted on. A module's document is laid out as if it started
    /// on a right-hand page; on the other side of the sheet its pages are
    /// moved sideways ([`mirror`]). Assembled once per layout; the book and
    /// the part PDF both start from them.
    fn part_pages(&self, layout: &Layout, p: usize) -> Vec<Page> {
        let first = layout.pages.start(Doc::Opener(p));
        let mut pages: Vec<Page> = layout.openers[p].doc.pages().to_vec();
        let furniture = layout.numbers.doc.pages();
        for (m, laid) in layout.parts[p].iter().enumerate() {
            let start = layout
                .pages
                .start(Doc::Module(ModuleRef { part: p, module: m }));
            fill_to(&mut pages, (start - first) as usize);
            for (i, page) in laid.doc.pages().iter().enumerate() {
                let mut page = page.clone();
                let number = start + i as u64;
                page.number = number;
                page.frame
                    .translate(Point::with_x(mirror(i, number, layout.verso_shift)));
                if let Some(f) = usize::try_from(number - 1)
                    .ok()
                    .and_then(|n| furniture.get(n))
                {
                    page.frame.push_frame(Point::zero(), f.frame.clone());
                }
                pages.push(page);
            }
        }
        pages
    }

    /// A part's documents in page order: each with the page index (in the
    /// part's pages) it starts at and the page number it starts on.
    fn part_docs<'l>(
        &self,
        layout: &'l Layout,
        p: usize,
    ) -> Vec<(Doc, &'l PagedDocument, usize, u64)> {
        let first = layout.pages.start(Doc::Opener(p));
        let docs = std::iter::once((Doc::Opener(p), &layout.openers[p])).chain(
            layout.parts[p]
                .iter()
                .enumerate()
                .map(move |(m, l)| (Doc::Module(ModuleRef { part: p, module: m }), l)),
        );
        docs.map(|(doc, laid)| {
            let start = layout.pages.start(doc);
            (doc, &laid.doc, (start - first) as usize, start)
        })
        .collect()
    }

    /// Places a part's documents whose pages start after `offset` pages of a PDF.
    fn place_part(&self, placement: &mut Placement, layout: &Layout, p: usize, offset: usize) {
        for (doc, laid, at, start) in self.part_docs(layout, p) {
            let shift = layout.verso_shift;
            let sideways = |i: usize| match doc {
                Doc::Module(_) => mirror(i, start + i as u64, shift),
                _ => Abs::zero(),
            };
            placement.place(Some(doc.key()), laid, offset + at, sideways);
        }
    }

    /// The book: front matter (an even number of pages, so the body starts
    /// on a right-hand page), parts and indexes, each where the [`Plan`]
    /// starts it, with links between them resolved.
    fn compose(&self, layout: &Layout) -> PagedDocument {
        let mut pages: Vec<Page> = layout.front.doc.pages().to_vec();
        pad_even(&mut pages);
        // Body page n is at index body + n - 1.
        let body = pages.len();
        let mut placement = Placement::default();
        placement.place(Some(Doc::Front.key()), &layout.front.doc, 0, unmoved);
        for (p, part) in layout.assembled.iter().enumerate() {
            let at = body + (layout.pages.start(Doc::Opener(p)) - 1) as usize;
            fill_to(&mut pages, at);
            self.place_part(&mut placement, layout, p, at);
            pages.extend(part.iter().cloned());
        }
        let back = body + (layout.pages.start(Doc::Back) - 1) as usize;
        fill_to(&mut pages, back);
        placement.place(Some(Doc::Back.key()), &layout.back.doc, back, unmoved);
        pages.extend(layout.back.doc.pages().iter().cloned());
        placement.link(&mut pages, &layout.pages);
        PagedDocument::new(pages.into_iter().collect(), layout.front.doc.info().clone())
    }

    /// A part as a document of its own: its pages (as in the book) and its
    /// own tag index; links within them resolved, links to other parts
    /// dropped (their text says where to look). A part that opens on a
    /// left-hand page (`part-open = "any"`) keeps its sides for duplex
    /// printing: a blank right-hand page comes first.
    fn part_document(&self, layout: &Layout, p: usize) -> PagedDocument {
        let part = &self.book.parts[p];
        let mut info = layout.openers[p].doc.info().clone();
        info.title = Some(
            format!(
                "{}: Part {}, {}",
                self.book.meta.title, part.number, part.title
            )
            .into(),
        );
        let first = layout.pages.start(Doc::Opener(p));
        let own = &layout.assembled[p];
        let mut pages: Vec<Page> = Vec::with_capacity(own.len() + 1);
        if first.is_multiple_of(2)
            && let Some(opening) = own.first()
        {
            pages.push(blank(opening, first - 1));
        }
        let lead = pages.len();
        pages.extend(own.iter().cloned());
        let mut placement = Placement::default();
        self.place_part(&mut placement, layout, p, lead);
        let end = layout.pages.ends.get(p).copied().unwrap_or(first);
        fill_to(&mut pages, lead + end.saturating_sub(first) as usize);
        // A part whose modules have no tags and mention none has no index:
        // not an empty page under its heading.
        if markup::part_has_index(self.book, p) {
            let index = &layout.part_indexes[p].doc;
            placement.place(None, index, pages.len(), unmoved);
            pages.extend(index.pages().iter().cloned());
        }
        placement.link(&mut pages, &layout.pages);
        PagedDocument::new(pages.into_iter().collect(), info)
    }

    fn today(&self) -> Datetime {
        let (y, m, d, h, mi, s) = crate::render::time::parts(self.info.epoch);
        Datetime::from_ymd_hms(y as i32, m as u8, d as u8, h as u8, mi as u8, s as u8)
            .unwrap_or_else(|| Datetime::from_ymd(2000, 1, 1).expect("valid date"))
    }

    fn compile(
        &self,
        doc: Doc,
        generated: &Generated,
    ) -> std::result::Result<(PagedDocument, Vec<Diagnostic>), Failure> {
        let key = doc.key();
        let paper = self.opts.paper.key();
        let template_path = format!("/{key}/quire.typ");
        let templates = [(template_path.as_str(), self.template.clone())];
        let world = if let Doc::Module(_) = doc {
            // A module's markup is included by a small main file (see
            // `Generated::main_file`), and kept as an edited source.
            let body =
                self.sources
                    .source(paper, &format!("/{key}/body.typ"), generated.text.clone());
            let main = doc_source(&key, generated.main_file.clone());
            QuireWorld::new(&self.fonts, &self.images, main, &templates, self.today())
                .with_generated(body)
        } else {
            let main = self
                .sources
                .source(paper, &format!("/{key}.typ"), generated.text.clone());
            QuireWorld::new(&self.fonts, &self.images, main, &templates, self.today())
        };
        let warned = typst::compile::<PagedDocument>(&world);
        let warnings: Vec<Diagnostic> = warned
            .warnings
            .iter()
            .filter_map(|w| self.locate(&world, generated, w).map(|(d, _)| d))
            .collect();
        let doc = warned
            .output
            .map_err(|errors| self.failure(&world, generated, &errors))?;
        Ok((doc, warnings))
    }

    /// Exports a part PDF, or (watch) reuses the last export of the same pages.
    fn export_cached(&self, path: &Path, doc: &PagedDocument) -> Result<Vec<u8>> {
        let Some(session) = &self.session else {
            return self.export(doc);
        };
        let hash = typst::utils::hash128(doc.pages());
        let lock = || session.exported.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((h, bytes)) = lock().get(path)
            && *h == hash
        {
            return Ok(bytes.clone());
        }
        let bytes = self.export(doc)?;
        lock().insert(path.to_path_buf(), (hash, bytes.clone()));
        Ok(bytes)
    }

    /// A laid-out document as PDF bytes: tagged, PDF/UA-1 when it qualifies.
    fn export(&self, doc: &PagedDocument) -> Result<Vec<u8>> {
        let mut options = TypstPdfOptions {
            standards: standards(&[PdfStandard::Ua_1])?,
            ..self.pdf_options()?
        };
        match typst_pdf::pdf(doc, &options) {
            Ok(b) => Ok(b),
            // PDF/UA-1 is strict; if some content can't meet it, a tagged PDF
            // without the claim is still accessible and honest.
            Err(_) => {
                options.standards = standards(&[])?;
                typst_pdf::pdf(doc, &options).map_err(|e| typst_error("pdf export", &e))
            }
        }
    }

    /// Export settings shared by every PDF: identifier, creator, fixed date.
    fn pdf_options(&self) -> Result<TypstPdfOptions> {
        Ok(TypstPdfOptions {
            ident: Smart::Custom(format!(
                "{}#{}",
                self.book.meta.identifier, self.book.meta.slug
            )),
            creator: Smart::Custom(Some(format!("Quire {}", self.info.quire_version))),
            timestamp: Some(Timestamp::new_utc(self.today())),
            standards: standards(&[])?,
            ..TypstPdfOptions::default()
        })
    }

    /// A Typst diagnostic as a Markdown diagnostic, when it points into generated text.
    fn locate(
        &self,
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
                    file: self.book.root.join("layouts/typst/quire.typ"),
                    pos: Pos { line: 1, col: 1 },
                    message: format!("typesetting (layout): {}", d.message),
                },
                false,
            )),
            // Layout warnings that can't be tied to the book are not the author's to fix.
            None => None,
        }
    }

    fn failure(
        &self,
        world: &QuireWorld<'_>,
        generated: &Generated,
        errors: &[SourceDiagnostic],
    ) -> Failure {
        let located: Vec<(Diagnostic, bool)> = errors
            .iter()
            .filter_map(|e| self.locate(world, generated, e))
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
}

/// Imposes a finished PDF of `pages` half-size pages onto `sheet`s: (PDF, sides).
pub fn impose(
    pdf: Vec<u8>,
    pages: usize,
    sheet: Sheet,
    opts: &BookletOptions,
) -> Result<(Vec<u8>, usize)> {
    let epoch = Datetime::from_ymd(2000, 1, 1).expect("valid date");
    let options = TypstPdfOptions {
        timestamp: Some(Timestamp::new_utc(epoch)),
        ..TypstPdfOptions::default()
    };
    impose_with(&Fonts::shared(&[]), pdf, pages, sheet, opts, options, epoch)
}

fn impose_with(
    fonts: &Fonts,
    pdf: Vec<u8>,
    pages: usize,
    sheet: Sheet,
    opts: &BookletOptions,
    options: TypstPdfOptions,
    today: Datetime,
) -> Result<(Vec<u8>, usize)> {
    let images = ImageStore::empty();
    let world = QuireWorld::new(
        fonts,
        &images,
        main_source(booklet::markup(pages, sheet, opts)),
        &[],
        today,
    )
    .with_file("/part.pdf", pdf);
    let imposed = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| typst_error("imposition", &e))?;
    // A print artefact: pages of another PDF, no structure of its own to tag.
    let options = TypstPdfOptions {
        tagged: false,
        ..options
    };
    let bytes =
        typst_pdf::pdf(&imposed, &options).map_err(|e| typst_error("booklet export", &e))?;
    Ok((bytes, imposed.pages().len()))
}

/// Typesets standalone Typst markup with Quire's fonts (test documents,
/// numbered pages for imposition checks): (PDF, pages).
pub fn typeset_markup(markup: &str) -> Result<(Vec<u8>, usize)> {
    let fonts = Fonts::shared(&[]);
    let images = ImageStore::empty();
    let epoch = Datetime::from_ymd(2000, 1, 1).expect("valid date");
    let world = QuireWorld::new(&fonts, &images, main_source(markup.to_string()), &[], epoch);
    let doc = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| typst_error("typesetting", &e))?;
    let options = TypstPdfOptions {
        timestamp: Some(Timestamp::new_utc(epoch)),
        ..TypstPdfOptions::default()
    };
    let bytes = typst_pdf::pdf(&doc, &options).map_err(|e| typst_error("pdf export", &e))?;
    Ok((bytes, doc.pages().len()))
}

/// Hands freed heap pages back to the OS (glibc keeps them otherwise, and
/// the export would add its peak on top of the layout's).
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; no pointers are touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn standards(list: &[PdfStandard]) -> Result<PdfStandards> {
    PdfStandards::new(list).map_err(|e| Error::Internal(format!("pdf standards: {}", e.message())))
}

/// A Typst failure in generated (not book) markup: a bug, reported as such.
fn typst_error(what: &str, errors: &[SourceDiagnostic]) -> Error {
    let first = errors.first().map(|e| e.message.to_string());
    Error::Internal(format!("{what}: {}", first.unwrap_or_default()))
}

enum Failure {
    Math(Vec<(PathBuf, u32, u32)>),
    Other(Error),
}

impl Laid {
    fn empty() -> Self {
        Laid {
            doc: PagedDocument::new(Default::default(), Default::default()),
            generated: Generated::default(),
            warnings: Vec::new(),
        }
    }
}

/// The footnotes (label names) whose entry is not on the page of their
/// reference.
fn misplaced_notes(doc: &PagedDocument) -> Vec<String> {
    let introspector = doc.introspector();
    let page = |loc: Option<typst::introspection::Location>| {
        loc.and_then(|l| introspector.position(l)).map(|p| p.page)
    };
    introspector
        .elements()
        .query(&FootnoteEntry::ELEM.select())
        .iter()
        .filter_map(|elem| {
            let entry = elem.to_packed::<FootnoteEntry>()?;
            let note = &entry.note;
            let (at, from) = (page(elem.location())?, page(note.location())?);
            (at != from).then(|| note.label().map(|l| l.resolve().as_str().to_string()))?
        })
        .collect()
}

/// Every labelled place of a document (index mention markers aside): name
/// and position.
fn labelled(doc: &PagedDocument) -> Vec<(String, PagedPosition)> {
    let introspector = doc.introspector();
    introspector
        .elements()
        .query_labelled()
        .iter()
        .filter_map(|elem| {
            let name = elem.label()?.resolve().as_str().to_string();
            if name.starts_with(markup::MENTION) {
                return None;
            }
            Some((name, introspector.position(elem.location()?)?))
        })
        .collect()
}

/// Where the documents of the book's body start (page numbers, the body
/// numbered from 1 on a right-hand page), from their page counts: a document
/// that opens on the right starts on the next odd number, a blank page
/// before it when needed; one that opens anywhere starts on the next page.
#[derive(Debug, Clone, PartialEq, Default)]
struct Plan {
    /// Per part: where its opening pages start, then each of its modules.
    starts: Vec<Vec<u64>>,
    /// Per part: the number after its last page (where its PDF's own index starts).
    ends: Vec<u64>,
    /// Where the back matter (the indexes) starts.
    back: u64,
}

/// The first page number a document opening `open` can take at `next` or later.
fn open_at(next: u64, open: Open) -> u64 {
    match open {
        Open::Right if next.is_multiple_of(2) => next + 1,
        _ => next,
    }
}

impl Plan {
    /// `parts`: each part's opening page count and its modules' page counts.
    fn new(parts: &[(usize, Vec<usize>)], open: Open, part_open: Open) -> Plan {
        let mut plan = Plan::default();
        let mut next = 1u64;
        for (opener, modules) in parts {
            next = open_at(next, part_open);
            let mut starts = vec![next];
            next += *opener as u64;
            for len in modules {
                next = open_at(next, open);
                starts.push(next);
                next += *len as u64;
            }
            plan.starts.push(starts);
            plan.ends.push(open_at(next, part_open));
        }
        plan.back = open_at(next, part_open);
        plan
    }
}

/// Page numbers of the laid-out parts: where each document starts (see
/// [`Plan`]), where every label is, and where each tag is mentioned.
fn page_map(openers: &[Laid], parts: &[Vec<Laid>], opts: &PdfOptions) -> PageMap {
    let counts: Vec<(usize, Vec<usize>)> = openers
        .iter()
        .zip(parts)
        .map(|(o, ms)| {
            let modules = ms.iter().map(|m| m.doc.pages().len()).collect();
            (o.doc.pages().len(), modules)
        })
        .collect();
    let plan = Plan::new(&counts, opts.open, opts.part_open);
    let mut map = PageMap::default();
    for (p, (opener, modules)) in openers.iter().zip(parts).enumerate() {
        let docs = std::iter::once((Doc::Opener(p), opener)).chain(
            modules
                .iter()
                .enumerate()
                .map(move |(m, l)| (Doc::Module(ModuleRef { part: p, module: m }), l)),
        );
        for ((doc, laid), &start) in docs.zip(&plan.starts[p]) {
            let doc_pages = &laid.doc;
            map.starts.insert(doc.key(), start);
            if let Doc::Module(r) = doc {
                map.modules.push((r, start, doc_pages.pages().len() as u64));
            }
            add_labels(&mut map, doc_pages, start);
            let introspector = doc_pages.introspector();
            for elem in introspector.elements().query_labelled().iter() {
                let Some(label) = elem.label() else { continue };
                let name = label.resolve();
                let Some(key) = name.as_str().strip_prefix(markup::MENTION) else {
                    continue;
                };
                let Some(pos) = elem.location().and_then(|l| introspector.position(l)) else {
                    continue;
                };
                let page = pos.page.get() - 1;
                map.mentions.entry(key.to_string()).or_default().push((
                    format!("{XREF}at/{}/{page}/{:.1}", doc.key(), pos.point.y.to_pt()),
                    start + page as u64,
                ));
            }
        }
    }
    map.ends = plan.ends.clone();
    map.body_pages = plan.back - 1;
    map.starts.insert(Doc::Back.key(), plan.back);
    map
}

/// One document out of a batch laid out by `Renderer::typeset_all`.
fn take(laid: &mut BTreeMap<String, Laid>, doc: Doc) -> Result<Laid> {
    laid.remove(&doc.key())
        .ok_or_else(|| Error::Internal(format!("{} was not laid out", doc.key())))
}

/// A position moved `offset` pages on.
fn shift(pos: PagedPosition, offset: usize) -> PagedPosition {
    PagedPosition {
        page: pos.page.saturating_add(offset),
        point: pos.point,
    }
}

/// Adds a document's labels to the map, its first page numbered `start`.
fn add_labels(map: &mut PageMap, doc: &PagedDocument, start: u64) {
    for (name, pos) in labelled(doc) {
        map.labels.insert(name, start + pos.page.get() as u64 - 1);
    }
}

/// A mention's position, "PAGE/Y" (page index in its part, y in pt), in a
/// PDF where that part starts after `offset` pages.
fn at_position(at: &str, offset: usize) -> Option<PagedPosition> {
    let (page, y) = at.split_once('/')?;
    Some(PagedPosition {
        page: NonZeroUsize::new(offset + page.parse::<usize>().ok()? + 1)?,
        point: Point::new(Abs::zero(), Abs::pt(y.parse().ok()?)),
    })
}

/// The page number an xref target shows: a label's, or a mention's
/// ("at/DOC/PAGE/Y": the document's first page number plus the page index).
fn pages_number(pages: &PageMap, target: &str) -> Option<u64> {
    match target.strip_prefix("at/") {
        Some(at) => {
            let mut it = at.split('/');
            let doc = it.next()?;
            let page: u64 = it.next()?.parse().ok()?;
            Some(pages.starts.get(doc)? + page)
        }
        None => pages.labels.get(target).copied(),
    }
}

/// Makes the page count even with a blank page, so what follows starts on a
/// right-hand page.
fn pad_even(pages: &mut Vec<Page>) {
    fill_to(pages, pages.len().next_multiple_of(2));
}

/// Blank pages after the last until there are `len`.
fn fill_to(pages: &mut Vec<Page>, len: usize) {
    while pages.len() < len {
        let Some(last) = pages.last() else { return };
        let page = blank(last, last.number + 1);
        pages.push(page);
    }
}

/// A blank page the size of `like`, numbered `number`.
fn blank(like: &Page, number: u64) -> Page {
    Page {
        frame: Frame::hard(like.frame.size()),
        number,
        ..like.clone()
    }
}

/// How far page `i` (from 0) of a module's document, laid out as if the
/// document started on a right-hand page, moves sideways to sit on page
/// `number` of the book: not at all when both are on the same side of the
/// sheet, otherwise by `shift` (the outside margin minus the inside one,
/// see [`verso_shift`]) or back. Inside and outside margins add up to the
/// same on both sides, so the text area keeps its width and nothing else
/// changes: the module is laid out once, wherever it lands.
fn mirror(i: usize, number: u64, shift: Abs) -> Abs {
    match (i.is_multiple_of(2), !number.is_multiple_of(2)) {
        (true, false) => shift,
        (false, true) => -shift,
        _ => Abs::zero(),
    }
}

/// Pages of a document that stays where it was laid out (see [`mirror`]).
fn unmoved(_page: usize) -> Abs {
    Abs::zero()
}

/// Where a left-hand page's text area starts minus where a right-hand
/// page's does, as the numbers document (laid out with the book's template
/// and paper) marks them on its first two pages.
fn verso_shift(numbers: &PagedDocument) -> Abs {
    let marks = labelled(numbers);
    let x = |name: &str| {
        marks
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, pos)| pos.point.x)
    };
    match (x(markup::RECTO_ORIGIN), x(markup::VERSO_ORIGIN)) {
        (Some(recto), Some(verso)) => verso - recto,
        _ => Abs::zero(),
    }
}

/// Where the documents of one PDF sit in it: each document's first page (by
/// [`Doc::key`], for mentions) and every label, so that an [`XREF`] target
/// resolves to a position in this PDF, or to nothing when it is elsewhere.
#[derive(Default)]
struct Placement {
    offsets: BTreeMap<String, usize>,
    targets: BTreeMap<String, PagedPosition>,
}

impl Placement {
    /// `doc`'s pages come after `offset` pages of the PDF, its page `i`
    /// (from 0) moved `sideways(i)` (see [`mirror`]).
    fn place(
        &mut self,
        key: Option<String>,
        doc: &PagedDocument,
        offset: usize,
        sideways: impl Fn(usize) -> Abs,
    ) {
        for (name, mut pos) in labelled(doc) {
            pos.point.x += sideways(pos.page.get() - 1);
            self.targets.insert(name, shift(pos, offset));
        }
        if let Some(key) = key {
            self.offsets.insert(key, offset);
        }
    }

    /// A label, or a mention "at/DOC/PAGE/Y", in this PDF.
    fn resolve(&self, target: &str) -> Option<PagedPosition> {
        match target.strip_prefix("at/") {
            Some(at) => {
                let (key, rest) = at.split_once('/')?;
                at_position(rest, *self.offsets.get(key)?)
            }
            None => self.targets.get(target).copied(),
        }
    }

    /// Points the [`XREF`] links of these pages at their positions here (or
    /// drops those that lead out of this PDF) and names the page they go to.
    fn link(&self, pages: &mut [Page], numbers: &PageMap) {
        for page in pages {
            rewrite_xrefs(&mut page.frame, self, numbers);
        }
    }
}

/// Rewrites the links of a frame whose destination is an [`XREF`] string
/// (see [`Placement::link`]). Frames without such links are left alone (and
/// stay shared with the document they came from).
fn rewrite_xrefs(frame: &mut Frame, placement: &Placement, numbers: &PageMap) {
    if !has_xref(frame) {
        return;
    }
    frame.retain(|item| match item {
        FrameItem::Group(group) => {
            rewrite_xrefs(&mut group.frame, placement, numbers);
            true
        }
        FrameItem::Link(Destination::Url(url), _) if url.starts_with(XREF) => {
            match placement.resolve(&url[XREF.len()..]) {
                Some(pos) => {
                    if let FrameItem::Link(d, _) = item {
                        *d = Destination::Position(pos);
                    }
                    true
                }
                None => false,
            }
        }
        FrameItem::Tag(Tag::Start(content, _)) => {
            if let Some(marker) = content.to_packed_mut::<LinkMarker>()
                && let Some(alt) = &marker.alt
                && let Some(target) = alt.strip_prefix(XREF)
            {
                marker.alt = Some(match pages_number(numbers, target) {
                    Some(n) => eco_format!("Page {n}"),
                    None => "Elsewhere in the book".into(),
                });
            }
            true
        }
        _ => true,
    });
}

fn has_xref(frame: &Frame) -> bool {
    frame.items().any(|(_, item)| match item {
        FrameItem::Group(group) => has_xref(&group.frame),
        FrameItem::Link(Destination::Url(url), _) => url.starts_with(XREF),
        FrameItem::Tag(Tag::Start(content, _)) => content
            .to_packed::<LinkMarker>()
            .and_then(|m| m.alt.as_ref())
            .is_some_and(|alt| alt.starts_with(XREF)),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two parts: openings of 1 and 2 pages; modules of 1, 3, 1 and 2 pages.
    fn counts() -> Vec<(usize, Vec<usize>)> {
        vec![(1, vec![1, 3, 1]), (2, vec![2])]
    }

    #[test]
    fn everything_opens_on_the_right_by_default() {
        let plan = Plan::new(&counts(), Open::Right, Open::Right);
        assert_eq!(plan.starts, vec![vec![1, 3, 5, 9], vec![11, 13]]);
        assert_eq!(plan.ends, vec![11, 15]);
        assert_eq!(plan.back, 15);
    }

    #[test]
    fn open_any_runs_on_without_blank_pages() {
        let plan = Plan::new(&counts(), Open::Any, Open::Any);
        assert_eq!(plan.starts, vec![vec![1, 2, 3, 6], vec![7, 9]]);
        assert_eq!(plan.ends, vec![7, 11]);
        assert_eq!(plan.back, 11);
    }

    #[test]
    fn modules_run_on_while_parts_and_indexes_open_on_the_right() {
        let plan = Plan::new(&counts(), Open::Any, Open::Right);
        assert_eq!(plan.starts, vec![vec![1, 2, 3, 6], vec![7, 9]]);
        assert_eq!(plan.ends, vec![7, 11]);
        let plan = Plan::new(&[(1, vec![1, 1]), (1, vec![1])], Open::Any, Open::Right);
        assert_eq!(plan.starts, vec![vec![1, 2, 3], vec![5, 6]]);
        assert_eq!(plan.ends, vec![5, 7]);
        assert_eq!(plan.back, 7);
    }

    #[test]
    fn pages_move_only_when_they_change_side() {
        let shift = Abs::pt(-17.0);
        // Laid out from a right-hand page, starting on page 4 (left-hand).
        assert_eq!(mirror(0, 4, shift), shift);
        assert_eq!(mirror(1, 5, shift), -shift);
        // Starting on page 3: nothing moves.
        assert_eq!(mirror(0, 3, shift), Abs::zero());
        assert_eq!(mirror(1, 4, shift), Abs::zero());
    }
}
