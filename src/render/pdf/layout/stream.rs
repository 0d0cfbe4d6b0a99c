//! A book too large to hold laid out whole (see [`super::super::Assembly`]):
//! its modules are laid out in book order, a few ahead of the one being
//! exported, and each, once the pages before it are counted, is composed as
//! in the book (moved to its side of the sheet, running heads and footers
//! grafted on, the blank pages after it) and exported to a PDF of its own
//! (a [`Chunk`]); then its pages go, its labels, mentions and page starts
//! stay. The other documents follow as in a whole layout, each exported
//! too. Memory so holds a few modules' pages and the chunks' bytes, not
//! the book's pages; the book and part PDFs are merged from the chunks.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

use typst::foundations::{NativeElement, Smart, StyleChain};
use typst::introspection::{Introspector as _, Location, PagedPosition, Tag, TagFlags};
use typst::layout::{Abs, FrameItem, Point};
use typst::model::{Document as _, DocumentInfo, HeadingElem};
use typst::text::TextElem;
use typst_layout::{Page, PagedDocument};

use super::super::compose;
use super::super::doc::{Doc, PageMap};
use super::super::laid::{Bookmark, Chunk, Chunks, Laid, Parts};
use super::super::pagemap::{self, open_at};
use super::super::{Release, export};
use super::{Context, take};
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::model::ModuleRef;

/// What the modules' pass leaves: each module's layout without its pages,
/// its chunk, and the warnings of its running heads.
struct Streamed {
    modules: Vec<Vec<Laid>>,
    chunks: Vec<Vec<Chunk>>,
    warnings: Vec<Diagnostic>,
}

impl Context<'_> {
    /// [`Context::parts`], each module exported as soon as it is laid out
    /// and its start known: the parts' documents, the page map, and the
    /// modules' chunks with their running heads' warnings.
    pub(super) fn streamed_parts(&self) -> Result<(Parts, Vec<Vec<Chunk>>, Vec<Diagnostic>)> {
        let n = self.book.parts.len();
        let openers: Vec<Doc> = (0..n).map(Doc::Opener).collect();
        let mut first = self.typeset_all(&openers, &PageMap::default())?;
        let mut openers: Vec<Laid> = (0..n)
            .map(|p| take(&mut first, Doc::Opener(p)))
            .collect::<Result<_>>()?;
        // The running heads' two origin marks (see `pagemap::verso_shift`).
        let numbers = self.typeset_doc(Doc::Numbers, &PageMap::default(), &mut BTreeSet::new())?;
        let verso_shift = pagemap::verso_shift(&numbers.labels);
        (self.release)(Release::All);
        // An opening page's contents only change numbers in a fixed column,
        // so its length stays; if it did not, every module after it moved:
        // they are laid out and exported again.
        for _ in 0..3 {
            let streamed = self.stream_modules(&openers, verso_shift)?;
            let pages = pagemap::page_map(&openers, &streamed.modules, &self.opts);
            let mut later: Vec<Doc> = (0..n).map(Doc::Opener).collect();
            later.extend((0..n).map(Doc::PartIndex));
            let (again, settled, mut done) = self.openers_again(&openers, &later, &pages)?;
            openers = again;
            (self.release)(Release::All);
            if !settled {
                continue;
            }
            let indexes = (0..n)
                .map(|p| take(&mut done, Doc::PartIndex(p)))
                .collect::<Result<Vec<Laid>>>()?;
            let pages = pagemap::page_map(&openers, &streamed.modules, &self.opts);
            let parts = Parts {
                openers,
                modules: streamed.modules,
                indexes,
                numbers,
                verso_shift,
                pages,
                assembled: Vec::new(),
            };
            return Ok((parts, streamed.chunks, streamed.warnings));
        }
        Err(Error::Internal("part openers did not settle".into()))
    }

    /// Lays out every module in book order on the job's workers, at most
    /// `AHEAD` per worker past the one being exported, and exports each in
    /// turn (`opener_pages`: each part's opening page count).
    fn stream_modules(&self, openers: &[Laid], verso_shift: Abs) -> Result<Streamed> {
        let opener_pages: Vec<usize> = openers.iter().map(|o| o.pages).collect();
        // Per part, the level of the last heading so far (see `chunk`).
        let mut last_level: Vec<usize> = openers
            .iter()
            .map(|o| bookmarks(&o.doc).last().map_or(0, |b| b.level.get()))
            .collect();
        const AHEAD: usize = 2;
        let order: Vec<ModuleRef> = self.book.modules().map(|(r, _)| r).collect();
        let workers = rayon::current_num_threads().max(1);
        let window = workers * AHEAD;
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        // How many modules are exported: a worker waits while it would run
        // more than `window` ahead of it.
        let exported = (Mutex::new(0usize), Condvar::new());
        let (tx, rx) = mpsc::channel::<(usize, Result<Laid>)>();
        let counts = self.book.parts.iter().map(|p| p.modules.len()).collect();
        let mut cursor = Cursor::new(&opener_pages, counts, &self.opts);
        let mut out = Streamed {
            modules: self.book.parts.iter().map(|_| Vec::new()).collect(),
            chunks: self.book.parts.iter().map(|_| Vec::new()).collect(),
            warnings: Vec::new(),
        };
        std::thread::scope(|s| {
            for _ in 0..workers {
                let tx = tx.clone();
                let (next, stop, exported, order) = (&next, &stop, &exported, &order);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= order.len() {
                            return;
                        }
                        {
                            let (lock, ready) = exported;
                            let mut done = lock.lock().unwrap_or_else(|e| e.into_inner());
                            while i >= *done + window && !stop.load(Ordering::SeqCst) {
                                done = ready.wait(done).unwrap_or_else(|e| e.into_inner());
                            }
                        }
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let doc = Doc::Module(order[i]);
                        let laid = self.typeset_doc(doc, &PageMap::default(), &mut BTreeSet::new());
                        // See `typeset_all`.
                        (self.release)(Release::Unused(workers));
                        if tx.send((i, laid)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(tx);
            // The workers stop at the first failure (theirs or an export's).
            let result = (|| {
                let mut ready: BTreeMap<usize, Laid> = BTreeMap::new();
                let mut done = 0;
                for (i, laid) in &rx {
                    ready.insert(i, laid?);
                    while let Some(mut laid) = ready.remove(&done) {
                        let r = order[done];
                        let (start, end) = cursor.module(r, laid.pages);
                        let above = last_level[r.part];
                        let (chunk, warnings) =
                            self.module_chunk(&laid, r, start, end, verso_shift, above)?;
                        if let Some(b) = chunk.bookmarks.last() {
                            last_level[r.part] = b.level.get();
                        }
                        out.warnings.extend(warnings);
                        laid.forget_pages();
                        out.modules[r.part].push(laid);
                        out.chunks[r.part].push(chunk);
                        done += 1;
                        let (lock, cv) = &exported;
                        *lock.lock().unwrap_or_else(|e| e.into_inner()) = done;
                        cv.notify_all();
                    }
                }
                if done == order.len() {
                    Ok(())
                } else {
                    Err(Error::Internal("a module was not laid out".into()))
                }
            })();
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
                exported.1.notify_all();
            }
            drop(rx);
            result
        })?;
        Ok(out)
    }

    /// Module `r` as the book prints it from page `start`, with the blank
    /// pages after it up to page `end` (where what follows starts),
    /// exported: its running heads and footers typeset for those pages;
    /// `above`: the level of the book's last heading before it.
    fn module_chunk(
        &self,
        laid: &Laid,
        r: ModuleRef,
        start: u64,
        end: u64,
        verso_shift: Abs,
        above: usize,
    ) -> Result<(Chunk, Vec<Diagnostic>)> {
        let last = start + laid.pages as u64 - 1;
        let pages = PageMap {
            modules: vec![(r, start, laid.pages as u64)],
            ..PageMap::default()
        };
        let doc = Doc::Furniture { first: start, last };
        let furniture = self.typeset_doc(doc, &pages, &mut BTreeSet::new())?;
        (self.release)(Release::Unused(rayon::current_num_threads()));
        // Its page for number n (see `Matter::furniture_document`).
        let from = if start.is_multiple_of(2) {
            start - 1
        } else {
            start
        };
        let frames = furniture.doc.pages();
        let frame = |number: u64| {
            let i = usize::try_from(number.checked_sub(from)?).ok()?;
            frames.get(i).map(|p| &p.frame)
        };
        let mut composed: Vec<Page> =
            compose::module_pages(laid, start, verso_shift, frame).collect();
        compose::fill_to(&mut composed, (end - start) as usize);
        let part = &self.book.parts[r.part];
        let lead = format!("Part {}: {}", part.number, part.title);
        let chunk = self.chunk(composed, laid.doc.info(), true, (&lead, above))?;
        let warnings = furniture
            .warnings
            .into_iter()
            .chain(furniture.generated.warnings)
            .collect();
        Ok((chunk, warnings))
    }

    /// These pages as a PDF of their own, claiming PDF/UA-1 if `ua` and the
    /// content meets it. typst-pdf's check of PDF/UA-1 wants each heading at
    /// most one level below the one before, the first at level 1, and a
    /// module's chunk starts at its title, after the book's headings: one
    /// empty heading of each level down to the last before it (`levels`,
    /// titled `lead`) comes first, so the check is the whole book's, and
    /// the merged PDF leaves them out (see [`Chunk::lead`]).
    pub(super) fn chunk(
        &self,
        mut pages: Vec<Page>,
        info: &DocumentInfo,
        ua: bool,
        (lead, levels): (&str, usize),
    ) -> Result<Chunk> {
        if let Some(page) = pages.first_mut() {
            // Prepended last first: levels 1, 2, … in order.
            let tags = (1..=levels).flat_map(|level| lead_heading(lead, level));
            for item in tags.collect::<Vec<_>>().into_iter().rev() {
                page.frame.prepend(Point::zero(), item);
            }
        }
        let doc = PagedDocument::new(pages.into_iter().collect(), info.clone());
        let options = export::options_of(self.book, self.info)?;
        let (pdf, ua) = export::claiming(options, &doc, ua)?;
        Ok(Chunk {
            pdf,
            heights: doc
                .pages()
                .iter()
                .map(|p| p.frame.height().to_pt())
                .collect(),
            ua,
            bookmarks: bookmarks(&doc).into_iter().skip(levels).collect(),
            lead: levels,
        })
    }

    /// Every document but the modules (already exported, in `modules`) as
    /// chunks: the book's pages, in page order, and the part PDFs' own.
    pub(super) fn chunks(
        &self,
        parts: &Parts,
        modules: Vec<Vec<Chunk>>,
        front: &Laid,
        back: Option<&Laid>,
    ) -> Result<Chunks> {
        let pages = &parts.pages;
        let duplex = crate::model::paper::Profile::of(self.opts.paper).duplex;
        let n = self.book.parts.len();
        let mut indexes = Vec::with_capacity(n);
        let mut leads = Vec::with_capacity(n);
        let mut openers = Vec::with_capacity(n);
        #[allow(clippy::needless_range_loop)] // p indexes four tables
        for p in 0..n {
            let part = &self.book.parts[p];
            let title = format!("Part {}: {}", part.number, part.title);
            let index = super::super::markup::part_has_index(self.index, p)
                .then(|| {
                    let laid = &parts.indexes[p];
                    self.chunk(
                        laid.doc.pages().to_vec(),
                        laid.doc.info(),
                        true,
                        (&title, 0),
                    )
                })
                .transpose()?;
            let opener = &parts.openers[p];
            let first = pages.start(Doc::Opener(p));
            let lead = match opener.doc.pages().first() {
                Some(opening) if duplex && first.is_multiple_of(2) => {
                    let blank = compose::blank(opening, first - 1);
                    Some(self.chunk(vec![blank], opener.doc.info(), true, (&title, 0))?)
                }
                _ => None,
            };
            // Up to the first module, or the part's end when it has none.
            let end = match self.book.parts[p].modules.is_empty() {
                true => pages.ends.get(p).copied().unwrap_or(first),
                false => pages.start(Doc::Module(ModuleRef { part: p, module: 0 })),
            };
            let mut own = opener.doc.pages().to_vec();
            compose::fill_to(&mut own, end.saturating_sub(first) as usize);
            // The part PDF's title and claim are its opening's (see `export::merge`).
            let mut info = opener.doc.info().clone();
            info.title = Some(
                format!(
                    "{}: Part {}, {}",
                    self.book.meta.title, part.number, part.title
                )
                .into(),
            );
            let ua = modules[p]
                .iter()
                .chain(index.as_ref())
                .chain(lead.as_ref())
                .all(|c| c.ua);
            openers.push(self.chunk(own, &info, ua, (&title, 0))?);
            indexes.push(index);
            leads.push(lead);
        }
        let back = back
            .map(|laid| {
                self.chunk(
                    laid.doc.pages().to_vec(),
                    laid.doc.info(),
                    true,
                    (&self.book.meta.title, 0),
                )
            })
            .transpose()?;
        let mut own = front.doc.pages().to_vec();
        if duplex {
            let even = own.len().next_multiple_of(2);
            compose::fill_to(&mut own, even);
        }
        // The book's claim is the front matter's: made only if every page meets it.
        let ua = modules
            .iter()
            .flatten()
            .chain(&openers)
            .chain(back.as_ref())
            .all(|c| c.ua);
        let front = self.chunk(own, front.doc.info(), ua, (&self.book.meta.title, 0))?;
        Ok(Chunks {
            front,
            openers,
            modules,
            indexes,
            leads,
            back,
        })
    }
}

/// Where each module starts as the modules come in book order, from the
/// parts' opening page counts (see [`pagemap::Plan`], which this follows).
struct Cursor<'a> {
    openers: &'a [usize],
    /// Each part's module count.
    modules: Vec<usize>,
    opts: &'a super::super::PdfOptions,
    /// The next page number, and the part it is in (`None`: before any).
    next: u64,
    part: Option<usize>,
}

impl<'a> Cursor<'a> {
    fn new(openers: &'a [usize], modules: Vec<usize>, opts: &'a super::super::PdfOptions) -> Self {
        Self {
            openers,
            modules,
            opts,
            next: 1,
            part: None,
        }
    }

    /// Module `r` (the next one in book order), `pages` long: the page
    /// number it starts on and the one what follows it starts on.
    fn module(&mut self, r: ModuleRef, pages: usize) -> (u64, u64) {
        while self.part.is_none_or(|p| p < r.part) {
            let p = self.part.map_or(0, |p| p + 1);
            // A part without modules is its opening pages only.
            self.next = open_at(self.next, self.opts.part_open);
            self.next += self.openers.get(p).copied().unwrap_or(0) as u64;
            self.part = Some(p);
        }
        let start = open_at(self.next, self.opts.open);
        self.next = start + pages as u64;
        let last_of_part = r.module + 1 >= self.modules.get(r.part).copied().unwrap_or(0);
        let open = if last_of_part {
            self.opts.part_open
        } else {
            self.opts.open
        };
        (start, open_at(self.next, open))
    }
}

/// A heading of this level titled `title`, with nothing under it, not in
/// any outline: its start and end tags.
fn lead_heading(title: &str, level: usize) -> [FrameItem; 2] {
    let level = NonZeroUsize::new(level).unwrap_or(NonZeroUsize::MIN);
    let mut heading = HeadingElem::new(TextElem::packed(title))
        .with_level(Smart::Custom(level))
        .with_outlined(false)
        .with_bookmarked(Smart::Custom(false))
        .pack();
    let key = typst::utils::hash128(&heading);
    let location = Location::new(typst::utils::hash128(&("quire-lead-heading", title, level)));
    heading.set_location(location);
    let flags = TagFlags {
        introspectable: true,
        tagged: true,
    };
    [
        FrameItem::Tag(Tag::Start(heading, flags)),
        FrameItem::Tag(Tag::End(location, key, flags)),
    ]
}

/// The headings typst-pdf makes bookmarks of (see its `outline.rs`): title,
/// level, whether bookmarked, and where.
fn bookmarks(doc: &PagedDocument) -> Vec<Bookmark> {
    let introspector = doc.introspector();
    introspector
        .query(&HeadingElem::ELEM.select())
        .iter()
        .filter_map(|elem| {
            let heading = elem.to_packed::<HeadingElem>()?;
            let level = heading.resolve_level(StyleChain::default());
            let include = heading
                .bookmarked
                .get(StyleChain::default())
                .unwrap_or_else(|| heading.outlined.get(StyleChain::default()));
            let text = heading.body.plain_text();
            let title = match &heading.numbers {
                Some(num) => format!("{num} {text}"),
                None => text.to_string(),
            };
            let at = elem
                .location()
                .and_then(|l| introspector.position(l))
                .unwrap_or(PagedPosition::ORIGIN);
            Some(Bookmark {
                title,
                level: NonZeroUsize::new(level.get()).unwrap_or(NonZeroUsize::MIN),
                include,
                at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::print::Open;

    /// The cursor starts each module where the page map's plan does, and
    /// ends it where what follows starts, for every way of opening.
    #[test]
    fn modules_start_where_the_plan_starts_them() {
        let parts: Vec<(usize, Vec<usize>)> = vec![
            (1, vec![1, 3, 2]),
            (2, vec![]),
            (3, vec![2, 1]),
            (1, vec![4]),
        ];
        for open in [Open::Right, Open::Any] {
            for part_open in [Open::Right, Open::Any] {
                let opts = super::super::super::PdfOptions {
                    open,
                    part_open,
                    ..Default::default()
                };
                let plan = pagemap::Plan::new(&parts, open, part_open);
                let openers: Vec<usize> = parts.iter().map(|p| p.0).collect();
                let counts = parts.iter().map(|p| p.1.len()).collect();
                let mut cursor = Cursor::new(&openers, counts, &opts);
                for (p, (_, modules)) in parts.iter().enumerate() {
                    for (m, &len) in modules.iter().enumerate() {
                        let (start, end) = cursor.module(ModuleRef { part: p, module: m }, len);
                        assert_eq!(
                            start,
                            plan.starts[p][m + 1],
                            "{open:?}/{part_open:?} {p}.{m}"
                        );
                        let next = plan.starts[p].get(m + 2).copied().unwrap_or(plan.ends[p]);
                        assert_eq!(end, next, "{open:?}/{part_open:?} {p}.{m} ends");
                    }
                }
            }
        }
    }
}
