//! Model → Typst markup, one document at a time ([`generate`]). All text
//! from the book goes out as Typst string literals (`#"…"`, see `literal`),
//! never as markup, so no character in the Markdown can turn into Typst
//! code. This file writes the body (modules and part openings, block by
//! block: every block that can fail records where it came from, so Typst
//! errors are reported against the Markdown file and line); `matter` writes
//! the documents around it (front matter, indexes, running heads); `labels`
//! names the places links go to.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

mod inline;
mod labels;
mod literal;
mod matter;

use super::doc::MENTION;
use super::math::tex_to_typst;
use crate::diag::Diagnostic;
use crate::model::print::Open;
use crate::model::{Align, Block, Book, ImageSource, Index, Inline, ModuleRef, Pos};
use inline::remote_label;
use labels::{dest, image_path, module_label, part_label};
use literal::{array, difficulty_arg, label_part, lit};
use matter::Matter;
// The book's documents and their page numbers (re-exported for the
// renderer's other rooms, which know them from here).
pub(super) use super::doc::{Doc, PageMap};

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
    /// Where the text of each container starts in `text` (part openings
    /// and modules; for the EPUB's print page numbers, see `pagestart`).
    pub texts: Vec<super::pagestart::TextRun>,
    /// Containers of the body (those after are footnotes').
    pub body_containers: u32,
    /// Where each laid-out page begins, once compiled.
    pub page_starts: Vec<Option<super::pagestart::PageStart>>,
}

/// Options the markup depends on.
pub struct Settings<'a> {
    /// The paper's row of the table (size, margins, type).
    pub paper: &'static crate::model::paper::Profile,
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
    /// The book's index: what the indexes list and the text marks.
    pub index: &'a Index,
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

/// The markup of one document of the book. `build_date` and `version_line`
/// go on the copyright page.
pub fn generate(
    book: &Book,
    settings: &Settings,
    doc: Doc,
    build_date: &str,
    version_line: &str,
) -> Generated {
    let matter = || Matter::new(book, settings, doc);
    match doc {
        Doc::Module(r) => Gen::new(book, settings, doc).module_document(r),
        Doc::Opener(p) => Gen::new(book, settings, doc).opener_document(p),
        Doc::Front => matter().front_document(build_date, version_line),
        Doc::Back => matter().back_document(),
        Doc::PartIndex(p) => matter().part_index_document(p),
        Doc::Numbers => matter().numbers_document(),
        Doc::Furniture { first, last } => matter().furniture_document(first, last),
    }
}

/// Writes a document's body: a module, or a part's opening pages (its
/// overview), block by block, recording where each came from.
struct Gen<'a> {
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
    /// The containers of the document's text, by address (see
    /// `render::pagelist`); the one being written and its characters so far.
    containers: std::collections::HashMap<usize, u32>,
    body_containers: u32,
    cursor: Option<(u32, u32)>,
    texts: Vec<super::pagestart::TextRun>,
}

/// Fence names of Typst's grammars that embed its JavaScript one (whose
/// loop on `x /*` is worked around in code blocks).
const JS_EMBEDDING: [&str; 17] = [
    "html", "htm", "xhtml", "shtml", "markdown", "md", "mkd", "mdown", "php", "vue", "svelte",
    "erb", "rhtml", "jsp", "asp", "aspx", "ejs",
];

impl<'a> Gen<'a> {
    /// A writer of `doc`, a module or a part's opening pages: where its
    /// text comes from is known from the start.
    fn new(book: &'a Book, settings: &'a Settings<'a>, doc: Doc) -> Self {
        let (current, file, heading) = match doc {
            Doc::Module(r) => (Some(r), book.module(r).source.clone(), 2),
            // Under the part's title (level 1) its overview's headings start at 2.
            Doc::Opener(p) => (None, book.parts[p].source.clone(), 1),
            _ => (None, PathBuf::new(), 2),
        };
        Self {
            book,
            settings,
            out: String::with_capacity(1 << 20),
            map: Vec::new(),
            warnings: Vec::new(),
            current,
            doc,
            file,
            notes_open: Vec::new(),
            notes_emitted: BTreeSet::new(),
            marked: BTreeSet::new(),
            in_link: false,
            heading,
            containers: Default::default(),
            body_containers: 0,
            cursor: None,
            texts: Vec::new(),
        }
    }

    /// Records where this document's containers are (see `render::pagelist`).
    fn find_containers(&mut self, blocks: &[Block], notes: &[crate::model::Footnote]) {
        self.body_containers = crate::render::pagelist::containers(blocks, &[]).len() as u32;
        self.containers = crate::render::pagelist::containers(blocks, notes);
    }

    fn mark(&mut self, pos: Pos, math: bool) {
        self.map.push(MapEntry {
            offset: self.out.len(),
            file: self.file.clone(),
            pos,
            math,
        });
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
                // Typst's JavaScript grammar (bat's, via two-face) loops forever
                // on a block comment after an expression (`x /* a */`,
                // syntect#460): the Cargo book's PDF never finished. On code
                // with a `/*`, JavaScript is read with TypeScript's grammar
                // (which reads it too, and ends), and a grammar that embeds
                // JavaScript (HTML's `<script>`, Markdown's fences) is not used.
                let lang = lang.as_deref().and_then(|l| {
                    let lower = l.to_ascii_lowercase();
                    match lower.as_str() {
                        _ if !code.contains("/*") => Some(l),
                        "javascript" | "js" => Some("typescript"),
                        _ if JS_EMBEDDING.contains(&lower.as_str()) => None,
                        _ => Some(l),
                    }
                });
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
                // A caption with its own "Figure 4-1:" is not numbered again.
                let numbering = if crate::model::caption_has_label(caption) {
                    "numbering: none, "
                } else {
                    ""
                };
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
                        let _ = write!(self.out, "#figure(kind: image, {numbering}[");
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
                            "#figure(kind: image, {numbering}remote-image({}, {}), caption: [",
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
        self.mark(Pos { line: 1, col: 1 }, false);
        let _ = writeln!(self.out, "#recto({})", self.settings.open == Open::Right);
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
        let tags: Vec<String> = (self.settings.index.tags_of(m).into_iter())
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
        self.mark(Pos { line: 1, col: 1 }, false);
        let _ = writeln!(
            self.out,
            "#recto({})",
            self.settings.part_open == Open::Right
        );
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
            let mut contents = Matter::new(book, self.settings, self.doc);
            contents.toc_modules(p);
            self.out.push_str(&contents.finish().text);
            self.out.push_str("]\n\n");
        }
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
            texts: self.texts,
            body_containers: self.body_containers,
            page_starts: Vec::new(),
        }
    }

    /// A part's opening pages, numbered from where the part starts.
    fn opener_document(mut self, p: usize) -> Generated {
        let book = self.book;
        self.find_containers(&book.parts[p].overview, &[]);
        let preamble = matter::preamble(self.book, self.settings, self.doc);
        self.out.push_str(&preamble);
        let start = self.settings.pages.start(self.doc);
        let _ = writeln!(self.out, "#counter(page).update({start})");
        self.opener(p);
        self.finish()
    }

    /// One module. Nothing in it depends on page numbers: its footers are
    /// typeset apart ([`Doc::Numbers`]) once the page numbers are known, so
    /// it is laid out once, whatever comes before it.
    fn module_document(mut self, r: ModuleRef) -> Generated {
        let module = self.book.module(r);
        let (blocks, notes) = (&module.blocks, &module.footnotes);
        self.find_containers(blocks, notes);
        let _ = writeln!(self.out, "#import \"/{}/quire.typ\": *", self.doc.key());
        self.module(r);
        self.finish()
    }

    /// A module's main file: settings (no running heads or footers: they
    /// are grafted on), then the module from its own file, which stays the
    /// same when only the settings change.
    fn module_main(&self, r: ModuleRef) -> String {
        let doc = Doc::Module(r);
        let mut main = matter::preamble(self.book, self.settings, doc);
        let _ = writeln!(
            main,
            "#set page(header: none, footer: none)\n#include \"/{}/body.typ\"",
            doc.key()
        );
        main
    }
}

/// Whether the book has back matter: a tag index (some module has a tag)
/// or a difficulty index (some module has a difficulty).
pub fn has_back_matter(index: &Index) -> bool {
    !index.tags.is_empty() || !index.by_difficulty.is_empty()
}

/// Whether part `p`'s own PDF has a tag index: a tag of one of its modules,
/// or one mentioned in its pages.
pub fn part_has_index(index: &Index, p: usize) -> bool {
    index.tags.values().any(|t| {
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
