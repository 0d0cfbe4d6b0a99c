//! `quire check`: what the loaded book contains, for a human or a CI log.

use std::fmt;

use crate::Loaded;
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Block, Book, Difficulty, Pos};

/// Lints for authors who want them (`quire check --strict`): things that are
/// normal in a book but may be an oversight. Never run by a build.
pub fn strict_lints(book: &Book) -> Vec<Diagnostic> {
    let mut diags = Diagnostics::default();
    // A module without tags, in a book that uses tags: missing from the index.
    let modules = || book.modules().map(|(_, m)| m);
    if modules().any(|m| !m.tags.is_empty()) {
        for m in modules().filter(|m| m.tags.is_empty()) {
            diags.warning(
                &m.source,
                Pos { line: 1, col: 1 },
                "module has no tags (it is in no tag index): add `tags:` to its front matter",
            );
        }
    }
    diags.into_sorted()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub title: String,
    pub parts: usize,
    pub modules: usize,
    pub words: usize,
    pub minutes: u64,
    pub tags: usize,
    pub images: usize,
    pub remote_images: usize,
    /// Remote images served from quire.lock's cache (counted in `images`).
    pub locked_images: usize,
    pub internal_links: usize,
    pub external_links: usize,
    pub anchors_checked: usize,
    pub footnotes: usize,
    pub figures: usize,
    pub code_blocks: usize,
    pub by_difficulty: [usize; 3],
    /// Modules without a difficulty.
    pub unrated: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(loaded: &Loaded) -> Self {
        let book = &loaded.book;
        let mut figures = 0;
        let mut code_blocks = 0;
        for (_, m) in book.modules() {
            count_blocks(&m.blocks, &mut figures, &mut code_blocks);
        }
        // Part pages too (an mdBook chapter with sub-chapters is one).
        for p in &book.parts {
            count_blocks(&p.overview, &mut figures, &mut code_blocks);
        }
        let index = &loaded.index;
        let by = |d: Difficulty| index.by_difficulty.get(&d).map(Vec::len).unwrap_or(0);
        Summary {
            title: book.meta.title.clone(),
            parts: book.parts.len(),
            modules: book.module_count(),
            words: book.modules().map(|(_, m)| m.words).sum(),
            minutes: book.modules().map(|(_, m)| u64::from(m.minutes)).sum(),
            tags: index.tags.len(),
            images: book.images.len(),
            remote_images: loaded.stats.links.remote_images,
            locked_images: loaded.stats.remote.images,
            internal_links: loaded.stats.links.internal,
            external_links: loaded.stats.links.external,
            anchors_checked: loaded.stats.anchors_checked,
            footnotes: book
                .modules()
                .map(|(_, m)| m.footnotes.len())
                .sum::<usize>()
                + book.parts.iter().map(|p| p.footnotes.len()).sum::<usize>(),
            figures,
            code_blocks,
            by_difficulty: [
                by(Difficulty::Beginner),
                by(Difficulty::Intermediate),
                by(Difficulty::Advanced),
            ],
            unrated: book
                .modules()
                .filter(|(_, m)| m.difficulty.is_none())
                .count(),
            warnings: loaded.warnings.len(),
        }
    }
}

fn count_blocks(blocks: &[Block], figures: &mut usize, code: &mut usize) {
    for b in blocks {
        match b {
            Block::Figure { .. } => *figures += 1,
            Block::CodeBlock { .. } => *code += 1,
            Block::Quote(bs) | Block::Admonition { blocks: bs, .. } => {
                count_blocks(bs, figures, code)
            }
            Block::List { items, .. } => {
                for i in items {
                    count_blocks(&i.blocks, figures, code);
                }
            }
            _ => {}
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.title)?;
        writeln!(f, "  parts          {}", self.parts)?;
        write!(
            f,
            "  modules        {} ({} beginner, {} intermediate, {} advanced",
            self.modules, self.by_difficulty[0], self.by_difficulty[1], self.by_difficulty[2]
        )?;
        if self.unrated > 0 {
            write!(f, ", {} without difficulty", self.unrated)?;
        }
        writeln!(f, ")")?;
        writeln!(f, "  words          {}", self.words)?;
        writeln!(
            f,
            "  minutes        {} ({}h {:02}m)",
            self.minutes,
            self.minutes / 60,
            self.minutes % 60
        )?;
        writeln!(f, "  tags           {}", self.tags)?;
        let locked = if self.locked_images > 0 {
            format!(" ({} fetched, from quire.lock)", self.locked_images)
        } else {
            String::new()
        };
        writeln!(
            f,
            "  images         {} local{locked}, {} remote (not fetched; shown as links)",
            self.images, self.remote_images
        )?;
        writeln!(
            f,
            "  links checked  {} internal ({} heading anchors), {} external (not fetched)",
            self.internal_links, self.anchors_checked, self.external_links
        )?;
        writeln!(
            f,
            "  footnotes      {}, figures {}, code blocks {}",
            self.footnotes, self.figures, self.code_blocks
        )?;
        write!(f, "  warnings       {}", self.warnings)
    }
}
