//! Laying the book out: every part's documents in parallel, then, in rounds
//! until the page numbers settle, what prints page numbers (the parts'
//! opening pages, running heads and footers, the indexes, the front matter).
//! One document at a time: its markup generated, compiled, and generated
//! again while Typst rejects some of its math (shown as TeX source) or puts
//! a footnote on another page than its reference (a page break before it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use typst::foundations::{Datetime, NativeElement};
use typst::model::FootnoteEntry;
use typst_layout::PagedDocument;

mod stream;

use super::diagnostics::{self, Failure};
use super::doc::{Doc, PageMap};
use super::laid::{Laid, Layout, Parts};
use super::markup::{self, Generated, Settings};
use super::pagemap;
use super::session::Sources;
use super::world::{Fonts, ImageStore, QuireWorld, doc_source};
use super::{Job, PdfOptions, Release, compose, export};
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::model::{Book, Index, ModuleRef};
use crate::render::BuildInfo;
use crate::render::layouts::Layouts;

/// What every compile of one job shares: fonts and images load once.
pub(super) struct Context<'a> {
    book: &'a Book,
    index: &'a Index,
    opts: PdfOptions,
    info: &'a BuildInfo,
    fonts: Arc<Fonts>,
    images: ImageStore,
    template: String,
    sources: Arc<Sources>,
    release: &'a (dyn Fn(Release) + Sync),
}

impl<'a> Context<'a> {
    pub(super) fn new(job: &Job<'a>) -> Result<Self> {
        let layouts = Layouts::new(&job.book.root, super::DEFAULT_LAYOUTS);
        let template = layouts.get("typst/quire.typ")?.into_owned();
        Ok(Self {
            book: job.book,
            index: job.index,
            opts: job.options,
            info: job.info,
            fonts: job.fonts.clone(),
            images: ImageStore::new(job.book),
            template,
            sources: job.session.map(|s| s.sources.clone()).unwrap_or_default(),
            release: job.release,
        })
    }

    fn today(&self) -> Datetime {
        export::today(self.info)
    }

    /// Lays out the whole book: the parts, then the indexes (they list the
    /// parts' pages), then the front matter (its contents list both).
    /// `streamed`: document by document, each exported as it is done (see
    /// `stream`), not held laid out.
    pub(super) fn book_layout(&self, streamed: bool) -> Result<Layout> {
        let (parts, modules, more_warnings) = if streamed {
            self.streamed_parts()?
        } else {
            (self.parts()?, Vec::new(), Vec::new())
        };
        // Each document's memoised layout serves no other (see `typeset_all`).
        (self.release)(Release::All);
        let mut pages = parts.pages.clone();
        let mut fallback = BTreeSet::new();
        // A book without tags or difficulties has no indexes: no back matter.
        let back = markup::has_back_matter(self.index)
            .then(|| self.typeset_doc(Doc::Back, &pages, &mut fallback))
            .transpose()?;
        if let Some(back) = &back {
            let start = pages.start(Doc::Back);
            pagemap::add_labels(&mut pages, &back.labels, start);
        }
        (self.release)(Release::All);
        let front = self.typeset_doc(Doc::Front, &pages, &mut fallback)?;
        let mut layout = Layout {
            parts,
            pages,
            front,
            back,
            coverage: super::coverage::missing_glyphs(self.book, &self.fonts),
            chunks: None,
            more_warnings,
        };
        if streamed {
            let chunks =
                self.chunks(&layout.parts, modules, &layout.front, layout.back.as_ref())?;
            layout.chunks = Some(chunks);
            // Every page is in the chunks now.
            let parts = &mut layout.parts;
            let docs = parts.openers.iter_mut().chain(parts.indexes.iter_mut());
            docs.chain([&mut layout.front])
                .chain(layout.back.as_mut())
                .for_each(Laid::forget_pages);
            (self.release)(Release::All);
        }
        Ok(layout)
    }

    /// Lays out every part as documents of their own, in parallel: its
    /// modules, which depend on nothing else (their running heads and
    /// footers come later, and either side of the sheet will do, see
    /// [`compose::mirror`]), and its opening pages. Then, with every page
    /// number known, the opening pages again (their contents give page
    /// numbers, and they know their side; same length), the running heads
    /// and footers and each part's own index.
    pub(super) fn parts(&self) -> Result<Parts> {
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
        let modules: Vec<Vec<Laid>> = self
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
        // Nothing laid out so far is laid out again.
        (self.release)(Release::All);
        let mut later: Vec<Doc> = (0..n).map(Doc::Opener).collect();
        later.push(Doc::Numbers);
        later.extend((0..n).map(Doc::PartIndex));
        // An opening page's contents only change numbers in a fixed column,
        // so its length stays; if it did not, the numbering is redone.
        for _ in 0..3 {
            pages = pagemap::page_map(&openers, &modules, &self.opts);
            let (again, settled, mut done) = self.openers_again(&openers, &later, &pages)?;
            openers = again;
            if settled {
                let numbers = take(&mut done, Doc::Numbers)?;
                let indexes = (0..n)
                    .map(|p| take(&mut done, Doc::PartIndex(p)))
                    .collect::<Result<Vec<Laid>>>()?;
                let pages = pagemap::page_map(&openers, &modules, &self.opts);
                let verso_shift = pagemap::verso_shift(&numbers.labels);
                let assembled = (0..n)
                    .map(|p| {
                        compose::part_pages(&openers, &modules, &numbers, verso_shift, &pages, p)
                    })
                    .collect();
                // The assembled pages are copies (moved sideways, furniture
                // grafted on): the modules' own go.
                let mut modules = modules;
                modules.iter_mut().flatten().for_each(Laid::forget_pages);
                return Ok(Parts {
                    openers,
                    modules,
                    indexes,
                    numbers,
                    verso_shift,
                    pages,
                    assembled,
                });
            }
        }
        Err(Error::Internal("part openers did not settle".into()))
    }

    /// The parts' opening pages laid out again, their page numbers known
    /// (`pages`), with the other documents of `docs`: the openings, whether
    /// each kept its length, and the others.
    fn openers_again(
        &self,
        openers: &[Laid],
        docs: &[Doc],
        pages: &PageMap,
    ) -> Result<(Vec<Laid>, bool, BTreeMap<String, Laid>)> {
        let mut done = self.typeset_all(docs, pages)?;
        let again: Vec<Laid> = (0..openers.len())
            .map(|p| take(&mut done, Doc::Opener(p)))
            .collect::<Result<_>>()?;
        let settled = again.iter().zip(openers).all(|(a, b)| a.pages == b.pages);
        Ok((again, settled, done))
    }

    /// Lays out these documents in parallel: (document key, layout).
    fn typeset_all(&self, docs: &[Doc], pages: &PageMap) -> Result<BTreeMap<String, Laid>> {
        docs.par_iter()
            .map(|&d| {
                let laid = self.typeset_doc(d, pages, &mut BTreeSet::new());
                // What this document's compile memoised serves no other
                // document (each has its own files): it goes once no compile
                // used it while as many documents finished as there are
                // workers, so the cache holds a few documents', not the
                // book's, and what a compile under way uses stays.
                (self.release)(Release::Unused(rayon::current_num_threads()));
                laid.map(|l| (d.key(), l))
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
                paper: crate::model::paper::Profile::of(self.opts.paper),
                open: self.opts.open,
                part_open: self.opts.part_open,
                math_fallback: fallback,
                note_breaks: &note_breaks,
                pages,
                index: self.index,
            };
            let generated = markup::generate(
                self.book,
                &settings,
                doc,
                &self.info.date(),
                &format!("Quire {}", self.info.quire_version),
            );
            match self.compile(doc, &generated) {
                Ok((laid, warnings, starts)) => {
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
                    let mut generated = generated;
                    generated.page_starts = starts;
                    let (labels, mentions) = pagemap::labelled(&laid);
                    return Ok(Laid {
                        labels,
                        pages: laid.pages().len(),
                        mentions,
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

    /// One document through Typst: its layout and Typst's warnings, or why
    /// it failed (see [`Failure`]).
    fn compile(
        &self,
        doc: Doc,
        generated: &Generated,
    ) -> std::result::Result<(PagedDocument, Vec<Diagnostic>, PageStarts), Failure> {
        let kind = doc;
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
        let root = &self.book.root;
        let warnings: Vec<Diagnostic> = warned
            .warnings
            .iter()
            .filter_map(|w| diagnostics::locate(root, &world, generated, w).map(|(d, _)| d))
            .collect();
        let doc = warned
            .output
            .map_err(|errors| diagnostics::failure(root, &world, generated, &errors))?;
        // Where each page begins in the book's text (the EPUB's print page numbers).
        let starts = match kind {
            Doc::Module(_) | Doc::Opener(_) | Doc::Front | Doc::Back => {
                let ranges = typst::World::source(&world, world.generated_id())
                    .map(|s| super::pagestart::span_ranges(&s))
                    .unwrap_or_default();
                let range = |span| {
                    (ranges.get(&span).cloned()).or_else(|| typst::WorldExt::range(&world, span))
                };
                // The titles a page of a list can begin at.
                let book = self.book;
                let entries: Vec<&str> = match kind {
                    Doc::Opener(p) => book.parts[p]
                        .modules
                        .iter()
                        .map(|m| m.title.as_str())
                        .collect(),
                    Doc::Front => book.modules().map(|(_, m)| m.title.as_str()).collect(),
                    Doc::Back => self
                        .index
                        .tags
                        .values()
                        .map(|t| t.name.as_str())
                        .chain(book.modules().map(|(_, m)| m.title.as_str()))
                        .collect(),
                    _ => Vec::new(),
                };
                super::pagestart::page_starts(
                    &doc,
                    world.generated_id(),
                    &range,
                    generated,
                    &entries,
                )
            }
            _ => Vec::new(),
        };
        Ok((doc, warnings, starts))
    }
}

/// Per page of a document, where its text begins (see `pagestart`).
type PageStarts = Vec<Option<super::pagestart::PageStart>>;

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

/// One document out of a batch laid out by `Context::typeset_all`.
fn take(laid: &mut BTreeMap<String, Laid>, doc: Doc) -> Result<Laid> {
    laid.remove(&doc.key())
        .ok_or_else(|| Error::Internal(format!("{} was not laid out", doc.key())))
}
