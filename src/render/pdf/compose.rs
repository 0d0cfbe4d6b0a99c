//! The book and part PDFs, composed of the laid-out documents' pages: each
//! document where the page map starts it, blank pages between, a module's
//! pages moved to their side of the sheet, running heads and footers
//! grafted on, and links between documents (an [`XRef`] destination)
//! pointed at their place in this PDF, or dropped when it is not in it.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use typst::introspection::{PagedPosition, Tag};
use typst::layout::{Abs, Frame, FrameItem, Point};
use typst::model::{Destination, Document as _, LinkMarker};
use typst_layout::{Page, PagedDocument};

use super::Scope;
use super::doc::{Doc, PageMap, XRef};
use super::export::{Link, Pieces};
use super::laid::{Chunk, Chunks, Laid, Layout, Parts};
use super::markup;
use crate::model::{Book, Index, ModuleRef};

/// A part's pages as in the book, from its opening page to its last
/// module's last page: its opening pages, then each module from where
/// the page map starts it (blank pages fill the gaps), running heads and
/// footers grafted on. A module's document is laid out as if it started
/// on a right-hand page; on the other side of the sheet its pages are
/// moved sideways ([`mirror`]). Assembled once per layout; the book and
/// the part PDF both start from them.
pub(super) fn part_pages(
    openers: &[Laid],
    modules: &[Vec<Laid>],
    numbers: &Laid,
    verso_shift: Abs,
    pages_map: &PageMap,
    p: usize,
) -> Vec<Page> {
    let first = pages_map.start(Doc::Opener(p));
    let mut pages: Vec<Page> = openers[p].doc.pages().to_vec();
    let furniture = numbers.doc.pages();
    let furniture = |number: u64| {
        let n = usize::try_from(number - 1).ok()?;
        furniture.get(n).map(|f| &f.frame)
    };
    for (m, laid) in modules[p].iter().enumerate() {
        let start = pages_map.start(Doc::Module(ModuleRef { part: p, module: m }));
        fill_to(&mut pages, (start - first) as usize);
        pages.extend(module_pages(laid, start, verso_shift, furniture));
    }
    pages
}

/// A module's pages as in the book, its first numbered `start`: each moved
/// to its side of the sheet ([`mirror`]), its running head and footer
/// (`furniture(number)`) grafted on.
pub(super) fn module_pages<'a>(
    laid: &'a Laid,
    start: u64,
    verso_shift: Abs,
    furniture: impl Fn(u64) -> Option<&'a Frame> + 'a,
) -> impl Iterator<Item = Page> + 'a {
    laid.doc.pages().iter().enumerate().map(move |(i, page)| {
        let mut page = page.clone();
        let number = start + i as u64;
        page.number = number;
        page.frame
            .translate(Point::with_x(mirror(i, number, verso_shift)));
        if let Some(f) = furniture(number) {
            page.frame.push_frame(Point::zero(), f.clone());
        }
        page
    })
}

/// A part's documents in page order: each with the page index (in the
/// part's pages) it starts at and the page number it starts on.
fn part_docs<'l>(parts: &'l Parts, pages: &PageMap, p: usize) -> Vec<(Doc, &'l Laid, usize, u64)> {
    let first = pages.start(Doc::Opener(p));
    let docs = std::iter::once((Doc::Opener(p), &parts.openers[p])).chain(
        parts.modules[p]
            .iter()
            .enumerate()
            .map(move |(m, l)| (Doc::Module(ModuleRef { part: p, module: m }), l)),
    );
    docs.map(|(doc, laid)| {
        let start = pages.start(doc);
        (doc, laid, (start - first) as usize, start)
    })
    .collect()
}

/// Places a part's documents whose pages start after `offset` pages of a PDF.
fn place_part(placement: &mut Placement, parts: &Parts, pages: &PageMap, p: usize, offset: usize) {
    for (doc, laid, at, start) in part_docs(parts, pages, p) {
        let shift = parts.verso_shift;
        let sideways = |i: usize| match doc {
            Doc::Module(_) => mirror(i, start + i as u64, shift),
            _ => Abs::zero(),
        };
        placement.place(Some(doc), &laid.labels, offset + at, sideways);
    }
}

/// The book: front matter (printed `duplex`, an even number of pages, so
/// the body starts on a right-hand page), parts and indexes, each where
/// the page map starts it, with links between them resolved.
pub(super) fn book(layout: &Layout, duplex: bool) -> PagedDocument {
    let numbers = &layout.pages;
    let mut pages: Vec<Page> = layout.front.doc.pages().to_vec();
    if duplex {
        pad_even(&mut pages);
    }
    // Body page n is at index body + n - 1.
    let body = pages.len();
    let mut placement = Placement::default();
    placement.place(Some(Doc::Front), &layout.front.labels, 0, unmoved);
    for (p, part) in layout.parts.assembled.iter().enumerate() {
        let at = body + (numbers.start(Doc::Opener(p)) - 1) as usize;
        fill_to(&mut pages, at);
        place_part(&mut placement, &layout.parts, numbers, p, at);
        pages.extend(part.iter().cloned());
    }
    if let Some(laid) = &layout.back {
        let back = body + (numbers.start(Doc::Back) - 1) as usize;
        fill_to(&mut pages, back);
        placement.place(Some(Doc::Back), &laid.labels, back, unmoved);
        pages.extend(laid.doc.pages().iter().cloned());
    }
    placement.link(&mut pages, numbers);
    PagedDocument::new(pages.into_iter().collect(), layout.front.doc.info().clone())
}

/// A part as a document of its own: its pages (as in the book) and its
/// own tag index; links within them resolved, links to other parts
/// dropped (their text says where to look). A part that opens on a
/// left-hand page (`part-open = "any"`) keeps its sides for duplex
/// printing: a blank right-hand page comes first (not on a screen, not
/// `duplex`). `numbers`: the page map its links' page numbers come from.
pub(super) fn part(
    book: &Book,
    index: &Index,
    parts: &Parts,
    numbers: &PageMap,
    p: usize,
    duplex: bool,
) -> PagedDocument {
    let part = &book.parts[p];
    let mut info = parts.openers[p].doc.info().clone();
    info.title = Some(format!("{}: Part {}, {}", book.meta.title, part.number, part.title).into());
    let first = numbers.start(Doc::Opener(p));
    let own = &parts.assembled[p];
    let mut pages: Vec<Page> = Vec::with_capacity(own.len() + 1);
    if duplex
        && first.is_multiple_of(2)
        && let Some(opening) = own.first()
    {
        pages.push(blank(opening, first - 1));
    }
    let lead = pages.len();
    pages.extend(own.iter().cloned());
    let mut placement = Placement::default();
    place_part(&mut placement, parts, numbers, p, lead);
    let end = numbers.ends.get(p).copied().unwrap_or(first);
    fill_to(&mut pages, lead + end.saturating_sub(first) as usize);
    // A part whose modules have no tags and mention none has no index:
    // not an empty page under its heading.
    if markup::part_has_index(index, p) {
        let index = &parts.indexes[p];
        placement.place(None, &index.labels, pages.len(), unmoved);
        pages.extend(index.doc.pages().iter().cloned());
    }
    placement.link(&mut pages, numbers);
    PagedDocument::new(pages.into_iter().collect(), info)
}

/// A streamed book's PDF (`scope`) as the chunks it is merged from, in
/// page order, as [`book`] and [`part`] compose the pages: the same
/// documents where the page map starts them, cross-references resolved
/// (or dropped) and named the same way.
pub(super) fn pieces<'a>(
    index: &Index,
    layout: &'a Layout,
    chunks: &'a Chunks,
    scope: Scope,
) -> Pieces<'a> {
    let numbers = &layout.pages;
    let parts = &layout.parts;
    let mut placement = Placement::default();
    let mut pieces: Vec<&Chunk> = Vec::new();
    let len = |pieces: &[&Chunk]| pieces.iter().map(|c| c.heights.len()).sum::<usize>();
    let meta = match scope {
        Scope::Book => {
            pieces.push(&chunks.front);
            placement.place(Some(Doc::Front), &layout.front.labels, 0, unmoved);
            let body = len(&pieces);
            for (p, opener) in chunks.openers.iter().enumerate() {
                let at = body + (numbers.start(Doc::Opener(p)) - 1) as usize;
                place_part(&mut placement, parts, numbers, p, at);
                pieces.push(opener);
                pieces.extend(&chunks.modules[p]);
            }
            if let (Some(laid), Some(chunk)) = (&layout.back, &chunks.back) {
                let at = body + (numbers.start(Doc::Back) - 1) as usize;
                placement.place(Some(Doc::Back), &laid.labels, at, unmoved);
                pieces.push(chunk);
            }
            0
        }
        Scope::Part(p) => {
            pieces.extend(&chunks.leads[p]);
            let meta = pieces.len();
            place_part(&mut placement, parts, numbers, p, len(&pieces));
            pieces.push(&chunks.openers[p]);
            pieces.extend(&chunks.modules[p]);
            if markup::part_has_index(index, p)
                && let Some(chunk) = &chunks.indexes[p]
            {
                placement.place(None, &parts.indexes[p].labels, len(&pieces), unmoved);
                pieces.push(chunk);
            }
            meta
        }
    };
    let link = move |uri: &str| {
        if !XRef::is(uri) {
            return Link::Keep;
        }
        match XRef::decode(uri).and_then(|x| placement.resolve(&x)) {
            Some(pos) => Link::To {
                page: pos.page.get() - 1,
                x: pos.point.x.to_pt(),
                y: pos.point.y.to_pt(),
            },
            None => Link::Drop,
        }
    };
    let text = move |s: &str| XRef::is(s).then(|| alt_text(numbers, s));
    Pieces {
        pieces,
        meta,
        link: Box::new(link),
        text: Box::new(text),
    }
}

/// What a link to a cross-reference says it leads to.
fn alt_text(numbers: &PageMap, xref: &str) -> String {
    match XRef::decode(xref).and_then(|x| page_number(numbers, &x)) {
        Some(n) => format!("Page {n}"),
        None => "Elsewhere in the book".into(),
    }
}

/// A position moved `offset` pages on.
fn shift(pos: PagedPosition, offset: usize) -> PagedPosition {
    PagedPosition {
        page: pos.page.saturating_add(offset),
        point: pos.point,
    }
}

/// The page number a cross-reference shows: a label's, or a mention's
/// (its document's first page number plus the page index).
fn page_number(pages: &PageMap, target: &XRef) -> Option<u64> {
    match target {
        XRef::At { doc, page, .. } => Some(pages.starts.get(&doc.key())? + *page as u64),
        XRef::Label(name) => pages.labels.get(name).copied(),
    }
}

/// Makes the page count even with a blank page, so what follows starts on a
/// right-hand page.
fn pad_even(pages: &mut Vec<Page>) {
    fill_to(pages, pages.len().next_multiple_of(2));
}

/// Blank pages after the last until there are `len`.
pub(super) fn fill_to(pages: &mut Vec<Page>, len: usize) {
    while pages.len() < len {
        let Some(last) = pages.last() else { return };
        let page = blank(last, last.number + 1);
        pages.push(page);
    }
}

/// A blank page the size of `like`, numbered `number`.
pub(super) fn blank(like: &Page, number: u64) -> Page {
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
/// see [`super::pagemap::verso_shift`]) or back. Inside and outside margins
/// add up to the same on both sides, so the text area keeps its width and
/// nothing else changes: the module is laid out once, wherever it lands.
pub(super) fn mirror(i: usize, number: u64, shift: Abs) -> Abs {
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

/// Where the documents of one PDF sit in it: each document's first page
/// (for mentions) and every label, so that a cross-reference resolves to a
/// position in this PDF, or to nothing when it is elsewhere.
#[derive(Default)]
struct Placement {
    offsets: BTreeMap<Doc, usize>,
    targets: BTreeMap<String, PagedPosition>,
}

impl Placement {
    /// `doc`'s pages come after `offset` pages of the PDF, its page `i`
    /// (from 0) moved `sideways(i)` (see [`mirror`]).
    fn place(
        &mut self,
        key: Option<Doc>,
        labels: &[(String, PagedPosition)],
        offset: usize,
        sideways: impl Fn(usize) -> Abs,
    ) {
        for (name, pos) in labels {
            let mut pos = *pos;
            pos.point.x += sideways(pos.page.get() - 1);
            self.targets.insert(name.clone(), shift(pos, offset));
        }
        if let Some(key) = key {
            self.offsets.insert(key, offset);
        }
    }

    /// Where a cross-reference points in this PDF.
    fn resolve(&self, target: &XRef) -> Option<PagedPosition> {
        match target {
            XRef::At { doc, page, y } => Some(PagedPosition {
                page: NonZeroUsize::new(self.offsets.get(doc)? + page + 1)?,
                point: Point::new(Abs::zero(), Abs::pt(*y)),
            }),
            XRef::Label(name) => self.targets.get(name).copied(),
        }
    }

    /// Points the cross-reference links of these pages at their positions
    /// here (or drops those that lead out of this PDF) and names the page
    /// they go to.
    fn link(&self, pages: &mut [Page], numbers: &PageMap) {
        for page in pages {
            rewrite_xrefs(&mut page.frame, self, numbers);
        }
    }
}

/// Rewrites the links of a frame whose destination is a cross-reference
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
        FrameItem::Link(Destination::Url(url), _) if XRef::is(url) => {
            match XRef::decode(url).and_then(|x| placement.resolve(&x)) {
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
                && XRef::is(alt)
            {
                let new = alt_text(numbers, alt);
                marker.alt = Some(new.into());
            }
            true
        }
        _ => true,
    });
}

fn has_xref(frame: &Frame) -> bool {
    frame.items().any(|(_, item)| match item {
        FrameItem::Group(group) => has_xref(&group.frame),
        FrameItem::Link(Destination::Url(url), _) => XRef::is(url),
        FrameItem::Tag(Tag::Start(content, _)) => content
            .to_packed::<LinkMarker>()
            .and_then(|m| m.alt.as_ref())
            .is_some_and(|alt| XRef::is(alt)),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(part: usize, module: usize) -> Doc {
        Doc::Module(ModuleRef { part, module })
    }

    #[test]
    fn cross_references_resolve_where_their_document_was_placed() {
        let mut placement = Placement::default();
        // A part's opening page after 4 pages of front matter, its module after 2 more.
        placement.offsets.insert(Doc::Opener(0), 4);
        placement.offsets.insert(module(0, 0), 6);
        let at = |page: usize| PagedPosition {
            page: NonZeroUsize::new(page).expect("page"),
            point: Point::new(Abs::pt(10.0), Abs::pt(20.0)),
        };
        placement.targets.insert("m-intro".into(), at(7));
        let mention = XRef::At {
            doc: module(0, 0),
            page: 1,
            y: 300.5,
        };
        let pos = placement.resolve(&mention).expect("placed");
        assert_eq!(pos.page.get(), 8, "the module's second page");
        assert_eq!(pos.point, Point::new(Abs::zero(), Abs::pt(300.5)));
        assert_eq!(
            placement.resolve(&XRef::Label("m-intro".into())),
            Some(at(7))
        );
        // Not in this PDF (another part's module, a label it lacks): nothing.
        let elsewhere = XRef::At {
            doc: module(1, 0),
            page: 0,
            y: 0.0,
        };
        assert_eq!(placement.resolve(&elsewhere), None);
        assert_eq!(placement.resolve(&XRef::Label("m-other".into())), None);
    }

    #[test]
    fn cross_references_show_the_book_page_number() {
        let mut pages = PageMap::default();
        pages.starts.insert(module(0, 1).key(), 12);
        pages.labels.insert("tag-redis".into(), 31);
        let mention = XRef::At {
            doc: module(0, 1),
            page: 2,
            y: 0.0,
        };
        assert_eq!(page_number(&pages, &mention), Some(14));
        assert_eq!(
            page_number(&pages, &XRef::Label("tag-redis".into())),
            Some(31)
        );
        let unknown = XRef::At {
            doc: module(3, 0),
            page: 0,
            y: 0.0,
        };
        assert_eq!(page_number(&pages, &unknown), None);
    }

    #[test]
    fn blank_pages_fill_up_to_a_length_and_to_even() {
        let page = |number| Page {
            frame: Frame::hard(typst::layout::Size::new(Abs::pt(100.0), Abs::pt(200.0))),
            bleed: Default::default(),
            fill: typst::foundations::Smart::Auto,
            numbering: None,
            supplement: Default::default(),
            number,
        };
        let mut pages = vec![page(1)];
        pad_even(&mut pages);
        assert_eq!(pages.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);
        fill_to(&mut pages, 5);
        assert_eq!(pages.len(), 5);
        assert_eq!(pages[4].number, 5);
        assert_eq!(pages[4].frame.size(), pages[0].frame.size());
        assert_eq!(pages[4].frame.items().count(), 0, "blank");
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
