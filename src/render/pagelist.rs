//! Print page numbers in the EPUB (EPUB Accessibility 1.1 page navigation):
//! where each page of the book PDF begins, as a place in the model that both
//! renderers find the same way.
//!
//! A place is a *container* (the inlines of one block: a paragraph, heading,
//! table cell, caption, summary; numbered in reading order within its part
//! opening or module, footnotes last) and a character offset in it (the
//! characters of its text, a soft break counting one). The PDF side learns,
//! for the first glyph on each page, which container and character it came
//! from (`render::pdf` records where each text literal of the markup starts);
//! the EPUB writer puts a page-break marker at the next word start there.
//! Both sides walk the same `Book` in memory, so a container is known by its
//! address; the ordinals make the map storable (`quire build --epub` reuses
//! the map of the last PDF build of the same content and paper).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::{Block, Book, Footnote, Inline};

/// A place in a page's text: which container, how many characters in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TextPos {
    pub container: u32,
    pub chars: u32,
}

/// The EPUB page (and PDF document) a page of print belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Owner {
    /// A part's opening pages (its title and overview), by part index.
    Part(usize),
    /// A module, by part and module index.
    Module(usize, usize),
    /// The front matter: its contents pages.
    Front,
    /// The back matter: the indexes.
    Back,
}

/// Where a print page begins in its owner's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Start {
    /// The page opens the document: the marker goes before its title.
    Top,
    At(TextPos),
    /// A page of a list (a part's own contents, the book's contents, the
    /// indexes) that begins inside it: the marker goes before the first
    /// entry on the page, known by its title (a module's, a part's, a tag's).
    Entry(String),
}

/// One page of the print book that the EPUB marks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageBreak {
    /// The number the page prints (its PDF page label).
    pub label: String,
    pub owner: Owner,
    pub start: Start,
}

/// The print pages the EPUB marks, in page order, and what they come from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageList {
    /// The print edition, in words (the EPUB's `pageBreakSource`).
    pub source: String,
    pub breaks: Vec<PageBreak>,
}

impl PageList {
    /// The markers of one EPUB page: its top one, and per container the
    /// character offsets with their labels, in order.
    pub fn marks(&self, owner: Owner) -> Marks {
        let mut marks = Marks::default();
        for b in self.breaks.iter().filter(|b| b.owner == owner) {
            match &b.start {
                Start::Top => marks.top.push(b.label.clone()),
                Start::Entry(title) => marks.entries.push((title.clone(), b.label.clone())),
                Start::At(pos) => marks
                    .at
                    .entry(pos.container)
                    .or_default()
                    .push((pos.chars, b.label.clone())),
            }
        }
        for list in marks.at.values_mut() {
            list.sort();
        }
        marks
    }
}

/// Page-break markers of one EPUB page (see [`PageList::marks`]).
#[derive(Debug, Clone, Default)]
pub struct Marks {
    pub top: Vec<String>,
    /// Before an entry of a list, by its title: (title, label).
    pub entries: Vec<(String, String)>,
    pub at: BTreeMap<u32, Vec<(u32, String)>>,
}

/// The marker for print page `label`: empty, so it adds no text.
pub fn marker(label: &str) -> String {
    let l = crate::render::epub::xhtml::escape(label);
    format!(
        "<span epub:type=\"pagebreak\" role=\"doc-pagebreak\" id=\"page-{l}\" aria-label=\"{l}\"></span>"
    )
}

/// The containers of a document's blocks and notes in reading order, by
/// the address of their inlines (empty ones are skipped: they share one).
pub fn containers(blocks: &[Block], notes: &[Footnote]) -> HashMap<usize, u32> {
    let mut map = HashMap::new();
    let mut add = |inl: &[Inline]| {
        if !inl.is_empty() {
            let n = map.len() as u32;
            map.entry(inl.as_ptr() as usize).or_insert(n);
        }
    };
    // An explicit stack: nesting depth comes from the book.
    let mut stack: Vec<&Block> = Vec::new();
    for b in notes.iter().rev().flat_map(|n| n.blocks.iter().rev()) {
        stack.push(b);
    }
    for b in blocks.iter().rev() {
        stack.push(b);
    }
    while let Some(b) = stack.pop() {
        match b {
            Block::Paragraph(inl) => add(inl),
            Block::Heading { content, .. } => add(content),
            Block::Figure { caption, .. } => add(caption),
            Block::Table { head, rows, .. } => {
                for cell in head.iter().chain(rows.iter().flatten()) {
                    add(cell);
                }
            }
            Block::Details { summary, blocks } => {
                add(summary);
                stack.extend(blocks.iter().rev());
            }
            Block::Quote(blocks) | Block::Admonition { blocks, .. } => {
                stack.extend(blocks.iter().rev());
            }
            Block::List { items, .. } => {
                stack.extend(items.iter().rev().flat_map(|i| i.blocks.iter().rev()));
            }
            Block::CodeBlock { .. } | Block::Math { .. } | Block::Rule => {}
        }
    }
    map
}

/// The containers of one owner.
pub fn owner_containers(book: &Book, owner: Owner) -> HashMap<usize, u32> {
    match owner {
        Owner::Part(p) => containers(&book.parts[p].overview, &[]),
        Owner::Module(p, m) => {
            let module = &book.parts[p].modules[m];
            containers(&module.blocks, &module.footnotes)
        }
        Owner::Front | Owner::Back => HashMap::new(),
    }
}

/// A front-matter page number as printed: i, ii, iii… (`n` from 1).
pub fn roman(mut n: u64) -> String {
    let mut out = String::new();
    for (value, digits) in [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ] {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

/// Where a page break at character `at` of `text` goes: the start of the
/// next word at or after it (a page that begins inside a hyphenated word
/// is marked at the word after). `None` when the text ends first.
/// `after_space`: the text before `text` ended in whitespace (or there is none).
pub fn word_start(text: &str, at: usize, after_space: bool) -> Option<usize> {
    let mut prev_space = after_space;
    for (k, (i, c)) in text.char_indices().enumerate() {
        if k >= at && !c.is_whitespace() && prev_space {
            return Some(i);
        }
        prev_space = c.is_whitespace();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_numbers_are_roman() {
        assert_eq!(roman(5), "v");
        assert_eq!(roman(12), "xii");
        assert_eq!(roman(49), "xlix");
    }

    #[test]
    fn breaks_go_to_the_next_word_start() {
        assert_eq!(word_start("cache hit", 6, false), Some(6));
        // Inside "cache" (after a hyphenation): the next word.
        assert_eq!(word_start("cache hit", 2, false), Some(6));
        assert_eq!(word_start("hit", 0, true), Some(0));
        assert_eq!(word_start("hit", 0, false), None);
        assert_eq!(word_start("a  b", 1, false), Some(3));
        assert_eq!(word_start("é b", 1, false), Some(3));
    }
}
