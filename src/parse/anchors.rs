//! What a `#fragment` of a link to a module (or a part's page) means, and
//! rewriting links to it.

use std::collections::BTreeMap;

use super::ids::{github_slug, slugify};
use super::resolve::Target;
use crate::model::{Block, HeadingInfo, Inline, LinkTarget, Module, Part};

/// The names a fragment may use on a page: its id and title (its start),
/// its headings and HTML anchors.
pub struct Page<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub headings: &'a [HeadingInfo],
    pub anchors: &'a [String],
}

impl<'a> Page<'a> {
    pub fn module(m: &'a Module) -> Self {
        Page {
            id: &m.id,
            title: &m.title,
            headings: &m.headings,
            anchors: &m.anchors,
        }
    }

    pub fn part(p: &'a Part) -> Self {
        Page {
            id: &p.id,
            title: &p.title,
            headings: &p.headings,
            anchors: &p.anchors,
        }
    }

    fn has_target(&self, id: &str) -> bool {
        self.headings.iter().any(|h| h.id == id) || self.anchors.iter().any(|a| a == id)
    }
}

/// `Some(Some(id))`: the heading or anchor `id`; `Some(None)`: the page's
/// start (its title); `None`: nothing of that name.
pub fn resolve(m: &Page<'_>, anchor: &str) -> Option<Option<String>> {
    if m.has_target(anchor) {
        return Some(Some(anchor.to_string()));
    }
    let loose = slugify(anchor);
    if anchor == m.id || anchor == github_slug(m.title) || loose == slugify(m.title) {
        return Some(None);
    }
    m.headings
        .iter()
        .find(|h| github_slug(&h.text) == anchor || h.id == loose)
        .map(|h| Some(h.id.clone()))
}

/// A hint for a missing anchor: the few headings whose ids are most alike.
pub fn closest(m: &Page<'_>, anchor: &str) -> String {
    if m.headings.is_empty() {
        return "it has no headings".into();
    }
    let mut ids: Vec<(usize, &str)> = m
        .headings
        .iter()
        .map(|h| (distance(&h.id, anchor), h.id.as_str()))
        .collect();
    ids.sort();
    let shown: Vec<&str> = ids.iter().take(3).map(|(_, id)| *id).collect();
    let more = m.headings.len().saturating_sub(shown.len());
    let tail = if more > 0 {
        format!(", and {more} more")
    } else {
        String::new()
    };
    format!("did you mean #{}{tail}?", shown.join(", #"))
}

/// Levenshtein distance over chars (short ids; quadratic is fine).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

type Rewrites = BTreeMap<(Target, String), Option<String>>;

pub fn rewrite_blocks(blocks: &mut [Block], rw: &Rewrites) {
    for b in blocks {
        match b {
            Block::Paragraph(i) | Block::Heading { content: i, .. } => rewrite_inlines(i, rw),
            Block::Figure { caption, link, .. } => {
                rewrite_inlines(caption, rw);
                if let Some(t) = link {
                    rewrite_target(t, rw);
                }
            }
            Block::Quote(bs) | Block::Admonition { blocks: bs, .. } => rewrite_blocks(bs, rw),
            Block::Details { summary, blocks } => {
                rewrite_inlines(summary, rw);
                rewrite_blocks(blocks, rw);
            }
            Block::List { items, .. } => {
                for item in items {
                    rewrite_blocks(&mut item.blocks, rw);
                }
            }
            Block::Table { head, rows, .. } => {
                for cell in head.iter_mut().chain(rows.iter_mut().flatten()) {
                    rewrite_inlines(cell, rw);
                }
            }
            Block::CodeBlock { .. } | Block::Math { .. } | Block::Rule => {}
        }
    }
}

fn rewrite_target(t: &mut LinkTarget, rw: &Rewrites) {
    let (target, anchor) = match t {
        LinkTarget::Module { module, anchor } => (Target::Module(*module), anchor),
        LinkTarget::Part { part, anchor } => (Target::Part(*part), anchor),
        LinkTarget::External(_) => return,
    };
    if let Some(a) = anchor
        && let Some(meant) = rw.get(&(target, a.clone()))
    {
        *anchor = meant.clone();
    }
}

fn rewrite_inlines(inlines: &mut [Inline], rw: &Rewrites) {
    for i in inlines {
        if let Inline::Link { target, .. } = i {
            rewrite_target(target, rw);
        }
        if let Some(c) = i.children_mut() {
            rewrite_inlines(c, rw);
        }
    }
}
