//! Page numbers across documents: where each document of the book's body
//! starts ([`Plan`], from the documents' page counts), where every label
//! and every index mention lands, and how far a left-hand page's text area
//! sits from a right-hand one's.

use typst::introspection::PagedPosition;
use typst::layout::Abs;
use typst_layout::PagedDocument;

use super::PdfOptions;
use super::doc::{self, Doc, PageMap, XRef};
use super::laid::Laid;
use crate::model::ModuleRef;
use crate::model::print::Open;

/// Where the documents of the book's body start (page numbers, the body
/// numbered from 1 on a right-hand page), from their page counts: a document
/// that opens on the right starts on the next odd number, a blank page
/// before it when needed; one that opens anywhere starts on the next page.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Plan {
    /// Per part: where its opening pages start, then each of its modules.
    pub(super) starts: Vec<Vec<u64>>,
    /// Per part: the number after its last page (where its PDF's own index starts).
    pub(super) ends: Vec<u64>,
    /// Where the back matter (the indexes) starts.
    pub(super) back: u64,
}

/// The first page number a document opening `open` can take at `next` or later.
pub(super) fn open_at(next: u64, open: Open) -> u64 {
    match open {
        Open::Right if next.is_multiple_of(2) => next + 1,
        _ => next,
    }
}

impl Plan {
    /// `parts`: each part's opening page count and its modules' page counts.
    pub(super) fn new(parts: &[(usize, Vec<usize>)], open: Open, part_open: Open) -> Plan {
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
pub(super) fn page_map(openers: &[Laid], parts: &[Vec<Laid>], opts: &PdfOptions) -> PageMap {
    let counts: Vec<(usize, Vec<usize>)> = openers
        .iter()
        .zip(parts)
        .map(|(o, ms)| {
            let modules = ms.iter().map(|m| m.pages).collect();
            (o.pages, modules)
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
            map.starts.insert(doc.key(), start);
            if let Doc::Module(r) = doc {
                map.modules.push((r, start, laid.pages as u64));
            }
            add_labels(&mut map, &laid.labels, start);
            for m in &laid.mentions {
                let at = XRef::At {
                    doc,
                    page: m.page,
                    y: m.y,
                };
                map.mentions
                    .entry(m.key.clone())
                    .or_default()
                    .push((at, start + m.page as u64));
            }
        }
    }
    map.ends = plan.ends.clone();
    map.body_pages = plan.back - 1;
    map.starts.insert(Doc::Back.key(), plan.back);
    map
}

/// An index mention marker of a document: its tag key, the page index
/// (from 0) and how far down that page, in pt.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Mention {
    pub(super) key: String,
    pub(super) page: usize,
    pub(super) y: f64,
}

/// Every labelled place of a document: its labels (name and position)
/// and, apart, its index mention markers, in document order.
pub(super) fn labelled(doc: &PagedDocument) -> (Vec<(String, PagedPosition)>, Vec<Mention>) {
    let introspector = doc.introspector();
    let mut labels = Vec::new();
    let mut mentions = Vec::new();
    for elem in introspector.elements().query_labelled().iter() {
        let Some(label) = elem.label() else { continue };
        let Some(pos) = elem.location().and_then(|l| introspector.position(l)) else {
            continue;
        };
        let name = label.resolve();
        match name.as_str().strip_prefix(doc::MENTION) {
            Some(key) => mentions.push(Mention {
                key: key.to_string(),
                page: pos.page.get() - 1,
                y: pos.point.y.to_pt(),
            }),
            None => labels.push((name.as_str().to_string(), pos)),
        }
    }
    (labels, mentions)
}

/// Adds a document's labels to the map, its first page numbered `start`.
pub(super) fn add_labels(map: &mut PageMap, labels: &[(String, PagedPosition)], start: u64) {
    for (name, pos) in labels {
        map.labels
            .insert(name.clone(), start + pos.page.get() as u64 - 1);
    }
}

/// Where a left-hand page's text area starts minus where a right-hand
/// page's does, as the numbers document (laid out with the book's template
/// and paper) marks them on its first two pages (`marks`: its labels).
pub(super) fn verso_shift(marks: &[(String, PagedPosition)]) -> Abs {
    let x = |name: &str| {
        marks
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, pos)| pos.point.x)
    };
    match (x(doc::RECTO_ORIGIN), x(doc::VERSO_ORIGIN)) {
        (Some(recto), Some(verso)) => verso - recto,
        _ => Abs::zero(),
    }
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
}
