//! Characters no font can draw: Typst would print an empty box (tofu) for
//! them without a word, so the author is told where, and what to add.

use std::collections::BTreeSet;
use std::path::Path;

use super::world::Fonts;
use crate::diag::{Diagnostic, Severity};
use crate::model::{Book, Pos};

/// One warning per source file: its characters that no bundled or
/// publisher font covers, at the first of them.
pub fn missing_glyphs(book: &Book, fonts: &Fonts) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut texts: Vec<(&Path, String)> = Vec::new();
    for part in &book.parts {
        let mut t = format!("{} {}", part.title, part.summary);
        crate::index::walk_text(&part.overview, &mut |_, s| t.push_str(s));
        texts.push((&part.source, t));
        for m in &part.modules {
            let mut t = format!("{} {}", m.title, m.summary);
            crate::index::walk_text(&m.blocks, &mut |_, s| t.push_str(s));
            texts.push((&m.source, t));
        }
    }
    let mut known_ok: BTreeSet<char> = BTreeSet::new();
    for (file, text) in texts {
        let mut missing: BTreeSet<char> = BTreeSet::new();
        for c in text.chars() {
            if c.is_ascii() || known_ok.contains(&c) || missing.contains(&c) || invisible(c) {
                continue;
            }
            if fonts.covers(c) {
                known_ok.insert(c);
            } else {
                missing.insert(c);
            }
        }
        let Some(&first) = missing.iter().next() else {
            continue;
        };
        let sample: String = missing.iter().take(8).collect();
        out.push(Diagnostic {
            severity: Severity::Warning,
            file: file.to_path_buf(),
            pos: locate(file, &missing).unwrap_or(Pos { line: 1, col: 1 }),
            message: format!(
                "{} character(s) have no glyph in the PDF fonts and print as empty boxes (e.g. '{sample}', U+{:04X}): put a font that covers them (such as Noto Sans CJK for Chinese, Japanese or Korean) in a fonts/ folder next to the content",
                missing.len(),
                first as u32
            ),
        });
    }
    out
}

/// Joiners, variation selectors and other marks that draw nothing themselves.
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}')
}

/// Line and column of the first of `chars` in the source file.
fn locate(file: &Path, chars: &BTreeSet<char>) -> Option<Pos> {
    let text = std::fs::read_to_string(file).ok()?;
    for (i, line) in text.lines().enumerate() {
        if let Some(col) = line.chars().position(|c| chars.contains(&c)) {
            return Some(Pos {
                line: u32::try_from(i + 1).ok()?,
                col: u32::try_from(col + 1).ok()?,
            });
        }
    }
    None
}
