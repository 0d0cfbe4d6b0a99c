//! The safe HTML subset: raw HTML tokens folded into the model by the same
//! builder (and explicit stack) as Markdown. Elements the model can show map
//! onto its nodes; containers (`div`, `span`, `center`…) give their content;
//! anything active (`script`, `iframe`, forms, event handlers, `javascript:`)
//! is dropped with a warning. Nothing from raw HTML reaches an output as HTML.

use super::{BlockCtx, Builder, Frame, HtmlTable, InlineCtx, MAX_DEPTH};
use crate::model::{Align, Block, Inline, Pos};
use crate::parse::html::{self, HtmlToken};

/// Elements dropped together with their content: active, interactive or
/// embedded content no book output can carry.
fn dropped_with_content(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "iframe"
            | "object"
            | "applet"
            | "embed"
            | "frameset"
            | "frame"
            | "form"
            | "button"
            | "select"
            | "textarea"
            | "template"
            | "canvas"
            | "video"
            | "audio"
            | "svg"
            | "math"
            | "head"
            | "title"
            | "dialog"
            | "map"
            | "noembed"
            | "noframes"
            | "xmp"
    )
}

/// Void elements dropped silently: metadata and sources with no visible content.
fn dropped_void(name: &str) -> bool {
    matches!(
        name,
        "meta" | "link" | "base" | "source" | "track" | "wbr" | "col" | "param" | "area"
    )
}

/// Inline containers whose content is kept as is, without a warning.
fn transparent_inline(name: &str) -> bool {
    matches!(
        name,
        "span"
            | "font"
            | "small"
            | "big"
            | "abbr"
            | "acronym"
            | "cite"
            | "dfn"
            | "time"
            | "bdi"
            | "bdo"
            | "nobr"
            | "label"
            | "data"
            | "samp"
            | "ruby"
            | "rb"
            | "picture"
            | "noscript"
            | "html"
            | "body"
            | "colgroup"
            | "legend"
            | "fieldset"
            | "blink"
            | "marquee"
    )
}

/// Block containers whose blocks are kept, without a warning.
fn transparent_block(name: &str) -> bool {
    matches!(
        name,
        "div"
            | "center"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "main"
            | "nav"
            | "aside"
            | "address"
            | "hgroup"
            | "dl"
            | "search"
    )
}

fn collapse_ws(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut ws = false;
    for c in t.chars() {
        if c.is_whitespace() {
            ws = true;
        } else {
            if ws {
                out.push(' ');
            }
            ws = false;
            out.push(c);
        }
    }
    if ws {
        out.push(' ');
    }
    out
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    HtmlToken::attr(attrs, name)
}

/// A pixel length from an HTML `width` (`300`, `300px`); percentages and other units are ignored.
fn pixels(v: Option<&str>) -> Option<u32> {
    let v = v?.trim();
    let v = v.strip_suffix("px").unwrap_or(v).trim();
    v.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 1.0)
        .map(|x| x.round().min(20_000.0) as u32)
}

impl Builder<'_, '_> {
    /// One piece of raw HTML (an HTML block or one inline tag), as events for the builder.
    pub(super) fn html_piece(&mut self, raw: &str, pos: Pos) {
        // A tag left unfinished at the end of the piece (`<div id="foo"` and
        // the next lines, which CommonMark makes one HTML block) would vanish
        // in the tokenizer: from its `<` on, the piece is text.
        let (markup, rest) = match unfinished_tag(raw) {
            Some(i) => (&raw[..i], Some(&raw[i..])),
            None => (raw, None),
        };
        for token in html::tokenize(markup) {
            self.html_token(token, pos);
        }
        if let Some(rest) = rest {
            let line = u32::try_from(markup.matches('\n').count()).unwrap_or(0);
            let at = self.at(pos, line + 1);
            self.diags.warning(
                self.file,
                at,
                "unfinished HTML tag (no closing '>'): it is shown as text",
            );
            self.html_text(rest);
        }
    }

    fn at(&self, pos: Pos, line: u32) -> Pos {
        if line <= 1 {
            pos
        } else {
            Pos {
                line: pos.line + line - 1,
                col: 1,
            }
        }
    }

    /// Pushes a frame owned by HTML element `name`; `false` if too deep (the element is then transparent).
    fn push_html(&mut self, frame: Frame, name: &str, pos: Pos) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            self.diags.warning(
                self.file,
                pos,
                format!(
                    "HTML <{name}> is nested more than {MAX_DEPTH} levels deep: its content is kept without it"
                ),
            );
            return false;
        }
        self.stack.push(frame);
        self.owners.push(Some(name.to_string()));
        true
    }

    /// Where a block element may start: not inside a paragraph or inline element
    /// of Markdown. Implicit paragraphs and HTML inline elements end here.
    fn html_block_level(&mut self) -> bool {
        if self.in_inline_container() {
            // A block inside a table cell, summary or caption: the model holds
            // inlines there, so its content follows on a new line.
            self.inline_break();
            return false;
        }
        self.close_open_inlines();
        matches!(self.stack.last(), Some(Frame::Blocks(..)))
    }

    /// Whether the innermost HTML container above any Markdown frame holds only
    /// inlines (a cell, summary, caption or term).
    fn in_inline_container(&self) -> bool {
        for i in (0..self.stack.len()).rev() {
            if self.owners[i].is_none() {
                return false;
            }
            match &self.stack[i] {
                Frame::Inlines(
                    InlineCtx::HtmlCell { .. }
                    | InlineCtx::Summary
                    | InlineCtx::Caption
                    | InlineCtx::TableCaption
                    | InlineCtx::Term,
                    _,
                ) => return true,
                Frame::Inlines(..) => {}
                _ => return false,
            }
        }
        false
    }

    /// A line break in the current inline content, unless it is empty so far.
    fn inline_break(&mut self) {
        if let Some(Frame::Inlines(_, v)) = self.stack.last()
            && !super::significant(v).is_empty()
            && !matches!(v.last(), Some(Inline::HardBreak))
        {
            self.push_inline(Inline::HardBreak);
        }
    }

    /// The frame index of the innermost open HTML element `name` that may be closed
    /// now: only HTML frames (or implicit paragraphs) may lie above it.
    fn open_html(&self, names: &[&str]) -> Option<usize> {
        for i in (0..self.stack.len()).rev() {
            match &self.owners[i] {
                Some(n) if names.contains(&n.as_str()) => return Some(i),
                Some(_) => {}
                None => {
                    if !matches!(
                        self.stack[i],
                        Frame::Inlines(InlineCtx::Paragraph { implicit: true }, _)
                    ) {
                        return None;
                    }
                }
            }
        }
        None
    }

    fn close_html_to(&mut self, index: usize) {
        while self.stack.len() > index {
            self.pop_frame();
        }
    }

    fn html_token(&mut self, token: HtmlToken, pos: Pos) {
        if let Some((name, depth)) = &mut self.dropping {
            match &token {
                HtmlToken::Start {
                    name: n,
                    self_closing: false,
                    ..
                } if n == name => *depth += 1,
                HtmlToken::End { name: n } if n == name => {
                    *depth -= 1;
                    if *depth == 0 {
                        self.dropping = None;
                    }
                }
                _ => {}
            }
            return;
        }
        // Inside <pre>: text as written; tags only for the language and the end.
        if matches!(self.stack.last(), Some(Frame::Code(..))) && self.top_is_html() {
            match token {
                HtmlToken::Text(t) => {
                    if let Some(Frame::Code(_, code, _)) = self.stack.last_mut() {
                        code.push_str(&t);
                    }
                }
                HtmlToken::End { name, .. } if name == "pre" => self.pop_frame(),
                HtmlToken::Start { name, attrs, .. } if name == "code" => {
                    let lang = attr(&attrs, "class").and_then(|c| {
                        c.split_whitespace()
                            .find_map(|c| c.strip_prefix("language-").or(c.strip_prefix("lang-")))
                            .map(str::to_string)
                    });
                    if let Some(Frame::Code(l, _, _)) = self.stack.last_mut()
                        && l.is_none()
                    {
                        *l = lang;
                    }
                }
                HtmlToken::Start { name, .. } if name == "br" => {
                    if let Some(Frame::Code(_, code, _)) = self.stack.last_mut() {
                        code.push('\n');
                    }
                }
                _ => {}
            }
            return;
        }
        match token {
            HtmlToken::Text(t) => self.html_text(&t),
            HtmlToken::Start {
                name,
                attrs,
                self_closing,
                line,
            } => {
                let pos = self.at(pos, line);
                self.html_start(&name, attrs, self_closing, pos);
            }
            HtmlToken::End { name } => self.html_end(&name),
        }
    }

    fn html_text(&mut self, t: &str) {
        let text = collapse_ws(t);
        let block_level = matches!(
            self.stack.last(),
            Some(Frame::Blocks(..)) | Some(Frame::List(..)) | Some(Frame::Table { .. })
        );
        if text.trim().is_empty() && block_level {
            // Indentation between block elements.
            return;
        }
        if matches!(
            self.stack.last(),
            Some(Frame::List(..)) | Some(Frame::Table { .. })
        ) {
            // Stray text in a list or table outside any item or cell: browsers
            // move it before the element; keeping it there is the least surprise.
            return;
        }
        self.count_words(&text);
        if let Some(Frame::Inlines(_, v)) = self.stack.last_mut()
            && let Some(Inline::Text(prev)) = v.last_mut()
        {
            if prev.ends_with(' ') && text.starts_with(' ') {
                prev.push_str(&text[1..]);
            } else {
                prev.push_str(&text);
            }
            return;
        }
        let text = if matches!(self.stack.last(), Some(Frame::Blocks(..))) {
            text.trim_start().to_string()
        } else {
            text
        };
        self.push_inline(Inline::Text(text));
    }

    fn warn_attrs(&mut self, name: &str, attrs: &[(String, String)], pos: Pos) {
        for (a, _) in attrs {
            if a.starts_with("on") {
                self.diags.warning(
                    self.file,
                    pos,
                    format!("HTML <{name}> event handler '{a}' removed (books carry no scripts)"),
                );
            }
        }
    }

    fn html_start(
        &mut self,
        name: &str,
        attrs: Vec<(String, String)>,
        self_closing: bool,
        pos: Pos,
    ) {
        self.warn_attrs(name, &attrs, pos);
        if dropped_with_content(name) {
            self.diags.warning(
                self.file,
                pos,
                format!("HTML <{name}> is not allowed in a book: it is left out with its content"),
            );
            if !self_closing && !html::is_void(name) {
                self.dropping = Some((name.to_string(), 1));
            }
            return;
        }
        if dropped_void(name) {
            return;
        }
        // An `id` makes any element a link target in HTML; mdBook books
        // mark terms so (`*<span id="unit-only-enum">unit-only enum</span>*`
        // in the Rust Reference). Block elements' ids are not kept: an anchor
        // is an inline, and one there would open an empty paragraph.
        let anchor = match name {
            "a" => attr(&attrs, "id").or(attr(&attrs, "name")),
            "span" => attr(&attrs, "id"),
            _ if matches!(self.stack.last(), Some(Frame::Inlines(..))) => attr(&attrs, "id"),
            _ => None,
        };
        if let Some(id) = anchor {
            self.html_anchor(id, pos);
        }
        // An element that opens a run of text keeps its id as an anchor at
        // the start of that text: the Cargo Book's option lists link to
        // `<dt id="option-cargo-build--p">` (some 900 links).
        let opens_text = matches!(name, "p" | "dt" | "summary" | "figcaption");
        let text_id = attr(&attrs, "id").filter(|_| opens_text && anchor.is_none());
        let depth = self.stack.len();
        self.html_open(name, &attrs, pos);
        if let Some(id) = text_id
            && self.stack.len() > depth
            && matches!(self.stack.last(), Some(Frame::Inlines(..)))
        {
            self.html_anchor(id, pos);
        }
    }

    /// What a start tag opens or adds, by its name.
    fn html_open(&mut self, name: &str, attrs: &[(String, String)], pos: Pos) {
        match name {
            "br" => {
                if matches!(self.stack.last(), Some(Frame::Inlines(..))) {
                    self.push_inline(Inline::HardBreak);
                }
            }
            "hr" => {
                if self.html_block_level() {
                    self.push_block(Block::Rule);
                }
            }
            "img" => self.html_img(attrs, pos),
            "input" => {
                // A task-list checkbox (`<input type="checkbox" checked>`) reads as its state.
                if attr(attrs, "type").is_some_and(|t| t.eq_ignore_ascii_case("checkbox")) {
                    let done = attr(attrs, "checked").is_some();
                    self.push_inline(Inline::Text(if done { "☑ " } else { "☐ " }.into()));
                } else {
                    self.diags.warning(
                        self.file,
                        pos,
                        "HTML <input> is not allowed in a book: it is left out",
                    );
                }
            }
            "a" => {
                self.warn_inert_a(attrs, pos);
                if let Some(href) = attr(attrs, "href") {
                    // An `a` inside an `a` closes the first, as in browsers.
                    if let Some(i) = self.open_html(&["a"]) {
                        self.close_html_to(i);
                    }
                    let frame = Frame::Inlines(
                        InlineCtx::Link {
                            href: href.to_string(),
                            title: attr(attrs, "title").unwrap_or("").to_string(),
                            email: false,
                            pos,
                        },
                        Vec::new(),
                    );
                    self.html_inline_frame(frame, name, pos);
                }
            }
            "em" | "i" | "var" => {
                self.html_inline_frame(Frame::Inlines(InlineCtx::Emphasis, Vec::new()), name, pos)
            }
            "strong" | "b" => {
                self.html_inline_frame(Frame::Inlines(InlineCtx::Strong, Vec::new()), name, pos)
            }
            "s" | "del" | "strike" => {
                self.html_inline_frame(Frame::Inlines(InlineCtx::Strike, Vec::new()), name, pos)
            }
            "sup" => self.html_inline_frame(Frame::Inlines(InlineCtx::Sup, Vec::new()), name, pos),
            "sub" => self.html_inline_frame(Frame::Inlines(InlineCtx::Sub, Vec::new()), name, pos),
            "u" | "ins" => {
                self.html_inline_frame(Frame::Inlines(InlineCtx::Underline, Vec::new()), name, pos)
            }
            "mark" => {
                self.html_inline_frame(Frame::Inlines(InlineCtx::Mark, Vec::new()), name, pos)
            }
            "kbd" => self.html_inline_frame(Frame::Inlines(InlineCtx::Kbd, Vec::new()), name, pos),
            "code" | "tt" => {
                self.html_inline_frame(Frame::Inlines(InlineCtx::Code, Vec::new()), name, pos)
            }
            "q" => self.html_inline_frame(Frame::Inlines(InlineCtx::Quoted, Vec::new()), name, pos),
            "p" => {
                if let Some(i) = self.open_html(&["p"]) {
                    self.close_html_to(i);
                }
                if self.html_block_level() {
                    let frame =
                        Frame::Inlines(InlineCtx::Paragraph { implicit: false }, Vec::new());
                    self.push_html(frame, name, pos);
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                if self.html_block_level() {
                    let level = name.as_bytes()[1] - b'0';
                    let frame = Frame::Inlines(
                        InlineCtx::Heading {
                            level,
                            id: attr(attrs, "id").map(str::to_string),
                            pos,
                        },
                        Vec::new(),
                    );
                    self.push_html(frame, name, pos);
                }
            }
            "blockquote" => self.html_block_frame(BlockCtx::Quote, name, pos),
            "figure" => self.html_block_frame(BlockCtx::Figure(None), name, pos),
            "details" => self.html_block_frame(BlockCtx::Details(None), name, pos),
            "dd" => {
                if let Some(i) = self.open_html(&["dd", "dt"]) {
                    self.close_html_to(i);
                }
                self.html_block_frame(BlockCtx::Definition, name, pos)
            }
            "summary" | "figcaption" | "dt" => {
                if name == "dt"
                    && let Some(i) = self.open_html(&["dd", "dt"])
                {
                    self.close_html_to(i);
                }
                if self.html_block_level() {
                    let ctx = match name {
                        "summary" => InlineCtx::Summary,
                        "figcaption" => InlineCtx::Caption,
                        _ => InlineCtx::Term,
                    };
                    self.push_html(Frame::Inlines(ctx, Vec::new()), name, pos);
                }
            }
            "pre" => {
                if self.html_block_level() {
                    self.push_html(Frame::Code(None, String::new(), pos), name, pos);
                }
            }
            "ul" | "ol" | "menu" => {
                if self.html_block_level() {
                    let start = (name == "ol").then(|| {
                        attr(attrs, "start")
                            .and_then(|s| s.trim().parse::<u64>().ok())
                            .unwrap_or(1)
                    });
                    self.push_html(Frame::List(start, Vec::new()), name, pos);
                }
            }
            "li" if self.in_inline_container() => {
                self.inline_break();
                self.push_inline(Inline::Text("• ".into()));
            }
            "li" => {
                if let Some(i) = self.open_html(&["li"]) {
                    self.close_html_to(i);
                }
                self.close_open_inlines();
                if matches!(self.stack.last(), Some(Frame::List(..))) {
                    self.push_html(Frame::Blocks(BlockCtx::Item(None), Vec::new()), name, pos);
                }
            }
            "table" if self.in_inline_container() => {
                // A table inside a cell: its cells follow one another in this one.
                if let Some(t) = self.html_tables.last_mut() {
                    t.nested += 1;
                }
                self.inline_break();
            }
            "table" => {
                if self.html_block_level()
                    && self.push_html(
                        Frame::Table {
                            align: Vec::new(),
                            head: Vec::new(),
                            rows: Vec::new(),
                            row: Vec::new(),
                            pos,
                        },
                        name,
                        pos,
                    )
                {
                    self.html_tables.push(HtmlTable::default());
                }
            }
            "caption" => {
                if matches!(self.stack.last(), Some(Frame::Table { .. })) && self.top_is_html() {
                    self.push_html(
                        Frame::Inlines(InlineCtx::TableCaption, Vec::new()),
                        name,
                        pos,
                    );
                }
            }
            "thead" | "tbody" | "tfoot" | "tr" | "th" | "td"
                if self.html_tables.last().is_some_and(|t| t.nested > 0) =>
            {
                match name {
                    "tr" => self.inline_break(),
                    "th" | "td" => self.push_inline(Inline::Text(" ".into())),
                    _ => {}
                }
            }
            "thead" | "tbody" | "tfoot" | "tr" => self.html_table_part(name, true),
            "th" | "td" => {
                if let Some(i) = self.open_html(&["th", "td"]) {
                    self.close_html_to(i);
                }
                if matches!(self.stack.last(), Some(Frame::Table { .. })) && self.top_is_html() {
                    let colspan = attr(attrs, "colspan")
                        .and_then(|c| c.trim().parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, 64);
                    if let (Some(t), Some(Frame::Table { row, align, .. })) =
                        (self.html_tables.last_mut(), self.stack.last_mut())
                    {
                        if row.is_empty() {
                            t.row_all_th = true;
                        }
                        // Column alignment from the first row that gives one.
                        let col = row.len();
                        let a = match attr(attrs, "align").map(str::to_ascii_lowercase).as_deref() {
                            Some("left") => Align::Left,
                            Some("center") => Align::Center,
                            Some("right") => Align::Right,
                            _ => Align::None,
                        };
                        if align.len() <= col {
                            align.resize(col + 1, Align::None);
                        }
                        if align[col] == Align::None {
                            align[col] = a;
                        }
                    }
                    let frame = Frame::Inlines(
                        InlineCtx::HtmlCell {
                            header: name == "th",
                            colspan,
                        },
                        Vec::new(),
                    );
                    self.push_html(frame, name, pos);
                }
            }
            n if transparent_block(n) => {
                if self.html_block_level() {
                    self.html_block_frame(BlockCtx::Transparent, n, pos);
                }
            }
            "span" => self.caption_span_start(attrs),
            n if transparent_inline(n) => {}
            n => {
                self.diags.warning(
                    self.file,
                    pos,
                    format!("HTML <{n}> is not rendered: its content is kept as text"),
                );
            }
        }
    }

    /// `<a>` with neither `href` nor `id`/`name`: no link, no anchor.
    fn warn_inert_a(&mut self, attrs: &[(String, String)], pos: Pos) {
        if attr(attrs, "href").is_none() && attr(attrs, "id").or(attr(attrs, "name")).is_none() {
            self.diags.warning(
                self.file,
                pos,
                "HTML <a> without href, id or name links nowhere: its content is kept as text",
            );
        }
    }

    fn html_anchor(&mut self, id: &str, pos: Pos) {
        let id = id.trim();
        if id.is_empty() {
            return;
        }
        if !self.ids.claim(id) {
            self.diags.warning(
                self.file,
                pos,
                format!("HTML anchor '{id}' repeats an id already used in this module: the first one is kept"),
            );
            return;
        }
        self.anchors.push(id.to_string());
        self.push_inline(Inline::Anchor(id.to_string()));
    }

    /// `</figure>`: the figure inside takes the caption; anything else stays as it was.
    pub(super) fn end_html_figure(&mut self, mut blocks: Vec<Block>, caption: Option<Vec<Inline>>) {
        let figures = blocks
            .iter()
            .filter(|b| matches!(b, Block::Figure { .. }))
            .count();
        match caption {
            Some(c) if figures == 1 => {
                for b in &mut blocks {
                    if let Block::Figure { caption, .. } = b {
                        *caption = c;
                        break;
                    }
                }
            }
            Some(c) if !c.is_empty() => blocks.push(Block::Paragraph(c)),
            _ => {}
        }
        for b in blocks {
            self.push_block(b);
        }
    }

    fn html_inline_frame(&mut self, frame: Frame, name: &str, pos: Pos) {
        // Like Markdown inlines: text straight in a container gets a paragraph.
        if matches!(self.stack.last(), Some(Frame::Blocks(..))) {
            self.push_inline(Inline::Text(String::new()));
        }
        if matches!(self.stack.last(), Some(Frame::Inlines(..))) {
            self.push_html(frame, name, pos);
        }
    }

    fn html_block_frame(&mut self, ctx: BlockCtx, name: &str, pos: Pos) {
        if self.html_block_level() {
            self.push_html(Frame::Blocks(ctx, Vec::new()), name, pos);
        }
    }

    /// `thead`, `tbody`, `tfoot`, `tr`, start or end: rows are flushed on each.
    fn html_table_part(&mut self, name: &str, start: bool) {
        let Some(i) = self.open_html(&["table"]) else {
            return;
        };
        self.close_html_to(i + 1);
        let (
            Some(t),
            Some(Frame::Table {
                head, rows, row, ..
            }),
        ) = (self.html_tables.last_mut(), self.stack.last_mut())
        else {
            return;
        };
        if !row.is_empty() {
            let r = std::mem::take(row);
            if head.is_empty() && rows.is_empty() && (t.in_head || t.row_all_th) {
                *head = r;
            } else {
                rows.push(r);
            }
        }
        match (name, start) {
            ("thead", true) => t.in_head = true,
            ("thead", false) | ("tbody", _) | ("tfoot", _) => t.in_head = false,
            _ => {}
        }
    }

    fn html_img(&mut self, attrs: &[(String, String)], pos: Pos) {
        let Some(src) = attr(attrs, "src").map(str::trim).filter(|s| !s.is_empty()) else {
            self.diags
                .warning(self.file, pos, "HTML <img> without a src is left out");
            return;
        };
        // A script URL is unsafe, not a missing image: left out with a warning, not refused.
        let lower = src.to_ascii_lowercase();
        if ["javascript:", "vbscript:", "data:text"]
            .iter()
            .any(|s| lower.starts_with(s))
        {
            self.diags
                .warning(self.file, pos, "HTML <img> with a script URL is left out");
            return;
        }
        let alt = attr(attrs, "alt").unwrap_or("").trim().to_string();
        if alt.is_empty() {
            self.diags.warning(
                self.file,
                pos,
                format!("image '{src}' has no alt text: describe it in alt=\"…\""),
            );
        }
        let Some(image) = self.resolver.image(src, pos, self.diags) else {
            return;
        };
        let inline = Inline::Image {
            image,
            alt,
            title: attr(attrs, "title").unwrap_or("").to_string(),
            width: pixels(attr(attrs, "width")),
            pos,
        };
        self.push_inline(inline);
    }

    fn html_end(&mut self, name: &str) {
        if name == "span" {
            self.caption_span_end();
        }
        if let Some(t) = self.html_tables.last_mut()
            && t.nested > 0
            && matches!(
                name,
                "table" | "thead" | "tbody" | "tfoot" | "tr" | "th" | "td"
            )
        {
            if name == "table" {
                t.nested -= 1;
            }
            return;
        }
        if matches!(name, "p" | "div" | "li") && self.in_inline_container() {
            self.inline_break();
            return;
        }
        let names: &[&str] = match name {
            "i" | "em" | "var" => &["i", "em", "var"],
            "b" | "strong" => &["b", "strong"],
            "s" | "del" | "strike" => &["s", "del", "strike"],
            "u" | "ins" => &["u", "ins"],
            "code" | "tt" => &["code", "tt"],
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => &["h1", "h2", "h3", "h4", "h5", "h6"],
            "ul" | "ol" | "menu" => &["ul", "ol", "menu"],
            "thead" | "tbody" | "tfoot" | "tr" => {
                self.html_table_part(name, false);
                return;
            }
            "table" => {
                self.html_table_part(name, false);
                &["table"]
            }
            _ => std::slice::from_ref(&name),
        };
        if let Some(i) = self.open_html(names) {
            self.close_html_to(i);
        }
    }
}

impl Builder<'_, '_> {
    /// `<span class="caption">` as the first thing in a paragraph right
    /// after a figure: remember where its inlines start.
    fn caption_span_start(&mut self, attrs: &[(String, String)]) {
        if let Some(c) = self.caption_span.as_mut()
            && c.end.is_none()
        {
            c.nested += 1;
            return;
        }
        let is_caption = attr(attrs, "class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|w| w == "caption"));
        let after_figure = matches!(
            self.stack.iter().rev().nth(1),
            Some(Frame::Blocks(_, blocks)) if matches!(blocks.last(), Some(Block::Figure { .. }))
        );
        if let (true, true, Some(Frame::Inlines(InlineCtx::Paragraph { .. }, v))) = (
            is_caption && !self.span_captioned,
            after_figure,
            self.stack.last(),
        ) && super::significant(v).is_empty()
        {
            self.caption_span = Some(super::CaptionSpan {
                start: v.len(),
                end: None,
                nested: 0,
            });
        }
    }

    fn caption_span_end(&mut self) {
        let len = match self.stack.last() {
            Some(Frame::Inlines(InlineCtx::Paragraph { .. }, v)) => Some(v.len()),
            _ => None,
        };
        if let Some(c) = self.caption_span.as_mut()
            && c.end.is_none()
        {
            if c.nested > 0 {
                c.nested -= 1;
            } else if let Some(len) = len {
                c.end = Some(len);
            } else {
                self.caption_span = None;
            }
        }
    }
}

/// Where a start or end tag begins that the piece never finishes (no `>`
/// after its `<`, outside quoted attribute values).
fn unfinished_tag(raw: &str) -> Option<usize> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    let mut open: Option<usize> = None;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match (open, quote) {
            (Some(_), Some(q)) => {
                if b == q {
                    quote = None;
                }
            }
            (Some(_), None) => match b {
                b'"' | b'\'' => quote = Some(b),
                b'>' => open = None,
                _ => {}
            },
            (None, _) => {
                if bytes[i..].starts_with(b"<!--") {
                    // Comments end at `-->`; an unfinished one is the tokenizer's to drop.
                    match bytes[i + 4..].windows(3).position(|w| w == b"-->") {
                        Some(end) => {
                            i += 4 + end + 3;
                            continue;
                        }
                        None => return None,
                    }
                }
                if b == b'<'
                    && bytes
                        .get(i + 1)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'/')
                {
                    open = Some(i);
                }
            }
        }
        i += 1;
    }
    open
}

#[cfg(test)]
mod tests {
    use super::unfinished_tag;

    #[test]
    fn finds_unfinished_tags() {
        assert_eq!(unfinished_tag("<div id=\"foo\"\n*hi*\n"), Some(0));
        assert_eq!(unfinished_tag("<p>ok</p> <a href='x>y'"), Some(10));
        assert_eq!(unfinished_tag("<a title='>'>x</a>"), None);
        assert_eq!(unfinished_tag("<!-- <b --> fine"), None);
        assert_eq!(unfinished_tag("a < b and c<3"), None);
        assert_eq!(unfinished_tag("é<!-- ü --> ö <b"), Some(17));
    }
}
