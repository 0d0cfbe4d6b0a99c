//! Markdown → model blocks, in one pass over pulldown-cmark events with an
//! explicit stack (no recursion on user-controlled depth).

use std::collections::BTreeMap;
use std::path::Path;

use pulldown_cmark::{
    BlockQuoteKind, CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd,
};

use super::ids::{IdSet, slugify};
use super::resolve::Resolver;
use crate::diag::Diagnostics;
use crate::model::{
    AdmonitionKind, Align, Block, Footnote, HeadingInfo, Inline, ListItem, Pos, inline_text,
};
use crate::source::text::LineMap;

/// Deeper nesting than this is refused: no real book needs it, and the model,
/// renderers and Typst would all need stack in proportion to it.
pub const MAX_DEPTH: usize = 48;

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_MATH
        | Options::ENABLE_GFM
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub blocks: Vec<Block>,
    pub headings: Vec<HeadingInfo>,
    pub footnotes: Vec<Footnote>,
    pub words: usize,
}

enum BlockCtx {
    Root,
    Quote,
    Admonition(AdmonitionKind),
    Item(Option<bool>),
    Footnote(String, Pos),
}

enum InlineCtx {
    Paragraph {
        implicit: bool,
    },
    Heading {
        level: u8,
        id: Option<String>,
        pos: Pos,
    },
    Emphasis,
    Strong,
    Strike,
    Sup,
    Sub,
    Link {
        href: String,
        title: String,
        email: bool,
        pos: Pos,
    },
    Image {
        src: String,
        title: String,
        pos: Pos,
    },
    Cell,
}

enum Frame {
    Blocks(BlockCtx, Vec<Block>),
    Inlines(InlineCtx, Vec<Inline>),
    List(Option<u64>, Vec<ListItem>),
    Table {
        align: Vec<Align>,
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
        row: Vec<Vec<Inline>>,
        pos: Pos,
    },
    Code(Option<String>, String, Pos),
    Html(String, Pos),
}

struct Builder<'a, 'r> {
    stack: Vec<Frame>,
    ids: IdSet,
    headings: Vec<HeadingInfo>,
    /// label → (number, references so far)
    note_numbers: BTreeMap<String, (usize, usize)>,
    note_defs: Vec<(String, Vec<Block>, Pos)>,
    words: usize,
    /// Events skipped because they are nested deeper than MAX_DEPTH.
    skipping: usize,
    file: &'a Path,
    diags: &'a mut Diagnostics,
    resolver: &'a mut Resolver<'r>,
}

/// Parses one Markdown body. `first_line` is the file line the body starts on.
pub fn parse(
    body: &str,
    first_line: u32,
    file: &Path,
    resolver: &mut Resolver<'_>,
    diags: &mut Diagnostics,
) -> Parsed {
    let lines = LineMap::new(body);
    let to_pos = |offset: usize| {
        let p = lines.pos(offset, body);
        Pos {
            line: p.line + first_line - 1,
            col: p.col,
        }
    };
    let mut b = Builder {
        stack: vec![Frame::Blocks(BlockCtx::Root, Vec::new())],
        ids: IdSet::default(),
        headings: Vec::new(),
        note_numbers: BTreeMap::new(),
        note_defs: Vec::new(),
        words: 0,
        skipping: 0,
        file,
        diags,
        resolver,
    };
    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        b.event(event, to_pos(range.start));
    }
    b.finish()
}

impl Builder<'_, '_> {
    fn event(&mut self, event: Event<'_>, pos: Pos) {
        if self.skipping > 0 {
            match event {
                Event::Start(_) => self.skipping += 1,
                Event::End(_) => self.skipping -= 1,
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(tag) => self.start(tag, pos),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t, pos),
            Event::Code(c) => {
                self.count_words(&c);
                self.push_inline(Inline::Code(c.into_string()));
            }
            Event::InlineMath(m) => self.push_inline(Inline::Math {
                tex: m.into_string(),
                display: false,
                pos,
            }),
            Event::DisplayMath(m) => self.push_inline(Inline::Math {
                tex: m.trim().to_string(),
                display: true,
                pos,
            }),
            Event::Html(h) => {
                if let Some(Frame::Html(raw, _)) = self.stack.last_mut() {
                    raw.push_str(&h);
                }
            }
            Event::InlineHtml(h) => {
                self.diags.warning(
                    self.file,
                    pos,
                    "raw HTML is not rendered; it is shown as text (use Markdown instead)",
                );
                self.push_inline(Inline::Html(h.into_string()));
            }
            Event::FootnoteReference(label) => {
                let next = self.note_numbers.len() + 1;
                let entry = self
                    .note_numbers
                    .entry(label.into_string())
                    .or_insert((next, 0));
                entry.1 += 1;
                let r = Inline::FootnoteRef {
                    number: entry.0,
                    nth: entry.1,
                };
                self.push_inline(r);
            }
            Event::SoftBreak => self.push_inline(Inline::SoftBreak),
            Event::HardBreak => self.push_inline(Inline::HardBreak),
            Event::Rule => self.push_block(Block::Rule),
            Event::TaskListMarker(checked) => {
                if let Some(Frame::Blocks(BlockCtx::Item(task), _)) = self.stack.last_mut() {
                    *task = Some(checked);
                }
            }
        }
    }

    fn count_words(&mut self, text: &str) {
        self.words += text.split_whitespace().count();
    }

    fn text(&mut self, t: &str, pos: Pos) {
        match self.stack.last_mut() {
            Some(Frame::Code(_, code, _)) => code.push_str(t),
            Some(Frame::Html(raw, _)) => raw.push_str(t),
            _ => {
                self.count_words(t);
                // Merge adjacent text (pulldown-cmark splits at smart quotes etc.).
                if let Some(Frame::Inlines(_, v)) = self.stack.last_mut()
                    && let Some(Inline::Text(prev)) = v.last_mut()
                {
                    prev.push_str(t);
                    return;
                }
                let _ = pos;
                self.push_inline(Inline::Text(t.to_string()));
            }
        }
    }

    fn push_frame(&mut self, frame: Frame, pos: Pos) {
        if self.stack.len() >= MAX_DEPTH {
            self.diags.error(
                self.file,
                pos,
                format!(
                    "content is nested more than {MAX_DEPTH} levels deep (lists, quotes or emphasis): flatten it"
                ),
            );
            self.skipping = 1;
            return;
        }
        self.stack.push(frame);
    }

    fn close_implicit_paragraph(&mut self) {
        if let Some(Frame::Inlines(InlineCtx::Paragraph { implicit: true }, _)) = self.stack.last()
        {
            self.end(TagEnd::Paragraph);
        }
    }

    fn start(&mut self, tag: Tag<'_>, pos: Pos) {
        let is_block = matches!(
            tag,
            Tag::Paragraph
                | Tag::Heading { .. }
                | Tag::BlockQuote(_)
                | Tag::CodeBlock(_)
                | Tag::HtmlBlock
                | Tag::List(_)
                | Tag::FootnoteDefinition(_)
                | Tag::Table(_)
                | Tag::DefinitionList
        );
        if is_block {
            self.close_implicit_paragraph();
        }
        let frame = match tag {
            Tag::Paragraph => Frame::Inlines(InlineCtx::Paragraph { implicit: false }, Vec::new()),
            Tag::Heading { level, id, .. } => Frame::Inlines(
                InlineCtx::Heading {
                    level: level as u8,
                    id: id.map(|i| i.into_string()),
                    pos,
                },
                Vec::new(),
            ),
            Tag::BlockQuote(kind) => Frame::Blocks(
                match kind {
                    None => BlockCtx::Quote,
                    Some(k) => BlockCtx::Admonition(match k {
                        BlockQuoteKind::Note => AdmonitionKind::Note,
                        BlockQuoteKind::Tip => AdmonitionKind::Tip,
                        BlockQuoteKind::Important => AdmonitionKind::Important,
                        BlockQuoteKind::Warning => AdmonitionKind::Warning,
                        BlockQuoteKind::Caution => AdmonitionKind::Caution,
                    }),
                },
                Vec::new(),
            ),
            Tag::CodeBlock(kind) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                        .next()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    CodeBlockKind::Indented => None,
                };
                Frame::Code(lang, String::new(), pos)
            }
            Tag::HtmlBlock => {
                self.diags.warning(
                    self.file,
                    pos,
                    "raw HTML block is not rendered; it is shown as text (use Markdown instead)",
                );
                Frame::Html(String::new(), pos)
            }
            Tag::List(start) => Frame::List(start, Vec::new()),
            Tag::Item => Frame::Blocks(BlockCtx::Item(None), Vec::new()),
            Tag::FootnoteDefinition(label) => {
                Frame::Blocks(BlockCtx::Footnote(label.into_string(), pos), Vec::new())
            }
            Tag::Table(align) => Frame::Table {
                align: align
                    .into_iter()
                    .map(|a| match a {
                        pulldown_cmark::Alignment::None => Align::None,
                        pulldown_cmark::Alignment::Left => Align::Left,
                        pulldown_cmark::Alignment::Center => Align::Center,
                        pulldown_cmark::Alignment::Right => Align::Right,
                    })
                    .collect(),
                head: Vec::new(),
                rows: Vec::new(),
                row: Vec::new(),
                pos,
            },
            Tag::TableHead | Tag::TableRow => return,
            Tag::TableCell => Frame::Inlines(InlineCtx::Cell, Vec::new()),
            Tag::Emphasis => Frame::Inlines(InlineCtx::Emphasis, Vec::new()),
            Tag::Strong => Frame::Inlines(InlineCtx::Strong, Vec::new()),
            Tag::Strikethrough => Frame::Inlines(InlineCtx::Strike, Vec::new()),
            Tag::Superscript => Frame::Inlines(InlineCtx::Sup, Vec::new()),
            Tag::Subscript => Frame::Inlines(InlineCtx::Sub, Vec::new()),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => Frame::Inlines(
                InlineCtx::Link {
                    href: dest_url.into_string(),
                    title: title.into_string(),
                    email: link_type == LinkType::Email,
                    pos,
                },
                Vec::new(),
            ),
            Tag::Image {
                dest_url, title, ..
            } => Frame::Inlines(
                InlineCtx::Image {
                    src: dest_url.into_string(),
                    title: title.into_string(),
                    pos,
                },
                Vec::new(),
            ),
            // Not enabled; kept exhaustive so new tags are a compile error, not silent loss.
            Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => return,
        };
        // Inline frames opened directly in a block container (tight list items,
        // text in a quote) get an implicit paragraph around them.
        if matches!(frame, Frame::Inlines(ref c, _) if !matches!(c, InlineCtx::Paragraph{..} | InlineCtx::Heading{..} | InlineCtx::Cell))
            && matches!(self.stack.last(), Some(Frame::Blocks(..)))
        {
            self.push_frame(
                Frame::Inlines(InlineCtx::Paragraph { implicit: true }, Vec::new()),
                pos,
            );
            if self.skipping > 0 {
                self.skipping += 1;
                return;
            }
        }
        self.push_frame(frame, pos);
    }

    fn end(&mut self, tag: TagEnd) {
        if matches!(tag, TagEnd::TableHead) {
            if let Some(Frame::Table { head, row, .. }) = self.stack.last_mut() {
                *head = std::mem::take(row);
            }
            return;
        }
        if matches!(tag, TagEnd::TableRow) {
            if let Some(Frame::Table { rows, row, .. }) = self.stack.last_mut() {
                rows.push(std::mem::take(row));
            }
            return;
        }
        if matches!(
            tag,
            TagEnd::DefinitionList
                | TagEnd::DefinitionListTitle
                | TagEnd::DefinitionListDefinition
                | TagEnd::MetadataBlock(_)
        ) {
            return;
        }
        // A block ending closes an implicit paragraph still open inside it.
        if !matches!(tag, TagEnd::Paragraph) {
            self.close_implicit_paragraph();
        }
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Blocks(ctx, blocks) => match ctx {
                BlockCtx::Root => self.stack.push(Frame::Blocks(BlockCtx::Root, blocks)),
                BlockCtx::Quote => self.push_block(Block::Quote(blocks)),
                BlockCtx::Admonition(kind) => self.push_block(Block::Admonition { kind, blocks }),
                BlockCtx::Item(task) => {
                    if let Some(Frame::List(_, items)) = self.stack.last_mut() {
                        items.push(ListItem { task, blocks });
                    }
                }
                BlockCtx::Footnote(label, pos) => self.note_defs.push((label, blocks, pos)),
            },
            Frame::List(start, items) => self.push_block(Block::List { start, items }),
            Frame::Table {
                align,
                head,
                rows,
                pos,
                ..
            } => self.push_block(Block::Table {
                align,
                head,
                rows,
                pos,
            }),
            Frame::Code(lang, code, pos) => self.push_block(Block::CodeBlock { lang, code, pos }),
            Frame::Html(raw, pos) => self.push_block(Block::Html { raw, pos }),
            Frame::Inlines(ctx, inlines) => self.end_inlines(ctx, inlines),
        }
    }

    fn end_inlines(&mut self, ctx: InlineCtx, inlines: Vec<Inline>) {
        match ctx {
            InlineCtx::Paragraph { .. } => self.end_paragraph(inlines),
            InlineCtx::Heading { level, id, pos } => {
                let text = inline_text(&inlines);
                let id = match id {
                    Some(id) => {
                        if !self.ids.claim(&id) {
                            self.diags.error(
                                self.file,
                                pos,
                                format!(
                                    "duplicate heading id '#{id}' in this module: make it unique"
                                ),
                            );
                        }
                        id
                    }
                    None => self.ids.unique(&slugify(&text)),
                };
                if level == 1 {
                    self.diags.warning(
                        self.file,
                        pos,
                        "level-1 heading in a module body: the title is the module's only '#'; use '##' for sections",
                    );
                }
                self.headings.push(HeadingInfo {
                    level,
                    id: id.clone(),
                    text: text.trim().to_string(),
                    pos,
                });
                self.push_block(Block::Heading {
                    level,
                    id,
                    content: inlines,
                    pos,
                });
            }
            InlineCtx::Emphasis => self.push_inline(Inline::Emphasis(inlines)),
            InlineCtx::Strong => self.push_inline(Inline::Strong(inlines)),
            InlineCtx::Strike => self.push_inline(Inline::Strikethrough(inlines)),
            InlineCtx::Sup => self.push_inline(Inline::Superscript(inlines)),
            InlineCtx::Sub => self.push_inline(Inline::Subscript(inlines)),
            InlineCtx::Cell => {
                if let Some(Frame::Table { row, .. }) = self.stack.last_mut() {
                    row.push(inlines);
                }
            }
            InlineCtx::Link {
                href,
                title,
                email,
                pos,
            } => {
                let href = if email {
                    format!("mailto:{href}")
                } else {
                    href
                };
                match self.resolver.link(&href, pos, self.diags) {
                    Some(target) => self.push_inline(Inline::Link {
                        target,
                        title,
                        content: inlines,
                        pos,
                    }),
                    // Unresolvable: already reported; keep the text.
                    None => {
                        for i in inlines {
                            self.push_inline(i);
                        }
                    }
                }
            }
            InlineCtx::Image { src, title, pos } => {
                let alt = inline_text(&inlines).trim().to_string();
                if alt.is_empty() {
                    self.diags.warning(
                        self.file,
                        pos,
                        format!("image '{src}' has no alt text: describe it in ![…]"),
                    );
                }
                if let Some(image) = self.resolver.image(&src, pos, self.diags) {
                    self.push_inline(Inline::Image {
                        image,
                        alt,
                        title,
                        pos,
                    });
                }
            }
        }
    }

    /// A paragraph holding only an image is a figure; only display math, a math block.
    fn end_paragraph(&mut self, inlines: Vec<Inline>) {
        let meaningful: Vec<&Inline> = inlines
            .iter()
            .filter(|i| match i {
                Inline::Text(t) => !t.trim().is_empty(),
                Inline::SoftBreak | Inline::HardBreak => false,
                _ => true,
            })
            .collect();
        if let [single] = meaningful.as_slice() {
            match single {
                Inline::Image {
                    image,
                    alt,
                    title,
                    pos,
                } => {
                    let caption = if title.is_empty() { alt } else { title };
                    let block = Block::Figure {
                        image: image.clone(),
                        alt: alt.clone(),
                        caption: vec![Inline::Text(caption.clone())],
                        pos: *pos,
                    };
                    self.push_block(block);
                    return;
                }
                Inline::Math {
                    tex,
                    display: true,
                    pos,
                } => {
                    let block = Block::Math {
                        tex: tex.clone(),
                        pos: *pos,
                    };
                    self.push_block(block);
                    return;
                }
                _ => {}
            }
        }
        if !meaningful.is_empty() {
            self.push_block(Block::Paragraph(inlines));
        }
    }

    fn push_block(&mut self, block: Block) {
        self.close_implicit_paragraph();
        // Blocks only ever end inside block containers; anything else is dropped
        // rather than panicking on a parser surprise.
        if let Some(Frame::Blocks(_, blocks)) = self.stack.last_mut() {
            blocks.push(block);
        }
    }

    fn push_inline(&mut self, inline: Inline) {
        if matches!(self.stack.last(), Some(Frame::Blocks(..))) {
            self.stack.push(Frame::Inlines(
                InlineCtx::Paragraph { implicit: true },
                Vec::new(),
            ));
        }
        if let Some(Frame::Inlines(_, v)) = self.stack.last_mut() {
            v.push(inline);
        }
    }

    fn finish(mut self) -> Parsed {
        while self.stack.len() > 1 {
            let end = match self.stack.last() {
                Some(Frame::Inlines(..)) => TagEnd::Paragraph,
                _ => TagEnd::Item,
            };
            self.end(end);
        }
        let blocks = match self.stack.pop() {
            Some(Frame::Blocks(_, b)) => b,
            _ => Vec::new(),
        };
        let mut footnotes: Vec<Footnote> = Vec::new();
        for (label, blocks, pos) in std::mem::take(&mut self.note_defs) {
            match self.note_numbers.get(&label) {
                Some(&(number, refs)) => footnotes.push(Footnote {
                    label,
                    number,
                    blocks,
                    refs,
                    pos,
                }),
                None => self.diags.warning(
                    self.file,
                    pos,
                    format!("footnote [^{label}] is defined but never referenced"),
                ),
            }
        }
        for (label, &(number, _)) in &self.note_numbers {
            if !footnotes.iter().any(|f| f.number == number) {
                self.diags.error(
                    self.file,
                    Pos { line: 1, col: 1 },
                    format!(
                        "footnote [^{label}] is referenced but never defined: add `[^{label}]: …`"
                    ),
                );
            }
        }
        footnotes.sort_by_key(|f| f.number);
        Parsed {
            blocks,
            headings: self.headings,
            footnotes,
            words: self.words,
        }
    }
}
