//! Print page marks: the book PDF's page breaks placed in the EPUB's pages
//! (at a page's top, before list entries, beside the contents' minutes) and
//! the nav's page-list of the marks placed.

use std::collections::BTreeMap;

use minijinja::Value;

use super::xhtml::module_file;
use crate::model::{Book, ModuleRef};
use crate::render::pagelist::{self, Owner, PageList};

/// Print page breaks marked, by label: the page file they are on (as
/// `<file>#page-`, the label completes the link).
pub(super) type Placed = BTreeMap<String, String>;

/// Print page markers at the top of a page: before its title.
pub(super) fn with_top_marks(html: String, labels: &[String]) -> String {
    if labels.is_empty() {
        return html;
    }
    let marks: String = labels.iter().map(|l| pagelist::marker(l)).collect();
    let at = html
        .find("<h1")
        .or_else(|| {
            html.find("<body")
                .and_then(|b| html[b..].find('>').map(|e| b + e + 1))
        })
        .unwrap_or(0);
    let mut out = html;
    out.insert_str(at, &marks);
    out
}

/// Print page markers before entries of a list (a part's own contents,
/// the book's contents, the indexes), known by their titles: `find` gives
/// the markup the entry starts with and where in it the marker goes.
/// Returns the labels placed.
pub(super) fn mark_entries(
    html: &mut String,
    entries: &[(String, String)],
    mut find: impl FnMut(&str) -> Option<(String, usize)>,
) -> Vec<String> {
    let mut placed = Vec::new();
    // Entries come in page order, so each is looked for after the last
    // mark: a title that also appears earlier on the page (two modules of
    // one name, a title quoted in an overview) must not put its mark
    // before the previous page's, out of reading order.
    let mut from = 0;
    for (title, label) in entries {
        let Some((needle, offset)) = find(title) else {
            continue;
        };
        if let Some(found) = html[from..].find(&needle) {
            let at = from + found + offset;
            let marker = pagelist::marker(label);
            html.insert_str(at, &marker);
            from = at + marker.len();
            placed.push(label.clone());
        }
    }
    placed
}

/// Each module's first print page (its file → the page's label), for the
/// contents page.
pub(super) fn print_pages(book: &Book, list: &PageList) -> BTreeMap<String, String> {
    list.breaks
        .iter()
        .filter_map(|b| match (b.owner, &b.start) {
            (Owner::Module(part, module), pagelist::Start::Top) => Some((
                module_file(book, ModuleRef { part, module }),
                b.label.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// The file of the module titled `title`.
pub(super) fn module_file_titled(book: &Book, title: &str) -> Option<String> {
    book.modules()
        .find(|(_, m)| m.title == title)
        .map(|(r, _)| module_file(book, r))
}

/// The page-list: every print page marked, in page order.
pub(super) fn page_list(pages: Option<&PageList>, placed: &Placed) -> Vec<Value> {
    pages
        .map(|l| {
            l.breaks
                .iter()
                .filter_map(|b| {
                    let href = placed.get(&b.label)?;
                    Some(Value::from_pairs([
                        ("href", Value::from(format!("{href}{}", b.label))),
                        ("label", Value::from(b.label.clone())),
                    ]))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_marked_in_page_order_when_a_title_repeats() {
        let mut html = String::from("<li>Intro</li><li>Cache</li><li>Intro</li><li>Queue</li>");
        let entries = [
            ("Cache".to_string(), "2".to_string()),
            ("Intro".to_string(), "3".to_string()),
            ("Queue".to_string(), "4".to_string()),
        ];
        let placed = mark_entries(&mut html, &entries, |t| Some((format!("<li>{t}"), 0)));
        assert_eq!(placed, ["2", "3", "4"]);
        let at = |label: &str| html.find(&pagelist::marker(label)).expect(label);
        assert!(at("2") < at("3") && at("3") < at("4"), "{html}");
        // The second "Intro", after Cache's mark, not the first.
        assert!(html.starts_with("<li>Intro</li>"), "{html}");
    }
}
