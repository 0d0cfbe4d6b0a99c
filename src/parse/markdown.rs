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

#[path = "html_subset.rs"]
mod html_subset;

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
    /// Ids of HTML anchors (`<a id>`, `<a name>`).
    pub anchors: Vec<String>,
    pub footnotes: Vec<Footnote>,
    pub words: usize,
}

enum BlockCtx {
    Root,
    Quote,
    Admonition(AdmonitionKind),
    Item(Option<bool>),
    Footnote(String, Pos),
    /// HTML `div`, `center`, `section`…: their blocks go to the parent.
    Transparent,
    /// HTML `figure`, with its `figcaption` once seen.
    Figure(Option<Vec<Inline>>),
    /// HTML `details`, with its `summary` once seen.
    Details(Option<Vec<Inline>>),
    /// HTML `dd`: an indented definition.
    Definition,
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
    /// HTML inline elements the model has a node for.
    Underline,
    Mark,
    Kbd,
    /// HTML `code`/`tt`: its text becomes one code span.
    Code,
    /// HTML `q`: quoted.
    Quoted,
    /// HTML `summary`, `figcaption`, `caption`: given to the enclosing element.
    Summary,
    Caption,
    TableCaption,
    /// HTML `dt`: a term, shown strong.
    Term,
    /// HTML `th`/`td` with its colspan.
    HtmlCell {
        header: bool,
        colspan: usize,
    },
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

/// A caption span being read: see `Builder::caption_span`.
#[derive(Clone, Copy)]
struct CaptionSpan {
    start: usize,
    end: Option<usize>,
    nested: usize,
}

/// State of an HTML `table` being read (the frame itself is a `Frame::Table`).
#[derive(Default)]
struct HtmlTable {
    in_head: bool,
    /// Whether every cell of the current row is a `th`.
    row_all_th: bool,
    caption: Vec<Inline>,
    /// Tables opened inside one of this table's cells, read as inline content.
    nested: usize,
}

struct Builder<'a, 'r> {
    stack: Vec<Frame>,
    /// Parallel to `stack`: the HTML element that opened each frame (`None`: Markdown).
    owners: Vec<Option<String>>,
    /// Open HTML tables, innermost last.
    html_tables: Vec<HtmlTable>,
    /// An element being dropped with everything inside it (`script`, `iframe`…), and its depth.
    dropping: Option<(String, usize)>,
    anchors: Vec<String>,
    ids: IdSet,
    headings: Vec<HeadingInfo>,
    /// label → (number, references so far)
    note_numbers: BTreeMap<String, (usize, usize)>,
    note_defs: Vec<(String, Vec<Block>, Pos)>,
    words: usize,
    /// Events skipped because they are nested deeper than MAX_DEPTH.
    skipping: usize,
    /// A `<span class="caption">` opening its paragraph (the Rust book's
    /// figure captions): where its inlines start and, once closed, end, and
    /// how many spans inside it are open.
    caption_span: Option<CaptionSpan>,
    /// The last block is a figure that already took a caption span.
    span_captioned: bool,
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
        owners: vec![None],
        html_tables: Vec::new(),
        dropping: None,
        anchors: Vec::new(),
        ids: IdSet::default(),
        headings: Vec::new(),
        note_numbers: BTreeMap::new(),
        note_defs: Vec::new(),
        words: 0,
        skipping: 0,
        caption_span: None,
        span_captioned: false,
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
        // Inside an element being dropped (`<script>alert(1)</script>` inline):
        // its content arrives as Markdown text, and goes with it.
        if self.dropping.is_some()
            && matches!(
                event,
                Event::Text(_)
                    | Event::Code(_)
                    | Event::InlineMath(_)
                    | Event::DisplayMath(_)
                    | Event::SoftBreak
                    | Event::HardBreak
                    | Event::FootnoteReference(_)
            )
        {
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
            Event::InlineHtml(h) => self.html_piece(&h, pos),
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
        self.owners.push(None);
    }

    /// Whether the top frame was opened by HTML (and may be closed by it).
    fn top_is_html(&self) -> bool {
        matches!(self.owners.last(), Some(Some(_)))
    }

    /// Before a Markdown block: implicit paragraphs and HTML inline elements
    /// left open (`<p>` or `<span>` without their end tag) end here.
    fn close_open_inlines(&mut self) {
        while matches!(self.stack.last(), Some(Frame::Inlines(..)))
            && (self.top_is_html()
                || matches!(
                    self.stack.last(),
                    Some(Frame::Inlines(InlineCtx::Paragraph { implicit: true }, _))
                ))
        {
            self.pop_frame();
        }
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
            self.close_open_inlines();
            // An HTML table or list holds only rows and items: a Markdown block
            // between its tags (CommonMark ends the HTML block at a blank line)
            // comes after it rather than being lost inside it.
            while self.top_is_html()
                && matches!(
                    self.stack.last(),
                    Some(Frame::Table { .. } | Frame::List(..))
                )
            {
                self.pop_frame();
            }
            // An element left unclosed drops no more than the block it was in.
            self.dropping = None;
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
            Tag::HtmlBlock => Frame::Html(String::new(), pos),
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
        // HTML elements left open inside a Markdown element end with it.
        while self.top_is_html() {
            self.pop_frame();
        }
        // A block ending closes an implicit paragraph still open inside it.
        if !matches!(tag, TagEnd::Paragraph) {
            self.close_implicit_paragraph();
        }
        self.pop_frame();
    }

    /// Pops the top frame and folds it into its parent.
    fn pop_frame(&mut self) {
        let owner = self.owners.pop().flatten();
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Blocks(ctx, blocks) => match ctx {
                BlockCtx::Root => {
                    self.stack.push(Frame::Blocks(BlockCtx::Root, blocks));
                    self.owners.push(None);
                }
                BlockCtx::Transparent => {
                    for b in blocks {
                        self.push_block(b);
                    }
                }
                BlockCtx::Definition => self.push_block(Block::Quote(blocks)),
                BlockCtx::Details(summary) => {
                    let summary = summary.unwrap_or_else(|| vec![Inline::Text("Details".into())]);
                    self.push_block(Block::Details { summary, blocks });
                }
                BlockCtx::Figure(caption) => self.end_html_figure(blocks, caption),
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
                mut align,
                mut head,
                mut rows,
                row,
                pos,
            } => {
                if owner.is_some()
                    && let Some(t) = self.html_tables.pop()
                {
                    // A row the HTML never closed (`</tr>` missing, or the table
                    // ended by Markdown) is still a row.
                    if !row.is_empty() {
                        if head.is_empty() && rows.is_empty() && (t.in_head || t.row_all_th) {
                            head = row;
                        } else {
                            rows.push(row);
                        }
                    }
                    if !t.caption.is_empty() {
                        self.push_block(Block::Paragraph(vec![Inline::Strong(t.caption)]));
                    }
                }
                if head.is_empty() && rows.is_empty() {
                    return;
                }
                let cols = rows
                    .iter()
                    .map(Vec::len)
                    .chain([head.len(), align.len()])
                    .max()
                    .unwrap_or(0);
                align.resize(cols, Align::None);
                self.push_block(Block::Table {
                    align,
                    head,
                    rows,
                    pos,
                });
            }
            Frame::Code(lang, code, pos) => self.push_block(Block::CodeBlock { lang, code, pos }),
            Frame::Html(raw, pos) => self.html_piece(&raw, pos),
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
                        if self.ids.claim(&id) {
                            id
                        } else {
                            let unique = self.ids.unique(&id);
                            self.diags.warning(
                                self.file,
                                pos,
                                format!(
                                    "duplicate heading id '#{id}' in this module: this one is '#{unique}' (links to '#{id}' go to the first)"
                                ),
                            );
                            unique
                        }
                    }
                    None => self.ids.unique(&slugify(&text)),
                };
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
            InlineCtx::HtmlCell { header, colspan } => {
                if let Some(t) = self.html_tables.last_mut() {
                    t.row_all_th &= header;
                }
                if let Some(Frame::Table { row, .. }) = self.stack.last_mut() {
                    row.push(trim_inlines(inlines));
                    // The model has no spans: the cell is followed by empty ones.
                    for _ in 1..colspan {
                        row.push(Vec::new());
                    }
                }
            }
            InlineCtx::Underline => self.push_inline(Inline::Underline(inlines)),
            InlineCtx::Mark => self.push_inline(Inline::Mark(inlines)),
            InlineCtx::Kbd => self.push_inline(Inline::Kbd(inlines)),
            InlineCtx::Code => self.push_inline(Inline::Code(inline_text(&inlines))),
            InlineCtx::Quoted => {
                self.push_inline(Inline::Text("\u{201c}".into()));
                for i in inlines {
                    self.push_inline(i);
                }
                self.push_inline(Inline::Text("\u{201d}".into()));
            }
            InlineCtx::Term => {
                let inlines = trim_inlines(inlines);
                if !inlines.is_empty() {
                    self.push_block(Block::Paragraph(vec![Inline::Strong(inlines)]));
                }
            }
            InlineCtx::Summary => {
                let inlines = trim_inlines(inlines);
                for f in self.stack.iter_mut().rev() {
                    if let Frame::Blocks(BlockCtx::Details(summary), _) = f {
                        *summary = Some(inlines);
                        return;
                    }
                }
            }
            InlineCtx::Caption => {
                let inlines = trim_inlines(inlines);
                for f in self.stack.iter_mut().rev() {
                    if let Frame::Blocks(BlockCtx::Figure(caption), _) = f {
                        *caption = Some(inlines);
                        return;
                    }
                }
            }
            InlineCtx::TableCaption => {
                if let Some(t) = self.html_tables.last_mut() {
                    t.caption = trim_inlines(inlines);
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
                        width: None,
                        pos,
                    });
                }
            }
        }
    }

    /// A paragraph holding only an image is a figure; only display math, a math block.
    fn end_paragraph(&mut self, mut inlines: Vec<Inline>) {
        if let Some(caption) = self.caption_span.take()
            && let Some(end) = caption.end
            && significant(&inlines[..caption.start]).is_empty()
            && significant(&inlines[end..]).is_empty()
            && let Some(Frame::Blocks(_, blocks)) = self.stack.last_mut()
            && let Some(Block::Figure { caption: c, .. }) = blocks.last_mut()
        {
            // The paragraph right after a figure that is only a caption span
            // is the figure's caption (in place of one made from its alt
            // text, which then stays the alt text only).
            let text = trim_inlines(inlines.drain(caption.start..end).collect());
            if !text.is_empty() {
                *c = text;
                self.span_captioned = true;
                return;
            }
        }
        // HTML anchors must survive whatever the paragraph becomes (a figure, or nothing).
        if significant(&inlines).len() <= 1
            && inlines.iter().any(|i| matches!(i, Inline::Anchor(_)))
        {
            let (anchors, rest): (Vec<Inline>, Vec<Inline>) = inlines
                .into_iter()
                .partition(|i| matches!(i, Inline::Anchor(_)));
            self.push_block(Block::Paragraph(anchors));
            inlines = rest;
        }
        let meaningful = significant(&inlines);
        if let [single] = meaningful.as_slice() {
            // A linked image alone in its paragraph is a figure too, the figure the link.
            let (image, link) = match *single {
                Inline::Link {
                    target, content, ..
                } => match significant(content).as_slice() {
                    [img @ Inline::Image { .. }] => (Some(*img), Some(target.clone())),
                    _ => (None, None),
                },
                img @ Inline::Image { .. } => (Some(img), None),
                _ => (None, None),
            };
            if let Some(Inline::Image {
                image,
                alt,
                title,
                width,
                pos,
            }) = image
            {
                let caption = if title.is_empty() { alt } else { title };
                let block = Block::Figure {
                    image: image.clone(),
                    alt: alt.clone(),
                    caption: if caption.is_empty() {
                        Vec::new()
                    } else {
                        vec![Inline::Text(caption.clone())]
                    },
                    width: *width,
                    link,
                    pos: *pos,
                };
                self.push_block(block);
                return;
            }
            if let Inline::Math {
                tex,
                display: true,
                pos,
            } = single
            {
                let block = Block::Math {
                    tex: tex.clone(),
                    pos: *pos,
                };
                self.push_block(block);
                return;
            }
        }
        if !meaningful.is_empty() {
            self.push_block(Block::Paragraph(inlines));
        }
    }

    fn push_block(&mut self, block: Block) {
        self.close_implicit_paragraph();
        self.span_captioned = false;
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
            self.owners.push(None);
        }
        if let Some(Frame::Inlines(_, v)) = self.stack.last_mut() {
            // `<br>` at a line's end: the newline after it is no extra space.
            if matches!(inline, Inline::SoftBreak) && matches!(v.last(), Some(Inline::HardBreak)) {
                return;
            }
            v.push(inline);
        }
    }

    fn finish(mut self) -> Parsed {
        while self.stack.len() > 1 {
            self.pop_frame();
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
        // `#` sections in a body (README-style documents, chapters whose title
        // came from elsewhere): the module title is the only level 1, so every
        // heading moves one level down and the outline keeps its shape.
        let mut blocks = blocks;
        if self.headings.iter().any(|h| h.level == 1) {
            for h in &mut self.headings {
                h.level = (h.level + 1).min(6);
            }
            shift_headings(&mut blocks);
        }
        Parsed {
            blocks,
            headings: self.headings,
            anchors: self.anchors,
            footnotes,
            words: self.words,
        }
    }
}

/// Inlines that show something (not just white space or breaks).
fn significant(inlines: &[Inline]) -> Vec<&Inline> {
    inlines
        .iter()
        .filter(|i| match i {
            Inline::Text(t) => !t.trim().is_empty(),
            Inline::SoftBreak | Inline::HardBreak | Inline::Anchor(_) => false,
            _ => true,
        })
        .collect()
}

/// Drops white space and breaks at both ends (HTML source is indented freely).
fn trim_inlines(mut inlines: Vec<Inline>) -> Vec<Inline> {
    let blank = |i: &Inline| match i {
        Inline::Text(t) => t.trim().is_empty(),
        Inline::SoftBreak | Inline::HardBreak => true,
        _ => false,
    };
    while inlines.last().is_some_and(blank) {
        inlines.pop();
    }
    let start = inlines
        .iter()
        .position(|i| !blank(i))
        .unwrap_or(inlines.len());
    inlines.drain(..start);
    if let Some(Inline::Text(t)) = inlines.first_mut() {
        *t = t.trim_start().to_string();
    }
    if let Some(Inline::Text(t)) = inlines.last_mut() {
        *t = t.trim_end().to_string();
    }
    inlines
}

fn shift_headings(blocks: &mut [Block]) {
    for b in blocks {
        match b {
            Block::Heading { level, .. } => *level = (*level + 1).min(6),
            Block::Quote(bs)
            | Block::Admonition { blocks: bs, .. }
            | Block::Details { blocks: bs, .. } => shift_headings(bs),
            Block::List { items, .. } => {
                for i in items {
                    shift_headings(&mut i.blocks);
                }
            }
            _ => {}
        }
    }
}
