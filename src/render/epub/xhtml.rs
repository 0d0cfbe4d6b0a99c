//! Model blocks and inlines → XHTML fragments. Everything from the source is
//! escaped; raw HTML reached the model as its own nodes, never as markup.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{highlight, math};
use crate::diag::{Diagnostic, Severity};
use crate::model::{
    AdmonitionKind, Align, Block, Book, Footnote, ImageSource, Inline, LinkTarget, ModuleRef, Pos,
};

/// XML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(s, &mut out);
    out
}

fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 forbids (controls other than tab/newline) are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// A URL as a valid URI (epubcheck RSC-020): characters URIs do not allow
/// (`\\`, a backtick, spaces, brackets outside a host, a second `#`, non-ASCII)
/// are percent-encoded; existing `%XX` escapes are kept.
pub fn uri_escape(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out = String::with_capacity(url.len());
    let mut fragment = false;
    for (i, &b) in bytes.iter().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~:/?@!$&'()*+,;=".contains(&b)
            || (b == b'#' && !fragment)
            || (b == b'%'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        if b == b'#' {
            fragment = true;
        }
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A `style` attribute for an HTML-given width: that size, never wider than the page.
fn width_style(width: Option<u32>) -> String {
    match width {
        Some(w) => format!(" style=\"width: {w}px; max-width: 100%; height: auto\""),
        None => String::new(),
    }
}

/// File name of a module's page inside `EPUB/text/`.
pub fn module_file(book: &Book, r: ModuleRef) -> String {
    format!("m-{}.xhtml", book.module(r).id)
}

pub fn part_file(book: &Book, p: usize) -> String {
    format!("{}.xhtml", book.parts[p].id)
}

/// Renders one page's worth of blocks.
pub struct Writer<'a> {
    pub book: &'a Book,
    /// The module being written (`None` for a part page).
    pub current: Option<ModuleRef>,
    /// `href`s (relative to `text/`) of `book.images`, by index.
    pub image_hrefs: &'a [String],
    pub has_math: bool,
    pub warnings: Vec<Diagnostic>,
    pub file: &'a std::path::Path,
    out: String,
    /// Tables so far on this page: each region needs its own label.
    tables: usize,
    /// Level of the last heading written (the module title is h1).
    last_heading: u8,
    /// Inside an `<a>`: nothing written there may be a link (no nested anchors).
    in_link: bool,
    /// This page's file name inside `text/` (plates link back to it).
    page_file: String,
    /// Figures on this page that get a plate, in order.
    pub plates: Vec<PlateRef>,
    /// Print page breaks to mark on this page (see `render::pagelist`), by
    /// container, and the containers by address.
    page_marks: BTreeMap<u32, Vec<(u32, String)>>,
    containers: std::collections::HashMap<usize, u32>,
    /// In a container with marks to place: see [`PageCursor`].
    cursor: Option<PageCursor>,
    /// The print pages marked on this page, in order.
    pub marked: Vec<String>,
    /// The Kindle file: formulas as these images (by TeX and display), not MathML.
    pub math_images:
        Option<&'a std::collections::HashMap<(String, bool), super::kindle::MathImage>>,
}

/// Where the writer is in a container that has page breaks to place.
struct PageCursor {
    /// Character offsets and labels still to place, in order.
    pending: std::collections::VecDeque<(u32, String)>,
    /// Characters of the container written so far.
    chars: u32,
    /// Whether the last character written was a space (a word starts next).
    space: bool,
}

/// A figure's plate page (see `plate`), collected while its page is written.
#[derive(Debug, Clone)]
pub struct PlateRef {
    /// The plate's file inside `text/`.
    pub file: String,
    /// `page.xhtml#anchor` of the figure, for the way back.
    pub back: String,
    pub image: usize,
    pub alt: String,
    /// The caption as plain text (empty when the figure has none).
    pub caption: String,
    pub plan: super::plate::Plan,
}

impl<'a> Writer<'a> {
    pub fn new(
        book: &'a Book,
        current: Option<ModuleRef>,
        image_hrefs: &'a [String],
        file: &'a std::path::Path,
        page_file: String,
    ) -> Self {
        Self {
            page_file,
            plates: Vec::new(),
            book,
            current,
            image_hrefs,
            has_math: false,
            warnings: Vec::new(),
            file,
            out: String::new(),
            tables: 0,
            last_heading: 1,
            in_link: false,
            page_marks: BTreeMap::new(),
            containers: Default::default(),
            cursor: None,
            marked: Vec::new(),
            math_images: None,
        }
    }

    /// Marks print page breaks in this page's containers (see `render::pagelist`).
    pub fn mark_pages(
        &mut self,
        marks: BTreeMap<u32, Vec<(u32, String)>>,
        containers: std::collections::HashMap<usize, u32>,
    ) {
        self.page_marks = marks;
        self.containers = containers;
    }

    /// Text, with the page breaks that fall in it at the next word start.
    fn text(&mut self, t: &str) {
        let Some(cur) = self.cursor.as_mut() else {
            escape_into(t, &mut self.out);
            return;
        };
        let mut written = 0;
        while let Some((at, _)) = cur.pending.front() {
            let local = at.saturating_sub(cur.chars) as usize;
            match crate::render::pagelist::word_start(t, local, cur.space) {
                Some(i) if i >= written => {
                    escape_into(&t[written..i], &mut self.out);
                    written = i;
                    if let Some((_, label)) = cur.pending.pop_front() {
                        self.out.push_str(&crate::render::pagelist::marker(&label));
                        self.marked.push(label);
                    }
                }
                _ => break,
            }
        }
        escape_into(&t[written..], &mut self.out);
        cur.chars += t.chars().count() as u32;
        if let Some(last) = t.chars().last() {
            cur.space = last.is_whitespace();
        }
    }

    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    pub fn blocks(&mut self, blocks: &[Block]) {
        for b in blocks {
            self.block(b);
        }
    }

    /// A page's top-level blocks; returns where each ends in the text
    /// written (where the Kindle file may cut a long page).
    pub fn top_blocks(&mut self, blocks: &[Block]) -> Vec<usize> {
        blocks
            .iter()
            .map(|b| {
                self.block(b);
                self.out.len()
            })
            .collect()
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Paragraph(inl) => {
                self.out.push_str("<p>");
                self.inlines(inl);
                self.out.push_str("</p>\n");
            }
            Block::Heading {
                level, id, content, ..
            } => {
                // Never skip a level (## then ####): assistive technology relies on order.
                let l = (*level).clamp(2, 6).min(self.last_heading + 1);
                self.last_heading = l;
                let _ = write!(self.out, "<h{l} id=\"{}\">", escape(id));
                self.inlines(content);
                let _ = writeln!(self.out, "</h{l}>");
            }
            Block::CodeBlock { lang, code, .. } => self.code_block(lang.as_deref(), code),
            Block::Math { tex, pos } => {
                // A width class: too narrow a page shows the formula's text form (book.css).
                let class = super::mathfit::width_class(tex);
                let _ = write!(self.out, "<div class=\"math-display{class}\">");
                self.math(tex, true, *pos);
                self.out.push_str("</div>\n");
            }
            Block::Figure {
                image,
                alt,
                caption,
                width,
                link,
                ..
            } => {
                // A figure too detailed for a phone's column: a plate one tap away.
                let plate = match image {
                    ImageSource::Local(i) => self
                        .book
                        .images
                        .get(*i)
                        .and_then(super::plate::plan)
                        .map(|plan| (*i, plan)),
                    ImageSource::Remote(_) => None,
                };
                let plate_href = plate.map(|(i, plan)| {
                    let k = self.plates.len() + 1;
                    let stem = self.page_file.trim_end_matches(".xhtml");
                    let anchor = format!("quire-figure-{k}");
                    let file = format!("plate-{stem}-{k}.xhtml");
                    self.plates.push(PlateRef {
                        file: file.clone(),
                        back: format!("{}#{anchor}", self.page_file),
                        image: i,
                        alt: alt.clone(),
                        caption: crate::model::inline_text(caption),
                        plan,
                    });
                    let _ = write!(self.out, "<figure id=\"{anchor}\">");
                    file
                });
                if plate_href.is_none() {
                    self.out.push_str("<figure>");
                }
                match image {
                    ImageSource::Local(i) => {
                        // The intrinsic size up front: the page doesn't reflow as
                        // images load (a reading engine may place an anchor first).
                        let (iw, ih) = self
                            .book
                            .images
                            .get(*i)
                            .map_or((0, 0), |m| (m.width, m.height));
                        let size = if iw > 0 && ih > 0 {
                            format!(" width=\"{iw}\" height=\"{ih}\"")
                        } else {
                            String::new()
                        };
                        let img = format!(
                            "<img src=\"{}\" alt=\"{}\"{size}{}/>",
                            escape(&self.image_hrefs[*i]),
                            escape(alt),
                            width_style(*width)
                        );
                        match link {
                            Some(t) => {
                                let href = self.href(t);
                                let _ = write!(self.out, "<a href=\"{}\">{img}</a>", escape(&href));
                            }
                            None => self.out.push_str(&img),
                        }
                    }
                    ImageSource::Remote(url) => self.remote_image(url, alt),
                }
                // The link to the plate is text, not the image: a tap on the
                // image stays the reading system's own zoom.
                let plate_link = plate_href.map(|href| {
                    format!(
                        "<a class=\"plate-link\" href=\"{}\">Larger view</a>",
                        escape(&href)
                    )
                });
                if !caption.is_empty() {
                    self.out.push_str("<figcaption>");
                    self.inlines(caption);
                    if let Some(l) = &plate_link {
                        let _ = write!(self.out, " {l}");
                    }
                    self.out.push_str("</figcaption>");
                } else if let Some(l) = &plate_link {
                    let _ = write!(self.out, "<p class=\"plate-line\">{l}</p>");
                }
                self.out.push_str("</figure>\n");
            }
            Block::Quote(bs) => {
                self.out.push_str("<blockquote>\n");
                self.blocks(bs);
                self.out.push_str("</blockquote>\n");
            }
            Block::Admonition { kind, blocks } => {
                let icon = match kind {
                    AdmonitionKind::Note => "ℹ",
                    AdmonitionKind::Tip => "✱",
                    AdmonitionKind::Important => "!",
                    AdmonitionKind::Warning => "⚠",
                    AdmonitionKind::Caution => "⚠",
                };
                let _ = writeln!(
                    self.out,
                    "<div class=\"admonition admonition-{}\" role=\"note\"><p class=\"admonition-title\"><span class=\"admonition-icon\" aria-hidden=\"true\">{icon}</span> {}</p>",
                    kind.as_str(),
                    kind.label()
                );
                self.blocks(blocks);
                self.out.push_str("</div>\n");
            }
            Block::List { start, items } => {
                match start {
                    Some(1) => self.out.push_str("<ol>\n"),
                    Some(n) => {
                        let _ = writeln!(self.out, "<ol start=\"{n}\">");
                    }
                    None => self.out.push_str("<ul>\n"),
                }
                for item in items {
                    match item.task {
                        Some(done) => {
                            let (glyph, label) = if done {
                                ("☑", "Done")
                            } else {
                                ("☐", "To do")
                            };
                            let _ = write!(
                                self.out,
                                "<li class=\"task\"><span class=\"task-box\" role=\"img\" aria-label=\"{label}\">{glyph}</span>"
                            );
                        }
                        None => self.out.push_str("<li>"),
                    }
                    // A tight item's single paragraph needs no <p>.
                    match item.blocks.as_slice() {
                        [Block::Paragraph(inl)] => self.inlines(inl),
                        bs => {
                            self.out.push('\n');
                            self.blocks(bs);
                        }
                    }
                    self.out.push_str("</li>\n");
                }
                self.out.push_str(if start.is_some() {
                    "</ol>\n"
                } else {
                    "</ul>\n"
                });
            }
            Block::Table {
                align, head, rows, ..
            } => {
                // Focusable, uniquely labelled region: wide tables scroll sideways on small screens.
                self.tables += 1;
                let _ = writeln!(
                    self.out,
                    "<div class=\"table-wrap\" role=\"region\" aria-label=\"Table {}\" tabindex=\"0\"><table>",
                    self.tables
                );
                if !head.is_empty() {
                    self.out.push_str("<thead><tr>");
                    for (i, cell) in head.iter().enumerate() {
                        self.cell("th", align.get(i).copied(), cell);
                    }
                    self.out.push_str("</tr></thead>\n");
                }
                self.out.push_str("<tbody>\n");
                for row in rows {
                    self.out.push_str("<tr>");
                    for (i, cell) in row.iter().enumerate() {
                        self.cell("td", align.get(i).copied(), cell);
                    }
                    self.out.push_str("</tr>\n");
                }
                self.out.push_str("</tbody></table></div>\n");
            }
            Block::Details { summary, blocks } => {
                self.out
                    .push_str("<details class=\"details\" open=\"open\"><summary>");
                self.inlines(summary);
                self.out.push_str("</summary>\n");
                self.blocks(blocks);
                self.out.push_str("</details>\n");
            }
            Block::Rule => self.out.push_str("<hr/>\n"),
        }
    }

    fn cell(&mut self, tag: &str, align: Option<Align>, content: &[Inline]) {
        let class = match align {
            Some(Align::Left) => " class=\"align-left\"",
            Some(Align::Center) => " class=\"align-center\"",
            Some(Align::Right) => " class=\"align-right\"",
            _ => "",
        };
        let scope = if tag == "th" { " scope=\"col\"" } else { "" };
        let _ = write!(self.out, "<{tag}{scope}{class}>");
        self.inlines(content);
        let _ = write!(self.out, "</{tag}>");
    }

    fn code_block(&mut self, lang: Option<&str>, code: &str) {
        let body = lang
            .and_then(|l| highlight::highlight(code, l))
            .unwrap_or_else(|| escape(code));
        match lang {
            Some(l) => {
                let _ = writeln!(
                    self.out,
                    "<pre class=\"code\"><code class=\"language-{}\">{}</code></pre>",
                    escape(l),
                    body.trim_end_matches('\n')
                );
            }
            None => {
                let _ = writeln!(
                    self.out,
                    "<pre class=\"code\"><code>{}</code></pre>",
                    body.trim_end_matches('\n')
                );
            }
        }
    }

    fn remote_image(&mut self, url: &str, alt: &str) {
        let label = if alt.is_empty() { url } else { alt };
        let _ = write!(
            self.out,
            "<p class=\"remote-image\">Image (online): <a href=\"{}\">{}</a></p>",
            escape(&uri_escape(url)),
            escape(label)
        );
    }

    /// MathML, and beside it the same formula as text for reading systems
    /// that don't render MathML (see `math`): `10⁵` must never read "105".
    fn math(&mut self, tex: &str, display: bool, pos: Pos) {
        if let Some(images) = self.math_images {
            // The Kindle file; a formula Typst could not set is a warning of the build already.
            match images.get(&(tex.trim().to_string(), display)) {
                Some(img) => self
                    .out
                    .push_str(&super::kindle::math_img(img, tex, display)),
                None => {
                    let _ = write!(
                        self.out,
                        "<code class=\"math-source\">{}</code>",
                        escape(tex)
                    );
                }
            }
            return;
        }
        match math::to_xhtml(tex, display) {
            Some(m) => {
                self.has_math = true;
                self.out.push_str(&m);
            }
            None => {
                self.warnings.push(Diagnostic {
                    severity: Severity::Warning,
                    file: self.file.to_path_buf(),
                    pos,
                    message: "math could not be converted to MathML; the TeX source is shown"
                        .into(),
                });
                let _ = write!(
                    self.out,
                    "<code class=\"math-source\">{}</code>",
                    escape(tex)
                );
            }
        }
    }

    pub fn inlines(&mut self, inlines: &[Inline]) {
        let entered = self
            .containers
            .get(&(inlines.as_ptr() as usize))
            .and_then(|c| self.page_marks.remove(c));
        let outer = entered.map(|pending| {
            self.cursor.replace(PageCursor {
                pending: pending.into(),
                chars: 0,
                space: true,
            })
        });
        for i in inlines {
            self.inline(i);
            if !matches!(i, Inline::Text(_) | Inline::SoftBreak | Inline::HardBreak)
                && let Some(cur) = self.cursor.as_mut()
            {
                cur.space = false;
            }
        }
        if let Some(outer) = outer {
            // A break after the container's last word: at its end.
            if let Some(cur) = self.cursor.take() {
                for (_, label) in cur.pending {
                    self.out.push_str(&crate::render::pagelist::marker(&label));
                    self.marked.push(label);
                }
            }
            self.cursor = outer;
        }
    }

    fn wrap(&mut self, tag: &str, content: &[Inline]) {
        let _ = write!(self.out, "<{tag}>");
        self.inlines(content);
        let _ = write!(self.out, "</{tag}>");
    }

    fn inline(&mut self, i: &Inline) {
        match i {
            Inline::Text(t) => self.text(t),
            Inline::Code(c) => {
                self.out.push_str("<code>");
                escape_into(c, &mut self.out);
                self.out.push_str("</code>");
            }
            Inline::Emphasis(c) => self.wrap("em", c),
            Inline::Strong(c) => self.wrap("strong", c),
            Inline::Strikethrough(c) => self.wrap("del", c),
            Inline::Superscript(c) => self.wrap("sup", c),
            Inline::Subscript(c) => self.wrap("sub", c),
            Inline::Underline(c) => self.wrap("u", c),
            Inline::Mark(c) => self.wrap("mark", c),
            Inline::Kbd(c) => self.wrap("kbd", c),
            Inline::Anchor(id) => {
                let _ = write!(self.out, "<span id=\"{}\"></span>", escape(id));
            }
            Inline::Link { content, .. } if self.in_link => self.inlines(content),
            Inline::Link {
                target,
                title,
                content,
                ..
            } => {
                let href = self.href(target);
                let _ = write!(self.out, "<a href=\"{}\"", escape(&href));
                if !title.is_empty() {
                    let _ = write!(self.out, " title=\"{}\"", escape(title));
                }
                self.out.push('>');
                self.in_link = true;
                self.inlines(content);
                self.in_link = false;
                self.out.push_str("</a>");
            }
            Inline::Image {
                image,
                alt,
                title,
                width,
                ..
            } => match image {
                ImageSource::Local(idx) => {
                    let _ = write!(
                        self.out,
                        "<img src=\"{}\" alt=\"{}\"{}",
                        escape(&self.image_hrefs[*idx]),
                        escape(alt),
                        width_style(*width)
                    );
                    if !title.is_empty() {
                        let _ = write!(self.out, " title=\"{}\"", escape(title));
                    }
                    self.out.push_str("/>");
                }
                ImageSource::Remote(url) if self.in_link => {
                    let label = if alt.is_empty() { url.as_str() } else { alt };
                    let _ = write!(self.out, "[image: {}]", escape(label));
                }
                ImageSource::Remote(url) => {
                    let label = if alt.is_empty() { url.as_str() } else { alt };
                    let _ = write!(
                        self.out,
                        "<a href=\"{}\">[image: {}]</a>",
                        escape(&uri_escape(url)),
                        escape(label)
                    );
                }
            },
            Inline::Math { tex, display, pos } => self.math(tex, *display, *pos),
            // A note reference inside a link text: the number, linked from the note's back link only.
            Inline::FootnoteRef { number, nth } if self.in_link => {
                let _ = write!(
                    self.out,
                    "<sup id=\"quire-fnref-{number}-{nth}\">{number}</sup>"
                );
            }
            Inline::FootnoteRef { number, nth } => {
                let _ = write!(
                    self.out,
                    "<sup><a epub:type=\"noteref\" role=\"doc-noteref\" id=\"quire-fnref-{number}-{nth}\" href=\"#quire-fn-{number}\">{number}</a></sup>"
                );
            }
            Inline::SoftBreak => self.text("\n"),
            Inline::HardBreak => self.out.push_str("<br/>\n"),
        }
    }

    /// An href relative to `EPUB/text/`.
    pub fn href(&self, target: &LinkTarget) -> String {
        match target {
            LinkTarget::External(url) => uri_escape(url),
            LinkTarget::Part { part, anchor } => match anchor {
                Some(a) => format!("{}#{a}", part_file(self.book, *part)),
                None => part_file(self.book, *part),
            },
            LinkTarget::Module { module, anchor } => {
                let file = if Some(*module) == self.current {
                    String::new()
                } else {
                    module_file(self.book, *module)
                };
                match anchor {
                    Some(a) => format!("{file}#{a}"),
                    None if file.is_empty() => "#quire-title".into(),
                    None => file,
                }
            }
        }
    }

    /// Footnotes as EPUB 3 notes, each with links back to every reference.
    pub fn footnotes(&mut self, notes: &[Footnote]) {
        for n in notes {
            let _ = write!(
                self.out,
                "<aside class=\"footnote\" epub:type=\"footnote\" role=\"doc-footnote\" id=\"quire-fn-{}\">",
                n.number
            );
            let backs: String = (1..=n.refs.max(1))
                .map(|k| {
                    format!(
                        " <a class=\"footnote-back\" role=\"doc-backlink\" href=\"#quire-fnref-{}-{k}\" aria-label=\"Back to reference {}{}\">↩</a>",
                        n.number,
                        n.number,
                        if n.refs > 1 { format!(" ({k})") } else { String::new() }
                    )
                })
                .collect();
            match n.blocks.split_first() {
                Some((Block::Paragraph(first), rest)) => {
                    let _ = write!(
                        self.out,
                        "<p><span class=\"footnote-number\">{}.</span> ",
                        n.number
                    );
                    self.inlines(first);
                    if rest.is_empty() {
                        self.out.push_str(&backs);
                    }
                    self.out.push_str("</p>\n");
                    self.blocks(rest);
                    if !rest.is_empty() {
                        let _ = write!(self.out, "<p>{backs}</p>");
                    }
                }
                _ => {
                    let _ = write!(
                        self.out,
                        "<p><span class=\"footnote-number\">{}.</span></p>",
                        n.number
                    );
                    self.blocks(&n.blocks);
                    let _ = write!(self.out, "<p>{backs}</p>");
                }
            }
            self.out.push_str("</aside>\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_valid_uris() {
        assert_eq!(
            uri_escape("https://example.com?find=\\*"),
            "https://example.com?find=%5C*"
        );
        assert_eq!(uri_escape("https://foo.bar.`baz"), "https://foo.bar.%60baz");
        assert_eq!(
            uri_escape("https://x.org/a b#c#d"),
            "https://x.org/a%20b#c%23d"
        );
        assert_eq!(
            uri_escape("https://x.org/%20ok/%zz"),
            "https://x.org/%20ok/%25zz"
        );
        assert_eq!(uri_escape("https://x.org/é"), "https://x.org/%C3%A9");
    }

    #[test]
    fn escapes_everything() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape("a\u{1}b"), "ab");
    }
}
