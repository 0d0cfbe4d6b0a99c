//! The book's documents and the places in them: which document ([`Doc`],
//! each typeset on its own and composed into the PDFs afterwards), a place
//! in another document ([`XRef`]: a link into it cannot be a Typst link, so
//! the markup gives it a destination string that composition reads back and
//! points at its place in the PDF, or drops when the place is not in it),
//! and the page numbers the documents settled on ([`PageMap`]).

use std::collections::BTreeMap;

use crate::model::ModuleRef;

/// The book is typeset as separate documents (front matter, one per part, back
/// matter) composed into one PDF afterwards. What one document prints about
/// another comes from the previous layout, until nothing changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageMap {
    /// Displayed page number of every labelled place (label name, no `<>`).
    pub labels: BTreeMap<String, u64>,
    /// The first page number of each document of the book, by [`Doc::key`].
    pub starts: BTreeMap<String, u64>,
    /// The page number after each part (its PDF's own index starts there).
    pub ends: Vec<u64>,
    /// The number of the modules' pages (footers to typeset).
    pub body_pages: u64,
    /// Every module: where it starts and how many pages it has.
    pub modules: Vec<(ModuleRef, u64, u64)>,
    /// Per tag key: the pages where it is mentioned, as (link target, page).
    pub mentions: BTreeMap<String, Vec<(XRef, u64)>>,
}

impl PageMap {
    /// Where a document starts (1 before anything is laid out).
    pub fn start(&self, doc: Doc) -> u64 {
        self.starts.get(&doc.key()).copied().unwrap_or(1)
    }

    pub(super) fn page(&self, label: &str) -> String {
        // Before the first layout nothing is known; a 3-digit stand-in keeps
        // the text close to its final width.
        self.labels
            .get(label)
            .map_or_else(|| "000".to_string(), u64::to_string)
    }
}

/// Labels marking where the text area of a right-hand and of a left-hand
/// page starts (the first two pages of [`Doc::Numbers`]).
pub const RECTO_ORIGIN: &str = "quire-recto-origin";
pub const VERSO_ORIGIN: &str = "quire-verso-origin";

/// The label prefix of index mention markers (`<qidx-KEY>`).
pub const MENTION: &str = "qidx-";

/// One document of the book, laid out on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Doc {
    /// Cover, title, copyright and contents.
    Front,
    /// A part's opening pages: title, summary, overview, its own contents.
    Opener(usize),
    /// One module: modules open on a right-hand page, so each is a document
    /// of its own (the finest unit of parallel work and of relayout on edit).
    Module(ModuleRef),
    /// The indexes.
    Back,
    /// A part's own tag index, at the end of its PDF (not in the book).
    PartIndex(usize),
    /// Page footers (numbers) for the modules' pages, grafted onto them.
    Numbers,
    /// The same for body pages `first..=last` only (one module's, when the
    /// book is exported module by module).
    Furniture { first: u64, last: u64 },
}

impl Doc {
    /// Each document gets its own file paths, so no two documents' elements
    /// share a span (Typst derives locations from them) and the composed book
    /// has one location per element.
    pub fn key(self) -> String {
        match self {
            Doc::Front => "front".into(),
            Doc::Opener(p) => format!("part-{:02}-opener", p + 1),
            Doc::Module(r) => format!("part-{:02}-m{:02}", r.part + 1, r.module + 1),
            Doc::Back => "back".into(),
            Doc::PartIndex(p) => format!("part-{:02}-index", p + 1),
            Doc::Numbers => "numbers".into(),
            Doc::Furniture { first, last } => format!("numbers-{first}-{last}"),
        }
    }

    /// The document of a [`Doc::key`].
    pub fn from_key(key: &str) -> Option<Doc> {
        let Some(rest) = key.strip_prefix("part-") else {
            return [Doc::Front, Doc::Back, Doc::Numbers]
                .into_iter()
                .find(|d| d.key() == key);
        };
        let (number, what) = rest.split_once('-')?;
        let part = number.parse::<usize>().ok()?.checked_sub(1)?;
        let doc = match what {
            "opener" => Doc::Opener(part),
            "index" => Doc::PartIndex(part),
            m => {
                let module = m.strip_prefix('m')?.parse::<usize>().ok()?.checked_sub(1)?;
                Doc::Module(ModuleRef { part, module })
            }
        };
        // One spelling per document ("part-1-m1" is not "part-01-m01").
        (doc.key() == key).then_some(doc)
    }

    /// The part a document belongs to.
    pub fn part(self) -> Option<usize> {
        match self {
            Doc::Opener(p) | Doc::PartIndex(p) => Some(p),
            Doc::Module(r) => Some(r.part),
            _ => None,
        }
    }
}

/// What every cross-document destination starts with (the template's
/// `xref-prefix` tells these apart from web links).
pub const PREFIX: &str = "quire:";

/// A place in another document of the book.
#[derive(Debug, Clone, PartialEq)]
pub enum XRef {
    /// A label (a part, module, section, tag or index), its name without `<>`.
    Label(String),
    /// A point in a document (an index mention): the page index in it (from
    /// 0) and how far down that page, in pt (kept to a tenth).
    At { doc: Doc, page: usize, y: f64 },
}

impl XRef {
    /// The destination string the markup gives the link.
    pub fn encode(&self) -> String {
        match self {
            XRef::Label(name) => format!("{PREFIX}{name}"),
            XRef::At { doc, page, y } => format!("{PREFIX}at/{}/{page}/{y:.1}", doc.key()),
        }
    }

    /// A destination string read back from a laid-out link (`None`: not a
    /// cross-reference, or a malformed one).
    pub fn decode(s: &str) -> Option<XRef> {
        let rest = s.strip_prefix(PREFIX)?;
        // A label name never holds a '/' (see `markup::literal::label_part`).
        let Some(at) = rest.strip_prefix("at/") else {
            return Some(XRef::Label(rest.to_string()));
        };
        let mut it = at.split('/');
        let doc = Doc::from_key(it.next()?)?;
        let page = it.next()?.parse().ok()?;
        let y = it.next()?.parse().ok()?;
        it.next().is_none().then_some(XRef::At { doc, page, y })
    }

    /// Whether a destination string is a cross-reference.
    pub fn is(s: &str) -> bool {
        s.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_references_survive_their_string_form() {
        let module = Doc::Module(ModuleRef {
            part: 2,
            module: 10,
        });
        for x in [
            XRef::Label("m-intro--capacity".into()),
            XRef::At {
                doc: module,
                page: 3,
                y: 412.5,
            },
            XRef::At {
                doc: Doc::Opener(0),
                page: 0,
                y: 0.0,
            },
        ] {
            assert_eq!(XRef::decode(&x.encode()), Some(x.clone()), "{}", x.encode());
        }
        assert_eq!(
            XRef::At {
                doc: module,
                page: 3,
                y: 412.46
            }
            .encode(),
            "quire:at/part-03-m11/3/412.5"
        );
    }

    #[test]
    fn other_strings_are_not_cross_references() {
        assert_eq!(XRef::decode("https://example.com"), None);
        assert!(!XRef::is("https://example.com"));
        assert_eq!(XRef::decode("quire:at/part-01-m01/x/3"), None);
        assert_eq!(XRef::decode("quire:at/nowhere/1/3"), None);
        assert_eq!(XRef::decode("quire:at/part-01-m01/1/3/4"), None);
    }
}
