//! Model → Typst markup. All text from the book goes out as Typst string
//! literals (`#"…"`), never as markup, so no character in the Markdown can
//! turn into Typst code. Every block that can fail records where it came from,
//! so Typst errors are reported against the Markdown file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use super::math::tex_to_typst;
use super::xref::XRef;
use crate::diag::{Diagnostic, Severity};
use crate::model::print::Open;
use crate::model::{
    Align, Block, Book, Difficulty, ImageSource, Inline, LinkTarget, ModuleRef, Pos,
};

/// A point in the generated source and the Markdown it came from.
#[derive(Debug, Clone)]
pub struct MapEntry {
    pub offset: usize,
    pub file: PathBuf,
    pub pos: Pos,
    pub math: bool,
}

#[derive(Default)]
pub struct Generated {
    pub text: String,
    pub map: Vec<MapEntry>,
    pub warnings: Vec<Diagnostic>,
    /// A module's main file: the settings, then the module itself (`text`,
    /// included from `/<doc>/body.typ`). Empty for other documents.
    pub main_file: String,
}

/// Options the markup depends on.
pub struct Settings<'a> {
    pub paper: &'a str,
    pub print: bool,
    /// Where modules open.
    pub open: Open,
    /// Where part openings and the indexes open.
    pub part_open: Open,
    /// Math (file, position) that Typst rejected in an earlier attempt: shown as source.
    pub math_fallback: &'a BTreeSet<(PathBuf, u32, u32)>,
    /// Footnotes (label names) that an earlier layout put on another page
    /// than their reference: the block holding the reference starts a page.
    pub note_breaks: &'a BTreeSet<String>,
    /// Where things landed in the last layout (page numbers printed across documents).
    pub pages: &'a PageMap,
}

/// The book is typeset as separate documents (front matter, one per part, back
/// matter) composed into one PDF afterwards. What one document prints about
/// another comes from the previous layout, until nothing changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageMap {
    /// Displayed page number of every labelled place (label name, no `<>`).
    pub labels: BTreeMap<String, u64>,
    /// The first page number of each document of the book, by [`Doc::key`].
    pub starts: BTreeMap<String, u64>,
    /// The page number after each part (its PDF's own index starts there).
    pub ends: Vec<u64>,
    /// The number of the modules' pages (footers to typeset).
    pub body_pages: u64,
    /// Every module: where it starts and how many pages it has.
    pub modules: Vec<(ModuleRef, u64, u64)>,
    /// Per tag key: the pages where it is mentioned, as (link target, page).
    pub mentions: BTreeMap<String, Vec<(XRef, u64)>>,
}

impl PageMap {
    /// Where a document starts (1 before anything is laid out).
    pub fn start(&self, doc: Doc) -> u64 {
        self.starts.get(&doc.key()).copied().unwrap_or(1)
    }

    fn page(&self, label: &str) -> String {
        // Before the first layout nothing is known; a 3-digit stand-in keeps
        // the text close to its final width.
        self.labels
            .get(label)
            .map_or_else(|| "000".to_string(), u64::to_string)
    }
}

/// Labels marking where the text area of a right-hand and of a left-hand
/// page starts (the first two pages of [`Doc::Numbers`]).
pub const RECTO_ORIGIN: &str = "quire-recto-origin";
pub const VERSO_ORIGIN: &str = "quire-verso-origin";

/// The label prefix of index mention markers (`<qidx-KEY>`).
pub const MENTION: &str = "qidx-";

/// The document a `Gen` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Doc {
    /// Cover, title, copyright and contents.
    Front,
    /// A part's opening pages: title, summary, overview, its own contents.
    Opener(usize),
    /// One module: modules open on a right-hand page, so each is a document
    /// of its own (the finest unit of parallel work and of relayout on edit).
    Module(ModuleRef),
    /// The indexes.
    Back,
    /// A part's own tag index, at the end of its PDF (not in the book).
    PartIndex(usize),
    /// Page footers (numbers) for the modules' pages, grafted onto them.
    Numbers,
}

impl Doc {
    /// Each document gets its own file paths, so no two documents' elements
    /// share a span (Typst derives locations from them) and the composed book
    /// has one location per element.
    pub fn key(self) -> String {
        match self {
            Doc::Front => "front".into(),
            Doc::Opener(p) => format!("part-{:02}-opener", p + 1),
            Doc::Module(r) => format!("part-{:02}-m{:02}", r.part + 1, r.module + 1),
            Doc::Back => "back".into(),
            Doc::PartIndex(p) => format!("part-{:02}-index", p + 1),
            Doc::Numbers => "numbers".into(),
        }
    }

    /// The document of a [`Doc::key`].
    pub fn from_key(key: &str) -> Option<Doc> {
        let Some(rest) = key.strip_prefix("part-") else {
            return [Doc::Front, Doc::Back, Doc::Numbers]
                .into_iter()
                .find(|d| d.key() == key);
        };
        let (number, what) = rest.split_once('-')?;
        let part = number.parse::<usize>().ok()?.checked_sub(1)?;
        let doc = match what {
            "opener" => Doc::Opener(part),
            "index" => Doc::PartIndex(part),
            m => {
                let module = m.strip_prefix('m')?.parse::<usize>().ok()?.checked_sub(1)?;
                Doc::Module(ModuleRef { part, module })
            }
        };
        // One spelling per document ("part-1-m1" is not "part-01-m01").
        (doc.key() == key).then_some(doc)
    }

    /// The part a document belongs to.
    pub fn part(self) -> Option<usize> {
        match self {
            Doc::Opener(p) | Doc::PartIndex(p) => Some(p),
            Doc::Module(r) => Some(r.part),
            _ => None,
        }
    }
}

/// A Typst string literal.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => {}
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A block quote's attribution: its last paragraph when that starts with a
/// dash ("— Phil Karlton"), without the dash (the template sets its own),
/// and the quote's other blocks.
fn attribution(blocks: &[Block]) -> Option<(&[Block], Vec<Inline>)> {
    let (Block::Paragraph(last), body) = blocks.split_last()? else {
        return None;
    };
    if body.is_empty() {
        return None;
    }
    let Some(Inline::Text(first)) = last.first() else {
        return None;
    };
    let rest = ["\u{2014}", "\u{2015}", "--", "\u{2013}"]
        .iter()
        .find_map(|dash| first.strip_prefix(dash))?;
    let mut by = last.clone();
    by[0] = Inline::Text(rest.trim_start().to_string());
    Some((body, by))
}

/// Text as Typst code, its brand names (a capital inside a word:
/// ClickHouse, DynamoDB, OpenAI) set unhyphenated: a dictionary's patterns
/// would split them where the name does not ("Dy-namoDB").
fn text_code(t: &str) -> String {
    let is_name = |w: &str| {
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_alphabetic)
            && w.chars().any(char::is_lowercase)
            && chars.any(char::is_uppercase)
    };
    let mut out = String::new();
    // Where the text not yet written starts, and where the current word does.
    let (mut plain, mut word) = (0, None);
    for (i, c) in t.char_indices().chain([(t.len(), ' ')]) {
        match (c.is_alphanumeric(), word) {
            (true, None) => word = Some(i),
            (false, Some(start)) => {
                word = None;
                if is_name(&t[start..i]) {
                    if plain < start {
                        let _ = write!(out, "#{}", lit(&t[plain..start]));
                    }
                    let _ = write!(out, "#text(hyphenate: false, {})", lit(&t[start..i]));
                    plain = i;
                }
            }
            _ => {}
        }
    }
    if plain < t.len() || out.is_empty() {
        let _ = write!(out, "#{}", lit(&t[plain..]));
    }
    out
}

/// A Typst array literal of already-written items: `()`, `(a,)`, `(a, b,)`
/// (the trailing comma keeps a single item an array).
fn array(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        "()".into()
    } else {
        format!("({},)", items.join(", "))
    }
}

/// A label name Typst accepts literally: ASCII letters, digits, `-` and `_`.
pub fn label_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else {
            let _ = write!(out, "_u{:x}_", c as u32);
        }
    }
    out
}

pub fn module_label(book: &Book, r: ModuleRef) -> String {
    format!("<m-{}>", label_part(&book.module(r).id))
}

fn section_label(book: &Book, r: ModuleRef, id: &str) -> String {
    format!("<m-{}--{}>", label_part(&book.module(r).id), label_part(id))
}

pub fn part_label(book: &Book, p: usize) -> String {
    format!("<{}>", label_part(&book.parts[p].id))
}

/// A heading or anchor of a part's overview (module labels start `m-`).
fn part_section_label(book: &Book, p: usize, id: &str) -> String {
    format!("<{}--{}>", label_part(&book.parts[p].id), label_part(id))
}

/// `<name>` → `name`.
fn bare(label: &str) -> &str {
    label.trim_start_matches('<').trim_end_matches('>')
}

/// A link destination for a label: the label itself in its own document,
/// a cross-reference ([`XRef`]) elsewhere.
fn dest(label: &str, local: bool) -> String {
    if local {
        label.to_string()
    } else {
        lit(&XRef::Label(bare(label).to_string()).encode())
    }
}

pub struct Gen<'a> {
    book: &'a Book,
    settings: &'a Settings<'a>,
    out: String,
    map: Vec<MapEntry>,
    warnings: Vec<Diagnostic>,
    current: Option<ModuleRef>,
    /// The document being written: links into it are Typst links, others are
    /// resolved on composition.
    doc: Doc,
    file: PathBuf,
    /// Terms already marked in the current section: the index gives the page of
    /// a term's first mention in each section. Every marker costs a page lookup
    /// in Typst; one per block made the index a quarter of the layout time.
    marked: BTreeSet<String>,
    /// Footnotes being rendered (a note that cites itself must not recurse).
    notes_open: Vec<usize>,
    /// Footnotes of the current module already emitted (later references point back).
    notes_emitted: BTreeSet<usize>,
    /// Inside a link: nothing written there may be a link of its own.
    in_link: bool,
    /// The level of the last heading written (2: the module's title).
    heading: u8,
}

impl<'a> Gen<'a> {
    pub fn new(book: &'a Book, settings: &'a Settings<'a>) -> Self {
        Self {
            book,
            settings,
            out: String::with_capacity(1 << 20),
            map: Vec::new(),
            warnings: Vec::new(),
            current: None,
            doc: Doc::Front,
            file: PathBuf::new(),
            notes_open: Vec::new(),
            notes_emitted: BTreeSet::new(),
            marked: BTreeSet::new(),
            in_link: false,
            heading: 2,
        }
    }

    fn mark(&mut self, pos: Pos, math: bool) {
        self.map.push(MapEntry {
            offset: self.out.len(),
            file: self.file.clone(),
            pos,
            math,
        });
    }

    fn text(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        // Split around tag mentions so each gets an index marker right after it.
        // Every spelling of every tag, whole words, by the index stage's own
        // finder: the PDF marks exactly the mentions the tag index found.
        let mut hits: Vec<(usize, usize, &str)> = self.book.index.terms.find(t);
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

    fn inlines(&mut self, inlines: &[Inline]) {
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

    fn wrapped(&mut self, func: &str, content: &[Inline]) {
        let _ = write!(self.out, "#{func}[");
        self.inlines(content);
        self.out.push(']');
    }

    fn inline(&mut self, i: &Inline) {
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

    fn link(&mut self, target: &LinkTarget, content: &[Inline]) {
        self.link_with(target, &mut |g: &mut Self| g.inlines(content));
        // On paper a web link cannot be followed: its address follows in
        // small type, unless its text already is the address.
        if let LinkTarget::External(url) = target
            && self.settings.print
            && needs_address(url, &crate::model::inline_text(content))
        {
            let _ = write!(self.out, "#url-note({})", lit(url));
        }
    }

    /// A link around whatever `body` writes (inline content, or a figure's image).
    fn link_with(&mut self, target: &LinkTarget, body: &mut dyn FnMut(&mut Self)) {
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
    fn internal_link(
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
        if self.settings.print && self.doc.part() != Some(part) {
            let _ = write!(self.out, "#{}", lit(&where_note));
        }
    }

    fn math(&mut self, tex: &str, display: bool, pos: Pos) {
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
    fn here_label(&self, id: &str) -> Option<String> {
        match (self.current, self.doc) {
            (Some(r), _) => Some(section_label(self.book, r, id)),
            (None, Doc::Opener(p)) => Some(part_section_label(self.book, p, id)),
            _ => None,
        }
    }

    fn footnote(&mut self, number: usize) {
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
    fn seen_note(&mut self, number: usize) -> bool {
        !self.notes_emitted.insert(number)
    }

    /// Blocks inside a footnote: paragraphs joined with paragraph breaks.
    fn blocks_inline(&mut self, blocks: &[Block]) {
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

    fn blocks(&mut self, blocks: &[Block]) {
        for b in blocks {
            self.block(b);
        }
    }

    fn content_block(&mut self, blocks: &[Block]) {
        self.out.push('[');
        self.blocks(blocks);
        self.out.push(']');
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Paragraph(inl) => {
                self.inlines(inl);
                self.out.push_str("\n\n");
            }
            Block::Heading {
                level,
                id,
                content,
                pos,
            } => {
                self.mark(*pos, false);
                self.marked.clear();
                // Module titles are level 2 in the PDF, so body `##` becomes 3;
                // under a part's title (1) its overview's `##` is 2. A level
                // never skips one (`##` then `####` nests as 3, 4), as PDF/UA
                // requires and the outline reads; the top level is bookmarked.
                let top = if self.current.is_none() { 2 } else { 3 };
                let l = (level + top - 2).clamp(top, 6).min(self.heading + 1);
                self.heading = l;
                let _ = write!(self.out, "#heading(level: {l}, outlined: {})[", l == top);
                self.inlines(content);
                let label = self.here_label(id).unwrap_or_default();
                let _ = write!(self.out, "] {label}\n\n");
            }
            Block::CodeBlock { lang, code, pos } => {
                self.mark(*pos, false);
                let code = code.strip_suffix('\n').unwrap_or(code);
                match lang {
                    Some(l) => {
                        let _ = write!(
                            self.out,
                            "#raw(block: true, lang: {}, {})\n\n",
                            lit(l),
                            lit(code)
                        );
                    }
                    None => {
                        let _ = write!(self.out, "#raw(block: true, {})\n\n", lit(code));
                    }
                }
            }
            Block::Math { tex, pos } => {
                self.math(tex, true, *pos);
                self.out.push_str("\n\n");
            }
            Block::Figure {
                image,
                alt,
                caption,
                width,
                link,
                pos,
            } => {
                self.mark(*pos, false);
                match image {
                    ImageSource::Local(idx) => {
                        let img = &self.book.images[*idx];
                        // 96 px per inch (or the HTML width): the natural size, never wider than the text.
                        let natural = f64::from(width.unwrap_or(img.width)) * 0.75;
                        let body = format!(
                            "fit-image({}, {natural:.1}pt, {})",
                            lit(&image_path(self.book, *idx)),
                            lit(alt)
                        );
                        self.out.push_str("#figure(kind: image, [");
                        match link {
                            Some(t) => self.link_with(t, &mut |g: &mut Self| {
                                let _ = write!(g.out, "#{body}");
                            }),
                            None => {
                                let _ = write!(self.out, "#{body}");
                            }
                        }
                        self.out.push_str("], caption: [");
                    }
                    ImageSource::Remote(url) => {
                        let label = remote_label(url, alt);
                        let _ = write!(
                            self.out,
                            "#figure(kind: image, remote-image({}, {}), caption: [",
                            lit(url),
                            lit(label)
                        );
                    }
                }
                if caption.is_empty() {
                    // No caption given: none printed (not an empty "Figure 3:").
                    self.out.truncate(self.out.len() - "caption: [".len());
                    self.out.push_str("caption: none)\n\n");
                } else {
                    self.inlines(caption);
                    self.out.push_str("])\n\n");
                }
            }
            Block::Quote(bs) => {
                // A last paragraph "— Someone" is the quote's attribution,
                // which the template keeps on the page of the quote's end.
                match attribution(bs) {
                    Some((body, by)) => {
                        self.out.push_str("#quote(block: true, attribution: [");
                        self.inlines(&by);
                        self.out.push_str("])");
                        self.content_block(body);
                    }
                    None => {
                        self.out.push_str("#quote(block: true)");
                        self.content_block(bs);
                    }
                }
                self.out.push_str("\n\n");
            }
            Block::Admonition { kind, blocks } => {
                let _ = write!(
                    self.out,
                    "#admonition({}, {})",
                    lit(kind.as_str()),
                    lit(kind.label())
                );
                self.content_block(blocks);
                self.out.push_str("\n\n");
            }
            Block::List { start, items } => {
                let tight = items.iter().all(|i| i.blocks.len() <= 1);
                match start {
                    Some(n) => {
                        let _ = write!(self.out, "#enum(tight: {tight}, start: {n}");
                    }
                    None => {
                        let _ = write!(self.out, "#list(tight: {tight}");
                    }
                }
                for item in items {
                    self.out.push_str(", [");
                    if let Some(done) = item.task {
                        let _ = write!(self.out, "#task({done}) ");
                    }
                    match item.blocks.as_slice() {
                        [Block::Paragraph(inl)] => self.inlines(inl),
                        bs => self.blocks(bs),
                    }
                    self.out.push(']');
                }
                self.out.push_str(")\n\n");
            }
            Block::Table {
                align,
                head,
                rows,
                pos,
            } => {
                self.mark(*pos, false);
                let cols = align.len().max(head.len()).max(1);
                let aligns: Vec<&str> = (0..cols)
                    .map(|i| match align.get(i) {
                        Some(Align::Right) => "right",
                        Some(Align::Center) => "center",
                        _ => "left",
                    })
                    .collect();
                let _ = write!(
                    self.out,
                    "#table(columns: {cols}, align: ({},)",
                    aligns.join(", ")
                );
                if !head.is_empty() {
                    self.out.push_str(", table.header(");
                    for i in 0..cols {
                        self.out.push_str("[#strong[");
                        if let Some(c) = head.get(i) {
                            self.inlines(c);
                        }
                        self.out.push_str("]],");
                    }
                    self.out.push(')');
                }
                for row in rows {
                    for i in 0..cols {
                        self.out.push_str(", [");
                        if let Some(c) = row.get(i) {
                            self.inlines(c);
                        }
                        self.out.push(']');
                    }
                }
                self.out.push_str(")\n\n");
            }
            Block::Details { summary, blocks } => {
                self.out.push_str("#details-box[");
                self.inlines(summary);
                self.out.push(']');
                self.content_block(blocks);
                self.out.push_str("\n\n");
            }
            Block::Rule => self.out.push_str("#line(length: 100%, stroke: 0.4pt)\n\n"),
        }
    }

    fn module(&mut self, r: ModuleRef) {
        let book = self.book;
        let m = book.module(r);
        let part = &book.parts[r.part];
        self.current = Some(r);
        self.heading = 2;
        self.file = m.source.clone();
        self.notes_emitted.clear();
        self.marked.clear();
        self.mark(Pos { line: 1, col: 1 }, false);
        let _ = writeln!(self.out, "#recto({})", self.right(self.settings.open));
        let _ = writeln!(
            self.out,
            "#module-kicker[#{}]",
            lit(&format!("Part {} · Module {}", part.number, m.number))
        );
        let _ = writeln!(
            self.out,
            "#heading(level: 2)[#{}] {}",
            lit(&m.title),
            module_label(book, r)
        );
        let tags: Vec<String> = m
            .tags
            .iter()
            .filter_map(|t| book.tag(t))
            .map(|t| {
                let target = dest(&format!("<{}>", label_part(&t.id)), self.doc == Doc::Back);
                format!("[#link({target})[#{}]]", lit(&t.name))
            })
            .collect();
        let _ = writeln!(
            self.out,
            "#module-meta({}, {}, {})\n",
            difficulty_arg(m.difficulty),
            m.minutes,
            array(tags)
        );
        let breaks = self.note_breaks(r, &m.blocks);
        for (i, b) in m.blocks.iter().enumerate() {
            match (breaks.get(&i), b) {
                // A list breaks before the item holding the reference: it
                // goes on as a list of its own, numbered on.
                (Some(&item), Block::List { start, items }) if item > 0 => {
                    self.block(&Block::List {
                        start: *start,
                        items: items[..item].to_vec(),
                    });
                    self.out.push_str("#pagebreak(weak: true)\n");
                    self.block(&Block::List {
                        start: start.map(|n| n + item as u64),
                        items: items[item..].to_vec(),
                    });
                }
                (Some(_), _) => {
                    self.out.push_str("#pagebreak(weak: true)\n");
                    self.block(b);
                }
                (None, _) => self.block(b),
            }
        }
        self.current = None;
    }

    /// The top-level blocks of a module that start a page, so that a
    /// footnote of [`Settings::note_breaks`] shares its page with its
    /// reference: the block holding the note's first reference, or the
    /// headings right before it (they stick to it); in a list, the item
    /// holding it (block index → item index, 0 for the whole block). Typst keeps a note on
    /// the page where its paragraph was first tried when the paragraph moves
    /// on (a sticky heading or orphan control; typst/typst#5314), or puts it
    /// on the next page when it does not fit at the foot (typst/typst#5603).
    fn note_breaks(&self, r: ModuleRef, blocks: &[Block]) -> BTreeMap<usize, usize> {
        let mut breaks = BTreeMap::new();
        if self.settings.note_breaks.is_empty() {
            return breaks;
        }
        let id = label_part(&self.book.module(r).id);
        let mut seen = BTreeSet::new();
        let mut flagged = |b: &Block| {
            let mut numbers = Vec::new();
            block_notes(b, &mut numbers);
            numbers
                .into_iter()
                .filter(|n| seen.insert(*n))
                .any(|n| self.settings.note_breaks.contains(&format!("fn-{id}-{n}")))
        };
        for (i, b) in blocks.iter().enumerate() {
            if let Block::List { items, .. } = b {
                let item = items
                    .iter()
                    .position(|it| it.blocks.iter().any(&mut flagged));
                match item {
                    Some(k) if k > 0 => {
                        breaks.insert(i, k);
                        continue;
                    }
                    Some(_) => {}
                    None => continue,
                }
            } else if !flagged(b) {
                continue;
            }
            let mut at = i;
            while at > 0 && matches!(blocks[at - 1], Block::Heading { .. }) {
                at -= 1;
            }
            breaks.insert(at, 0);
        }
        breaks
    }

    /// A part's opening pages.
    fn opener(&mut self, p: usize) {
        let book = self.book;
        let part = &book.parts[p];
        self.file = part.source.clone();
        self.marked.clear();
        // Under the part's title (level 1) its overview's headings start at 2.
        self.heading = 1;
        self.mark(Pos { line: 1, col: 1 }, false);
        let _ = writeln!(self.out, "#recto({})", self.right(self.settings.part_open));
        let _ = writeln!(
            self.out,
            "#heading(level: 1)[#{}] {}",
            lit(&format!("Part {}: {}", part.number, part.title)),
            part_label(book, p)
        );
        let _ = write!(
            self.out,
            "#part-intro({}, [#{}])[",
            part.number,
            lit(&part.summary)
        );
        self.blocks(&part.overview);
        self.out.push_str("]\n");
        // The part's own contents: its PDF opens here.
        if !part.modules.is_empty() {
            self.out.push_str("#part-contents[\n");
            self.toc_modules(p);
            self.out.push_str("]\n\n");
        }
    }

    fn toc(&mut self) {
        let book = self.book;
        self.out
            .push_str("#[\n#set page(numbering: \"i\")\n#toc-title[Contents]\n");
        for (p, part) in book.parts.iter().enumerate() {
            let label = part_label(book, p);
            let _ = writeln!(
                self.out,
                "#toc-part({}, {})[#{}]",
                dest(&label, false),
                self.page_arg(&label),
                lit(&format!("Part {}: {}", part.number, part.title))
            );
            self.toc_modules(p);
        }
        let difficulty_index = !book.index.by_difficulty.is_empty();
        for (label, title) in [
            ("<tag-index>", "Index of technologies"),
            ("<difficulty-index>", "Modules by difficulty"),
        ]
        .into_iter()
        .filter(|(l, _)| difficulty_index || *l != "<difficulty-index>")
        {
            let _ = writeln!(
                self.out,
                "#toc-part({}, {})[#{}]",
                dest(label, false),
                self.page_arg(label),
                lit(title)
            );
        }
        self.out.push_str("]\n");
    }

    /// The page of a label in another document, from the last layout.
    fn page_arg(&self, label: &str) -> String {
        lit(&self.settings.pages.page(bare(label)))
    }

    /// Contents lines for the modules of one part (in another document).
    fn toc_modules(&mut self, p: usize) {
        let book = self.book;
        let part = &book.parts[p];
        for (m, module) in part.modules.iter().enumerate() {
            let r = ModuleRef { part: p, module: m };
            let label = module_label(book, r);
            let page = self.page_arg(&label);
            let _ = writeln!(
                self.out,
                "#toc-module({}, {page}, {}, {}, {})[#{}]",
                dest(&label, false),
                lit(&format!("{}.{}", part.number, module.number)),
                difficulty_arg(module.difficulty),
                module.minutes,
                lit(&module.title)
            );
        }
    }

    /// The tag index of the book, or of one part (its modules and mentions).
    fn tag_index(&mut self, part: Option<usize>) {
        let book = self.book;
        let in_scope = |r: &ModuleRef| part.is_none_or(|p| r.part == p);
        let _ = writeln!(self.out, "#recto({})", self.right(self.settings.part_open));
        self.out
            .push_str("#heading(level: 1)[#\"Index of technologies\"] <tag-index>\n");
        self.out.push_str("#text(size: 0.9em)[#\"Bold page numbers: the modules tagged with the technology. Others: pages where it is mentioned.\"]\n\n");
        self.out.push_str("#columns(2, gutter: 1.5em)[\n");
        for (key, tag) in &book.index.tags {
            let modules: Vec<&ModuleRef> = tag.modules.iter().filter(|r| in_scope(r)).collect();
            let mentioned = tag.occurrences.iter().any(|o| in_scope(&o.module));
            let label = format!("<{}>", label_part(&tag.id));
            if modules.is_empty() && !mentioned {
                // Keep module pages' tag links valid even when the tag has no entry here.
                let _ = writeln!(self.out, "#metadata(none) {label}");
                continue;
            }
            let module_pages: Vec<(XRef, u64)> = modules
                .iter()
                .filter_map(|r| {
                    let l = module_label(book, **r);
                    let page = *self.settings.pages.labels.get(bare(&l))?;
                    Some((XRef::Label(bare(&l).to_string()), page))
                })
                .collect();
            // Pages where the term is mentioned, once each, and not those that
            // already list it as a module of its own.
            let mut mentions: Vec<&(XRef, u64)> = Vec::new();
            // Mentions in this part's documents (opening pages and modules).
            let here = |x: &XRef| match x {
                XRef::At { doc, .. } => part.is_none_or(|p| doc.part() == Some(p)),
                XRef::Label(_) => part.is_none(),
            };
            for m in self
                .settings
                .pages
                .mentions
                .get(&label_part(key))
                .into_iter()
                .flatten()
                .filter(|m| here(&m.0))
            {
                let repeat = mentions.last().is_some_and(|last| last.1 == m.1);
                if !repeat && !module_pages.iter().any(|(_, p)| *p == m.1) {
                    mentions.push(m);
                }
            }
            let pairs = |list: &mut dyn Iterator<Item = &(XRef, u64)>| {
                array(list.map(|(d, p)| {
                    format!("({}, {})", lit(&d.encode()), lit(&p.to_string()))
                }))
            };
            let _ = writeln!(
                self.out,
                "#metadata(none) {label}\n#index-entry({}, {}, {})",
                lit(&tag.name),
                pairs(&mut module_pages.iter()),
                pairs(&mut mentions.into_iter()),
            );
        }
        self.out.push_str("]\n\n");
    }

    fn difficulty_index(&mut self) {
        let book = self.book;
        // No module has a difficulty: no index of them at all.
        if book.index.by_difficulty.is_empty() {
            return;
        }
        let _ = writeln!(self.out, "#recto({})", self.right(self.settings.part_open));
        self.out
            .push_str("#heading(level: 1)[#\"Modules by difficulty\"] <difficulty-index>\n");
        for d in Difficulty::ALL {
            let entries: Vec<String> = book
                .index
                .by_difficulty
                .get(&d)
                .map(|v| {
                    v.iter()
                        .map(|r| {
                            let label = module_label(book, *r);
                            format!(
                                "({}, {}, [#{}])",
                                dest(&label, false),
                                self.page_arg(&label),
                                lit(&book.module(*r).title)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if entries.is_empty() {
                continue;
            }
            let _ = writeln!(
                self.out,
                "#difficulty-group({}, {})",
                lit(d.as_str()),
                array(entries)
            );
        }
    }

    /// Every document starts alike: the template (at a path of its own, see
    /// [`Doc::key`]) and the book's settings.
    fn preamble(&mut self) {
        let text = self.preamble_text(self.doc);
        self.out.push_str(&text);
    }

    fn preamble_text(&self, doc: Doc) -> String {
        let book = self.book;
        let meta = &book.meta;
        let keywords: Vec<String> = book.index.tags.values().map(|t| lit(&t.name)).collect();
        // A document typeset once its start is known may start on a
        // left-hand page (`open = "any"`); a module is laid out as if on the
        // right and moved when it lands on the left.
        let first = match doc {
            Doc::Opener(_) | Doc::Back => Some(self.settings.pages.start(doc)),
            Doc::PartIndex(p) => self.settings.pages.ends.get(p).copied(),
            _ => None,
        };
        let mut out = String::new();
        let _ = writeln!(out, "#import \"/{}/quire.typ\": *", doc.key());
        let _ = writeln!(
            out,
            "#show: book.with(title: {}, authors: {}, lang: {}, paper: {}, print: {}, keywords: {}, verso: {})",
            lit(&meta.title),
            self.authors(),
            lit(&meta.language),
            lit(self.settings.paper),
            self.settings.print,
            array(keywords),
            first.is_some_and(|n| n.is_multiple_of(2)),
        );
        out
    }

    /// Whether a division opening `open` starts on a right-hand page.
    fn right(&self, open: Open) -> bool {
        self.settings.print && open == Open::Right
    }

    fn authors(&self) -> String {
        array(self.book.meta.authors.iter().map(|a| lit(a)))
    }

    fn finish(self) -> Generated {
        let main_file = match self.doc {
            Doc::Module(r) => self.module_main(r),
            _ => String::new(),
        };
        Generated {
            text: self.out,
            map: self.map,
            warnings: self.warnings,
            main_file,
        }
    }

    /// Cover, title page, copyright page and contents (pages numbered i, ii…).
    pub fn front_document(mut self, build_date: &str, version_line: &str) -> Generated {
        self.doc = Doc::Front;
        self.preamble();
        let book = self.book;
        let meta = &book.meta;
        let authors_arr = self.authors();
        let subtitle = meta
            .subtitle
            .as_deref()
            .map(lit)
            .unwrap_or_else(|| "none".into());
        let _ = writeln!(
            self.out,
            "#cover({}, {subtitle}, {authors_arr}, {})",
            lit(&meta.title),
            lit(&meta.version)
        );
        let publisher = meta
            .publisher
            .as_deref()
            .map(lit)
            .unwrap_or_else(|| "none".into());
        let _ = writeln!(
            self.out,
            "#title-page({}, {subtitle}, {authors_arr}, {publisher})",
            lit(&meta.title)
        );
        let mut copyright = vec![format!("#strong[#{}]", lit(&meta.title))];
        if let Some(c) = &meta.copyright {
            copyright.push(format!("#{}", lit(c)));
        }
        copyright.push(format!(
            "#{}",
            lit(&format!(
                "Version {}. Built {build_date} with {version_line}.",
                meta.version
            ))
        ));
        copyright.push(format!(
            "#{}",
            lit(&format!("Identifier: {}", meta.identifier))
        ));
        let _ = writeln!(self.out, "#copyright-page[{}]", copyright.join("\n\n"));
        self.toc();
        self.finish()
    }

    /// A part's opening pages, numbered from where the part starts.
    pub fn opener_document(mut self, p: usize) -> Generated {
        self.doc = Doc::Opener(p);
        self.preamble();
        let start = self.settings.pages.start(self.doc);
        let _ = writeln!(self.out, "#counter(page).update({start})");
        self.opener(p);
        self.finish()
    }

    /// One module. Nothing in it depends on page numbers: its footers are
    /// typeset apart ([`Doc::Numbers`]) once the page numbers are known, so
    /// it is laid out once, whatever comes before it.
    pub fn module_document(mut self, r: ModuleRef) -> Generated {
        self.doc = Doc::Module(r);
        let _ = writeln!(self.out, "#import \"/{}/quire.typ\": *", self.doc.key());
        self.module(r);
        self.finish()
    }

    /// The running heads and footers of the modules' pages, one page per
    /// page number, grafted onto the module pages: left pages run the
    /// part's title, right pages the module's, nothing on a module's first
    /// page. Its first two pages mark where a right-hand and a left-hand
    /// page's text area starts.
    pub fn numbers_document(mut self) -> Generated {
        self.doc = Doc::Numbers;
        self.preamble();
        let book = self.book;
        let count = self.settings.pages.body_pages.max(2);
        let mut heads = vec!["none".to_string(); count as usize];
        for &(r, start, len) in &self.settings.pages.modules {
            let part = &book.parts[r.part];
            let running = lit(&format!("Part {}: {}", part.number, part.title));
            let title = lit(&book.module(r).title);
            for number in start + 1..start + len {
                if let Some(head) = heads.get_mut(number as usize - 1) {
                    let left = number.is_multiple_of(2);
                    head.clone_from(if left { &running } else { &title });
                }
            }
        }
        let _ = writeln!(
            self.out,
            "#set page(header: page-heads({}))\n#counter(page).update(1)\n\
             #place(top + left)[#metadata(none) <{RECTO_ORIGIN}>]\n#pagebreak()\n\
             #place(top + left)[#metadata(none) <{VERSO_ORIGIN}>]\n\
             #for _ in range({}) {{ pagebreak() }}",
            array(heads),
            count - 2
        );
        self.finish()
    }

    /// A module's main file: settings (no running heads or footers: they
    /// are grafted on), then the module from its own file, which stays the
    /// same when only the settings change.
    fn module_main(&self, r: ModuleRef) -> String {
        let doc = Doc::Module(r);
        let mut main = self.preamble_text(doc);
        let _ = writeln!(
            main,
            "#set page(header: none, footer: none)\n#include \"/{}/body.typ\"",
            doc.key()
        );
        main
    }

    /// The indexes, numbered on from the last part.
    pub fn back_document(mut self) -> Generated {
        self.doc = Doc::Back;
        self.preamble();
        let _ = writeln!(
            self.out,
            "#counter(page).update({})",
            self.settings.pages.start(Doc::Back)
        );
        self.tag_index(None);
        self.difficulty_index();
        self.finish()
    }

    /// A part's own tag index, numbered on from the part's last page.
    pub fn part_index_document(mut self, p: usize) -> Generated {
        self.doc = Doc::PartIndex(p);
        self.preamble();
        let start = self.settings.pages.ends.get(p).copied().unwrap_or(1);
        let _ = writeln!(self.out, "#counter(page).update({start})");
        self.tag_index(Some(p));
        self.finish()
    }
}

/// Whether a web link's address must be printed after its text: an http(s)
/// address whose text is something else than the address itself (with or
/// without its scheme or a trailing slash).
fn needs_address(url: &str, text: &str) -> bool {
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

/// Whether part `p`'s own PDF has a tag index: a tag of one of its modules,
/// or one mentioned in its pages.
pub fn part_has_index(book: &Book, p: usize) -> bool {
    book.index.tags.values().any(|t| {
        t.modules.iter().any(|r| r.part == p) || t.occurrences.iter().any(|o| o.module.part == p)
    })
}

/// The footnotes a block refers to, in order.
fn block_notes(b: &Block, out: &mut Vec<usize>) {
    fn inlines(list: &[Inline], out: &mut Vec<usize>) {
        for i in list {
            match i {
                Inline::FootnoteRef { number, .. } => out.push(*number),
                other => inlines(other.children().unwrap_or_default(), out),
            }
        }
    }
    match b {
        Block::Paragraph(c) | Block::Heading { content: c, .. } => inlines(c, out),
        Block::Figure { caption, .. } => inlines(caption, out),
        Block::Details { summary, blocks } => {
            inlines(summary, out);
            blocks.iter().for_each(|b| block_notes(b, out));
        }
        Block::Quote(blocks) | Block::Admonition { blocks, .. } => {
            blocks.iter().for_each(|b| block_notes(b, out));
        }
        Block::List { items, .. } => {
            for item in items {
                item.blocks.iter().for_each(|b| block_notes(b, out));
            }
        }
        Block::Table { head, rows, .. } => {
            head.iter()
                .chain(rows.iter().flatten())
                .for_each(|c| inlines(c, out));
        }
        Block::CodeBlock { .. } | Block::Math { .. } | Block::Rule => {}
    }
}

/// A difficulty as the template's badge argument: `none` draws no badge.
fn difficulty_arg(d: Option<Difficulty>) -> String {
    d.map_or_else(|| "none".to_string(), |d| lit(d.as_str()))
}

/// What a remote image (never fetched) is called in its link.
fn remote_label<'s>(url: &'s str, alt: &'s str) -> &'s str {
    if alt.is_empty() { url } else { alt }
}

/// The virtual path an image is served under.
pub fn image_path(book: &Book, idx: usize) -> String {
    // Typst picks the decoder by this extension (PNG, JPEG, GIF, WebP, SVG).
    format!("/img/{idx}.{}", book.images[idx].format.ext())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_everything() {
        assert_eq!(lit(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(lit("x\ny"), "\"x\\ny\"");
        assert_eq!(label_part("a.b c"), "a_u2e_b_u20_c");
    }

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

    #[test]
    fn brand_names_are_set_unhyphenated_plain_words_not() {
        assert_eq!(
            text_code("DynamoDB, or OpenAI"),
            r##"#text(hyphenate: false, "DynamoDB")#", or "#text(hyphenate: false, "OpenAI")"##
        );
        // Capitalised or all-capital words, numbers: one plain literal.
        let plain = "The SQL database holds 2PC logs; Über x86.";
        assert_eq!(text_code(plain), format!("#{}", lit(plain)));
    }
}
