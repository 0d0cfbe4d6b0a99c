//! The body's running text: inlines as Typst markup (text as literals with
//! index mention markers, emphasis, code, links within and across documents
//! with their printed addresses, images in the line, math with its TeX
//! fallback, footnotes). Blocks are `markup.rs`'s.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::labels::{
    dest, image_path, module_label, part_label, part_section_label, section_label,
};
use super::literal::{label_part, lit, text_code};
use super::{Doc, Gen, MENTION, tex_to_typst};
use crate::diag::{Diagnostic, Severity};
use crate::model::{Block, ImageSource, Inline, LinkTarget, Pos};

impl Gen<'_> {
    pub(super) fn text(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        let start = self.out.len();
        self.write_text(t);
        if let Some((container, chars)) = self.cursor {
            self.texts.push(crate::render::pdf::pagestart::TextRun {
                start,
                end: self.out.len(),
                container,
                chars,
            });
            self.cursor = Some((container, chars + t.chars().count() as u32));
        }
    }

    pub(super) fn write_text(&mut self, t: &str) {
        // Split around tag mentions so each gets an index marker right after it.
        // Every spelling of every tag, whole words, by the index stage's own
        // finder: the PDF marks exactly the mentions the tag index found.
        let mut hits: Vec<(usize, usize, &str)> = self.settings.index.terms.find(t);
        hits.retain(|h| !self.marked.contains(h.2));
        if hits.is_empty() {
            self.out.push_str(&text_code(t));
            return;
        }
        hits.sort();
        // Only the first mention of each term in this section gets a marker.
        let mut first: BTreeSet<&str> = BTreeSet::new();
        hits.retain(|h| first.insert(h.2));
        for h in &hits {
            self.marked.insert(h.2.to_string());
        }
        let mut at = 0;
        let mut pieces = String::new();
        for (start, end, key) in hits {
            if start < at {
                continue;
            }
            let _ = write!(
                pieces,
                "{}#metadata(none)<{MENTION}{}>",
                text_code(&t[at..end]),
                label_part(key)
            );
            at = end;
        }
        if at < t.len() {
            pieces.push_str(&text_code(&t[at..]));
        }
        self.out.push_str(&pieces);
    }

    pub(super) fn inlines(&mut self, inlines: &[Inline]) {
        // A container's text counts its characters from its start.
        let entered = self.containers.get(&(inlines.as_ptr() as usize)).copied();
        let outer = entered.map(|c| self.cursor.replace((c, 0)));
        self.inline_runs(inlines);
        if let Some(outer) = outer {
            self.cursor = outer;
        }
    }

    pub(super) fn inline_runs(&mut self, inlines: &[Inline]) {
        // Runs of text and soft breaks become one string: fewer Typst elements.
        let mut run = String::new();
        for i in inlines {
            match i {
                Inline::Text(t) => run.push_str(t),
                Inline::SoftBreak => run.push(' '),
                other => {
                    self.text(&std::mem::take(&mut run));
                    self.inline(other);
                }
            }
        }
        self.text(&run);
    }

    pub(super) fn wrapped(&mut self, func: &str, content: &[Inline]) {
        let _ = write!(self.out, "#{func}[");
        self.inlines(content);
        self.out.push(']');
    }

    pub(super) fn inline(&mut self, i: &Inline) {
        match i {
            Inline::Text(t) => self.text(t),
            Inline::Code(c) => {
                let _ = write!(self.out, "#raw({})", lit(c));
            }
            Inline::Emphasis(c) => self.wrapped("emph", c),
            Inline::Strong(c) => self.wrapped("strong", c),
            Inline::Strikethrough(c) => self.wrapped("strike", c),
            Inline::Superscript(c) => self.wrapped("super", c),
            Inline::Subscript(c) => self.wrapped("sub", c),
            Inline::Underline(c) => self.wrapped("underline", c),
            Inline::Mark(c) => self.wrapped("highlight", c),
            Inline::Kbd(c) => self.wrapped("kbd", c),
            Inline::Anchor(id) => {
                if let Some(label) = self.here_label(id) {
                    let _ = write!(self.out, "#metadata(none){label}");
                }
            }
            Inline::Link { content, .. } if self.in_link => self.inlines(content),
            Inline::Link {
                target,
                content,
                pos,
                ..
            } => {
                self.mark(*pos, false);
                self.in_link = true;
                self.link(target, content);
                self.in_link = false;
            }
            Inline::Image {
                image,
                alt,
                width,
                pos,
                ..
            } => {
                self.mark(*pos, false);
                match image {
                    ImageSource::Local(idx) => {
                        let img = &self.book.images[*idx];
                        // Icons and badges sit in the line; a picture keeps its size
                        // (96 px per inch, or the HTML width), never wider than the text.
                        let natural = f64::from(width.unwrap_or(img.width)) * 0.75;
                        if width.is_none() && img.height <= 32 {
                            let _ = write!(
                                self.out,
                                "#box(image({}, height: 1.2em, alt: {}))",
                                lit(&image_path(self.book, *idx)),
                                lit(alt)
                            );
                        } else {
                            let _ = write!(
                                self.out,
                                "#box(fit-image({}, {natural:.1}pt, {}))",
                                lit(&image_path(self.book, *idx)),
                                lit(alt)
                            );
                        }
                    }
                    ImageSource::Remote(url) if self.in_link => {
                        let label = remote_label(url, alt);
                        let _ = write!(self.out, "#{}", lit(&format!("[image: {label}]")));
                    }
                    ImageSource::Remote(url) => {
                        let label = remote_label(url, alt);
                        let _ = write!(
                            self.out,
                            "#link({})[#{}]",
                            lit(url),
                            lit(&format!("[image: {label}]"))
                        );
                    }
                }
            }
            Inline::Math { tex, display, pos } => self.math(tex, *display, *pos),
            Inline::FootnoteRef { number, .. } => self.footnote(*number),
            Inline::SoftBreak => self.out.push_str("#\" \""),
            Inline::HardBreak => self.out.push_str("#linebreak()"),
        }
    }

    pub(super) fn link(&mut self, target: &LinkTarget, content: &[Inline]) {
        self.link_with(target, &mut |g: &mut Self| g.inlines(content));
        // On paper a web link cannot be followed: its address follows in
        // small type, unless its text already is the address.
        if let LinkTarget::External(url) = target
            && needs_address(url, &crate::model::inline_text(content))
        {
            let _ = write!(self.out, "#url-note({})", lit(url));
        }
    }

    /// A link around whatever `body` writes (inline content, or a figure's image).
    pub(super) fn link_with(&mut self, target: &LinkTarget, body: &mut dyn FnMut(&mut Self)) {
        match target {
            LinkTarget::External(url) => {
                let _ = write!(self.out, "#link({})[", lit(url));
                body(self);
                self.out.push(']');
            }
            LinkTarget::Part { part, anchor } => {
                let label = match anchor {
                    Some(a) => part_section_label(self.book, *part, a),
                    None => part_label(self.book, *part),
                };
                let note = format!(" (Part {})", self.book.parts[*part].number);
                self.internal_link(*part, Doc::Opener(*part), &label, body, note);
            }
            LinkTarget::Module { module, anchor } => {
                let label = match anchor {
                    Some(a) => section_label(self.book, *module, a),
                    None => module_label(self.book, *module),
                };
                let note = format!(
                    " (Part {}, Module {})",
                    self.book.parts[module.part].number,
                    self.book.module(*module).number
                );
                let doc = Doc::Module(*module);
                self.internal_link(module.part, doc, &label, body, note);
            }
        }
    }

    /// A link inside the book, to `label` in document `doc` of `part`. A link
    /// into another part also says where it goes, "(Part 3, Module 4)": the
    /// part PDF, printed as a booklet, does not hold that page (and the link
    /// is dropped from it).
    pub(super) fn internal_link(
        &mut self,
        part: usize,
        doc: Doc,
        label: &str,
        body: &mut dyn FnMut(&mut Self),
        where_note: String,
    ) {
        let _ = write!(self.out, "#link({})[", dest(label, self.doc == doc));
        body(self);
        self.out.push(']');
        if self.doc.part() != Some(part) {
            let _ = write!(self.out, "#{}", lit(&where_note));
        }
    }

    pub(super) fn math(&mut self, tex: &str, display: bool, pos: Pos) {
        self.mark(pos, true);
        let key = (self.file.clone(), pos.line, pos.col);
        let converted = if self.settings.math_fallback.contains(&key) {
            None
        } else {
            tex_to_typst(tex)
        };
        match converted {
            Some(m) => {
                let body = if display {
                    format!("$ {m} $")
                } else {
                    format!("${m}$")
                };
                let _ = write!(
                    self.out,
                    "#math.equation(block: {display}, alt: {}, {body}.body)",
                    lit(tex.trim())
                );
            }
            None => {
                self.warnings.push(Diagnostic {
                    severity: Severity::Warning,
                    file: self.file.clone(),
                    pos,
                    message: "math could not be typeset; the TeX source is shown".into(),
                });
                let _ = write!(self.out, "#raw(block: {display}, {})", lit(tex.trim()));
            }
        }
    }

    /// The label of heading or anchor `id` where the text is being written:
    /// a module's section, or one of a part's overview (its opening document).
    pub(super) fn here_label(&self, id: &str) -> Option<String> {
        match (self.current, self.doc) {
            (Some(r), _) => Some(section_label(self.book, r, id)),
            (None, Doc::Opener(p)) => Some(part_section_label(self.book, p, id)),
            _ => None,
        }
    }

    pub(super) fn footnote(&mut self, number: usize) {
        let book = self.book;
        // A module's notes, or a part overview's (`fn--part-01-1`: no module
        // id starts with a dash).
        let (key, notes) = match (self.current, self.doc) {
            (Some(r), _) => (label_part(&book.module(r).id), &book.module(r).footnotes),
            (None, Doc::Opener(p)) => (
                format!("-{}", label_part(&book.parts[p].id)),
                &book.parts[p].footnotes,
            ),
            _ => return,
        };
        let label = format!("<fn-{key}-{number}>");
        if self.notes_open.contains(&number) {
            let _ = write!(self.out, "#super[{number}]");
            return;
        }
        let first_ref = !self.seen_note(number);
        if !first_ref {
            let _ = write!(self.out, "#footnote({label})");
            return;
        }
        let Some(note) = notes.iter().find(|f| f.number == number) else {
            return;
        };
        self.notes_open.push(number);
        self.out.push_str("#footnote[");
        self.blocks_inline(&note.blocks);
        let _ = write!(self.out, "] {label}");
        self.notes_open.pop();
    }

    /// Whether a footnote was already emitted in the current module (and marks it).
    pub(super) fn seen_note(&mut self, number: usize) -> bool {
        !self.notes_emitted.insert(number)
    }

    /// Blocks inside a footnote: paragraphs joined with paragraph breaks.
    pub(super) fn blocks_inline(&mut self, blocks: &[Block]) {
        for (i, b) in blocks.iter().enumerate() {
            if i > 0 {
                self.out.push_str("#parbreak()");
            }
            match b {
                Block::Paragraph(inl) => self.inlines(inl),
                other => self.block(other),
            }
        }
    }
}

/// Whether a web link's address must be printed after its text: an http(s)
/// address whose text is something else than the address itself (with or
/// without its scheme or a trailing slash).
pub(super) fn needs_address(url: &str, text: &str) -> bool {
    let bare = |s: &str| {
        let s = s.trim();
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(s);
        s.strip_prefix("www.")
            .unwrap_or(s)
            .trim_end_matches('/')
            .to_lowercase()
    };
    (url.starts_with("https://") || url.starts_with("http://")) && bare(url) != bare(text)
}

/// What a remote image (never fetched) is called in its link.
pub(super) fn remote_label<'s>(url: &'s str, alt: &'s str) -> &'s str {
    if alt.is_empty() { url } else { alt }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_links_print_their_address_unless_it_is_their_text() {
        assert!(needs_address(
            "https://arxiv.org/abs/1406.2294",
            "Jump hash"
        ));
        assert!(!needs_address("https://example.com/", "example.com"));
        assert!(!needs_address(
            "http://www.example.com/a",
            "https://example.com/a"
        ));
        assert!(!needs_address("mailto:a@b.c", "write to us"));
    }
}
