//! Where each page of a laid-out document begins in the book's text, for the
//! EPUB's print page numbers (see `render::pagelist`). Nothing is added to
//! the markup (the PDFs stay byte for byte what they were): each glyph
//! carries the span of the string literal it was set from and its byte
//! offset in it, and the markup generator records which container and
//! character each text literal starts at ([`TextRun`]). A page begins at its
//! topmost, leftmost glyph that comes from the body text (not a footnote, not
//! a table header repeated from the page before).

use std::collections::HashMap;
use std::ops::Range;

use typst::layout::{Abs, Frame, FrameItem, Point};
use typst::syntax::{FileId, LinkedNode, Source, Span};
use typst_layout::PagedDocument;

use super::markup::Generated;
use crate::render::pagelist::{Owner, PageBreak, PageList, Start, TextPos};

/// Where a laid-out page begins: in the book's text, or (a part opening's
/// own contents) at a module's entry, by its index in the part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    Text(TextPos),
    /// The first entry of a list on the page, by its title.
    Entry(String),
}

/// Text the generator wrote from a container: `start..end` in the markup,
/// the container's ordinal and how many of its characters came before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRun {
    pub start: usize,
    pub end: usize,
    pub container: u32,
    pub chars: u32,
}

/// Every node of `source` by its span, with its byte range: one walk of
/// the tree. (Asking the source for each span walks its top level from the
/// start: quadratic in a long module, a tenth of the build at ten times the
/// curriculum.)
pub fn span_ranges(source: &Source) -> HashMap<Span, Range<usize>> {
    fn walk(node: &LinkedNode, out: &mut HashMap<Span, Range<usize>>) {
        out.entry(node.span()).or_insert_with(|| node.range());
        for child in node.children() {
            walk(&child, out);
        }
    }
    let mut out = HashMap::new();
    walk(&LinkedNode::new(source.root()), &mut out);
    out
}

/// Per page of `doc`, where its text begins (`None`: no body text on it).
/// `range` gives a span's byte range in the generated markup (`body`);
/// `entries`: the titles of a part opening's contents entries (a page with
/// no body text begins at the first of them on it).
pub fn page_starts(
    doc: &PagedDocument,
    body: FileId,
    range: &dyn Fn(Span) -> Option<Range<usize>>,
    generated: &Generated,
    entries: &[&str],
) -> Vec<Option<PageStart>> {
    let mut last: Option<TextPos> = None;
    doc.pages()
        .iter()
        .map(|page| {
            let mut found: Vec<(Abs, Abs, Range<usize>, u16)> = Vec::new();
            collect(&page.frame, Point::zero(), &mut |at, span, offset| {
                if span.id() != Some(body) {
                    return;
                }
                if let Some(r) = range(span) {
                    found.push((at.y, at.x, r, offset));
                }
            });
            found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
            let start = found
                .iter()
                .filter_map(|(_, _, r, offset)| locate(generated, r.start, *offset))
                .find(|p| p.container < generated.body_containers && last.is_none_or(|l| *p > l));
            if let Some(pos) = start {
                last = Some(pos);
                return Some(PageStart::Text(pos));
            }
            found.iter().find_map(|(_, _, r, _)| {
                let value = literal_value(generated.text.get(r.clone())?)?;
                entries
                    .contains(&value.as_str())
                    .then_some(PageStart::Entry(value))
            })
        })
        .collect()
}

/// The value of a string literal (`"…"`, escapes undone).
fn literal_value(src: &str) -> Option<String> {
    let inner = src.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        out.push(match c {
            '\\' => match it.next()? {
                'n' => '\n',
                't' => '\t',
                other => other,
            },
            c => c,
        });
    }
    Some(out)
}

/// Calls `f` with the position, span and offset of the first glyph of every
/// text item in `frame` (placed at `origin`).
fn collect(frame: &Frame, origin: Point, f: &mut dyn FnMut(Point, Span, u16)) {
    for (pos, item) in frame.items() {
        let at = origin + *pos;
        match item {
            FrameItem::Group(group) => {
                let inner = at + Point::new(group.transform.tx, group.transform.ty);
                collect(&group.frame, inner, f);
            }
            FrameItem::Text(text) => {
                let mut x = at.x;
                for g in &text.glyphs {
                    if !g.span.0.is_detached() {
                        f(Point::new(x, at.y), g.span.0, g.span.1);
                        break;
                    }
                    x += g.x_advance.at(text.size);
                }
            }
            _ => {}
        }
    }
}

/// The container and character of byte `offset` in the string literal at
/// `at` in the generated markup, when a text run wrote it.
fn locate(generated: &Generated, at: usize, offset: u16) -> Option<TextPos> {
    let runs = &generated.texts;
    let i = runs.partition_point(|r| r.start <= at).checked_sub(1)?;
    let run = runs[i];
    if at >= run.end || generated.text.as_bytes().get(at) != Some(&b'"') {
        return None;
    }
    let src = &generated.text[run.start..run.end];
    let before = literal_chars(&src[..at - run.start], usize::MAX);
    let within = literal_chars(&src[at - run.start..], usize::from(offset));
    Some(TextPos {
        container: run.container,
        chars: run.chars + before + within,
    })
}

/// The characters of the values of the string literals in `src`, counting
/// at most `limit` bytes of value in the last one (the glyph's offset).
fn literal_chars(src: &str, limit: usize) -> u32 {
    let mut chars = 0;
    let mut inside = false;
    let mut value_bytes = 0usize;
    let mut it = src.chars();
    while let Some(c) = it.next() {
        if !inside {
            if c == '"' {
                inside = true;
                value_bytes = 0;
            }
            continue;
        }
        let value = match c {
            '"' => {
                inside = false;
                continue;
            }
            '\\' => match it.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some(other) => other,
                None => break,
            },
            c => c,
        };
        if value_bytes >= limit {
            break;
        }
        value_bytes += value.len_utf8();
        chars += 1;
    }
    chars
}

/// The page list of the book PDF (for the EPUB): every page of a part opening or module,
/// by the number it prints, with where it begins.
pub fn page_list(layout: &super::laid::Layout, source: String) -> PageList {
    use super::markup::Doc;
    let parts = &layout.parts;
    let mut breaks = Vec::new();
    for (p, opener) in parts.openers.iter().enumerate() {
        let docs = std::iter::once((Owner::Part(p), Doc::Opener(p), opener)).chain(
            parts.modules[p].iter().enumerate().map(move |(m, laid)| {
                let r = crate::model::ModuleRef { part: p, module: m };
                (Owner::Module(p, m), Doc::Module(r), laid)
            }),
        );
        for (owner, doc, laid) in docs {
            let first = layout.pages.start(doc);
            for (i, start) in laid.generated.page_starts.iter().enumerate() {
                let start = match (i, start) {
                    (0, _) => Start::Top,
                    (_, Some(PageStart::Text(pos))) => Start::At(*pos),
                    (_, Some(PageStart::Entry(title))) => Start::Entry(title.clone()),
                    (_, None) => continue,
                };
                breaks.push(PageBreak {
                    label: (first + i as u64).to_string(),
                    owner,
                    start,
                });
            }
        }
    }
    // The book's contents (front matter, numbered i, ii… from the cover)
    // and the indexes, at their first entry on each page.
    let back = layout.pages.start(Doc::Back);
    for (owner, laid, number) in [
        (
            Owner::Front,
            Some(&layout.front),
            &(|i: usize| crate::render::pagelist::roman(i as u64 + 1)) as &dyn Fn(usize) -> String,
        ),
        (Owner::Back, layout.back.as_ref(), &|i: usize| {
            (back + i as u64).to_string()
        }),
    ] {
        let Some(laid) = laid else { continue };
        for (i, start) in laid.generated.page_starts.iter().enumerate() {
            let start = match (owner, i, start) {
                (Owner::Back, 0, _) => Start::Top,
                (_, _, Some(PageStart::Entry(title))) => Start::Entry(title.clone()),
                _ => continue,
            };
            breaks.push(PageBreak {
                label: number(i),
                owner,
                start,
            });
        }
    }
    // In page order: the front matter first.
    breaks.sort_by_key(|b| b.owner != Owner::Front);
    PageList { source, breaks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_values_are_counted_in_characters() {
        assert_eq!(
            literal_chars(r##"#"ab"#text(hyphenate: false, "Dé")"##, usize::MAX),
            4
        );
        assert_eq!(literal_chars(r#""a\"b\\c""#, usize::MAX), 5);
        // The first 3 bytes of "Déf": D and é.
        assert_eq!(literal_chars(r#""Déf""#, 3), 2);
        assert_eq!(literal_chars(r#""Déf""#, 0), 0);
    }

    #[test]
    fn literal_values_are_read_back() {
        assert_eq!(
            literal_value(r#""Caching: \"fast\"""#).as_deref(),
            Some("Caching: \"fast\"")
        );
        assert_eq!(literal_value("raw"), None);
    }

    #[test]
    fn a_glyph_is_found_in_its_run() {
        let text = r##"#"Hello "#text(hyphenate: false, "DynamoDB")#" is"##.to_string();
        let generated = Generated {
            texts: vec![TextRun {
                start: 0,
                end: text.len(),
                container: 3,
                chars: 10,
            }],
            text,
            body_containers: 5,
            ..Generated::default()
        };
        // "DynamoDB" starts at byte 33 of the markup; its 'm' is byte 4 of it.
        let at = generated.text.find("\"Dyn").expect("literal");
        assert_eq!(
            locate(&generated, at, 4),
            Some(TextPos {
                container: 3,
                chars: 10 + 6 + 4
            })
        );
        assert_eq!(locate(&generated, 1, 0).map(|p| p.chars), Some(10));
    }
}
