//! Links between the book's documents as a value. Each document is laid out
//! on its own, so a link into another one cannot be a Typst link: the markup
//! gives it a destination string ([`XRef::encode`], `quire:…`), and
//! composition reads it back ([`XRef::decode`]) from the laid-out frames and
//! points it at its place in the PDF being composed, or drops it when that
//! place is not in it.

use super::markup::Doc;

/// What every cross-document destination starts with (the template's
/// `xref-prefix` tells these apart from web links).
pub(super) const PREFIX: &str = "quire:";

/// A place in another document of the book.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum XRef {
    /// A label (a part, module, section, tag or index), its name without `<>`.
    Label(String),
    /// A point in a document (an index mention): the page index in it (from
    /// 0) and how far down that page, in pt (kept to a tenth).
    At { doc: Doc, page: usize, y: f64 },
}

impl XRef {
    /// The destination string the markup gives the link.
    pub(super) fn encode(&self) -> String {
        match self {
            XRef::Label(name) => format!("{PREFIX}{name}"),
            XRef::At { doc, page, y } => format!("{PREFIX}at/{}/{page}/{y:.1}", doc.key()),
        }
    }

    /// A destination string read back from a laid-out link (`None`: not a
    /// cross-reference, or a malformed one).
    pub(super) fn decode(s: &str) -> Option<XRef> {
        let rest = s.strip_prefix(PREFIX)?;
        // A label name never holds a '/' (see `literal::label_part`).
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
    pub(super) fn is(s: &str) -> bool {
        s.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModuleRef;

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
