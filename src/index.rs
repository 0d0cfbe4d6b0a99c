//! Index stage: canonical tags, tag → modules, difficulty → modules, and every
//! mention of a tag name in the text (by section) for a back-of-book index.

use std::collections::BTreeMap;

use crate::diag::Diagnostics;
use crate::model::{Block, Book, Index, Inline, ModuleRef, Occurrence, TagEntry};
use crate::parse::ids::{IdSet, slugify};

/// The book's index, built once before any renderer runs; the book is not
/// changed (a module's tags keep their spelling, `Index::tags_of` gives the
/// index's).
pub fn build(book: &Book, diags: &mut Diagnostics) -> Index {
    // lowercased tag → spelling → (uses, first seen)
    let mut spellings: BTreeMap<String, BTreeMap<String, (usize, usize)>> = BTreeMap::new();
    let mut seen = 0usize;
    for (_, m) in book.modules() {
        for t in &m.tags {
            let e = spellings
                .entry(t.to_lowercase())
                .or_default()
                .entry(t.clone())
                .or_insert((0, seen));
            e.0 += 1;
            seen += 1;
        }
    }
    let canonical: BTreeMap<String, String> = spellings
        .iter()
        .map(|(key, forms)| {
            // Most used wins; on a tie, a spelling with capitals (a proper name)
            // beats all-lowercase, then the first seen.
            let has_caps = |s: &str| s.chars().any(char::is_uppercase);
            let best = forms
                .iter()
                .max_by(|a, b| {
                    a.1.0
                        .cmp(&b.1.0)
                        .then(has_caps(a.0).cmp(&has_caps(b.0)))
                        .then(b.1.1.cmp(&a.1.1))
                })
                .map(|(s, _)| s.clone())
                .unwrap_or_else(|| key.clone());
            (key.clone(), best)
        })
        .collect();

    let mut ids = IdSet::default();
    let mut tags: BTreeMap<String, TagEntry> = canonical
        .iter()
        .map(|(key, name)| {
            let entry = TagEntry {
                name: name.clone(),
                id: ids.unique(&format!("tag-{}", slugify(name))),
                modules: Vec::new(),
                occurrences: Vec::new(),
            };
            (key.clone(), entry)
        })
        .collect();

    let mut by_difficulty: BTreeMap<_, Vec<ModuleRef>> = BTreeMap::new();
    for (r, module) in book.modules() {
        let mut merged: Vec<&str> = Vec::new();
        for t in &module.tags {
            let key = t.to_lowercase();
            let name = canonical.get(&key).map_or(t.as_str(), String::as_str);
            if name != t {
                diags.warning(
                    &module.source,
                    crate::model::Pos { line: 1, col: 1 },
                    format!("tag '{t}' is spelled '{name}' elsewhere; using '{name}'"),
                );
            }
            if !merged.contains(&name) {
                merged.push(name);
                if let Some(e) = tags.get_mut(&key) {
                    e.modules.push(r);
                }
            }
        }
        if let Some(d) = module.difficulty {
            by_difficulty.entry(d).or_default().push(r);
        }
    }

    // Term occurrences: every spelling used as a tag, matched case-sensitively
    // as a word, by the one finder the renderers use too.
    let terms = crate::model::terms::Terms::new(
        spellings
            .iter()
            .map(|(key, forms)| (key.clone(), forms.keys().cloned().collect()))
            .collect(),
    );
    for (r, module) in book.modules() {
        let mut counts: BTreeMap<(usize, Option<String>), BTreeMap<&str, usize>> = BTreeMap::new();
        let mut section: (usize, Option<String>) = (0, None);
        walk_text(&module.blocks, &mut |heading, text| {
            if let Some(h) = heading {
                section = (section.0 + 1, Some(h.to_string()));
            }
            for (_, _, key) in terms.find(text) {
                *counts
                    .entry(section.clone())
                    .or_default()
                    .entry(key)
                    .or_default() += 1;
            }
        });
        for ((_, heading), per_tag) in counts {
            for (key, count) in per_tag {
                if let Some(e) = tags.get_mut(key) {
                    e.occurrences.push(Occurrence {
                        module: r,
                        heading: heading.clone(),
                        count,
                    });
                }
            }
        }
    }
    Index {
        tags,
        by_difficulty,
        terms,
    }
}

/// Calls `f(Some(heading id), heading text)` for each heading and `f(None, text)`
/// for prose text (not code or math), in document order.
pub(crate) fn walk_text(blocks: &[Block], f: &mut dyn FnMut(Option<&str>, &str)) {
    // Explicit stack: blocks are bounded in depth by the parser, but stay iterative anyway.
    let mut stack: Vec<&Block> = blocks.iter().rev().collect();
    while let Some(b) = stack.pop() {
        match b {
            Block::Heading { id, content, .. } => {
                f(Some(id), "");
                inline_texts(content, f);
            }
            Block::Paragraph(i) => inline_texts(i, f),
            Block::Figure { caption, .. } => inline_texts(caption, f),
            Block::Quote(bs) | Block::Admonition { blocks: bs, .. } => {
                stack.extend(bs.iter().rev())
            }
            Block::Details { summary, blocks } => {
                inline_texts(summary, f);
                stack.extend(blocks.iter().rev())
            }
            Block::List { items, .. } => {
                for item in items.iter().rev() {
                    stack.extend(item.blocks.iter().rev());
                }
            }
            Block::Table { head, rows, .. } => {
                for cell in head.iter().chain(rows.iter().flatten()) {
                    inline_texts(cell, f);
                }
            }
            Block::CodeBlock { .. } | Block::Math { .. } | Block::Rule => {}
        }
    }
}

fn inline_texts(inlines: &[Inline], f: &mut dyn FnMut(Option<&str>, &str)) {
    for i in inlines {
        match i {
            Inline::Text(t) => f(None, t),
            other => {
                if let Some(c) = other.children() {
                    inline_texts(c, f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_not_substrings() {
        let count = |text: &str, word: &str| {
            crate::model::terms::Terms::new(vec![(word.to_lowercase(), vec![word.to_string()])])
                .find(text)
                .len()
        };
        assert_eq!(count("Redis, RedisJSON and Redis.", "Redis"), 2);
        assert_eq!(count("use S3 or S3's API", "S3"), 2);
        assert_eq!(count("gRPC", "gRPC"), 1);
    }
}
