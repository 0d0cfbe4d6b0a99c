//! What a `#fragment` of a link to a module means, and rewriting links to it.

use std::collections::BTreeMap;

use super::ids::{github_slug, slugify};
use crate::model::{Block, Inline, LinkTarget, Module, ModuleRef};

/// `Some(Some(id))`: the heading or anchor `id`; `Some(None)`: the module's
/// start (its title); `None`: nothing of that name.
pub fn resolve(m: &Module, anchor: &str) -> Option<Option<String>> {
    if m.has_target(anchor) {
        return Some(Some(anchor.to_string()));
    }
    let loose = slugify(anchor);
    if anchor == m.id || anchor == github_slug(&m.title) || loose == slugify(&m.title) {
        return Some(None);
    }
    m.headings
        .iter()
        .find(|h| github_slug(&h.text) == anchor || h.id == loose)
        .map(|h| Some(h.id.clone()))
}

type Rewrites = BTreeMap<(ModuleRef, String), Option<String>>;

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
    if let LinkTarget::Module { module, anchor } = t
        && let Some(a) = anchor
        && let Some(meant) = rw.get(&(*module, a.clone()))
    {
        *anchor = meant.clone();
    }
}

fn rewrite_inlines(inlines: &mut [Inline], rw: &Rewrites) {
    for i in inlines {
        match i {
            Inline::Link {
                target, content, ..
            } => {
                rewrite_target(target, rw);
                rewrite_inlines(content, rw);
            }
            Inline::Emphasis(c)
            | Inline::Strong(c)
            | Inline::Strikethrough(c)
            | Inline::Superscript(c)
            | Inline::Subscript(c)
            | Inline::Underline(c)
            | Inline::Mark(c)
            | Inline::Kbd(c) => rewrite_inlines(c, rw),
            _ => {}
        }
    }
}
