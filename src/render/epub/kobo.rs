//! The Kobo file (`<book>.kepub.epub`): the EPUB's pages with every sentence
//! in a `<span class="koboSpan" id="kobo.N.M">` (paragraph N, sentence M), as
//! Kobo's own KEPUBs and kepubify (github.com/pgaskin/kepubify, its
//! `kepub/transform.go`) have them: Kobo readers need these spans for reading
//! statistics, highlights and keeping their place. Everything else is the
//! EPUB's own bytes. The rules, as kepubify applies them:
//! - a sentence ends after a run of `.`, `!` or `?` and at most one closing
//!   quote or ellipsis, at the whitespace that follows (which it keeps);
//! - a text node that is only whitespace is wrapped only directly under `<p>`;
//! - the paragraph number goes up at the first sentence after a `p`, `ol`,
//!   `ul`, `table` or `h1`–`h6` opens, and at every `img` (wrapped in a span
//!   of its own);
//! - nothing inside `script`, `style`, `pre`, `audio`, `video`, `svg` or
//!   `math` is touched;
//! - the body's content goes inside `div#book-columns > div#book-inner`, and
//!   the head gets kepubify's one style rule for them.
//!
//! The pages are Quire's own well-formed XHTML, so a small scanner does: tags
//! are copied as written, text is decoded, split and escaped again.

use std::collections::BTreeMap;

use super::xhtml::escape;

/// Elements whose content keeps its text as it is.
const KEEP: [&str; 7] = ["script", "style", "pre", "audio", "video", "svg", "math"];
/// Elements that start a new Kobo paragraph (at their first sentence).
const PARAGRAPHS: [&str; 10] = ["p", "ol", "ul", "table", "h1", "h2", "h3", "h4", "h5", "h6"];

const STYLE: &str = "<style type=\"text/css\" class=\"kobostylehacks\">div#book-inner { margin-top: 0; margin-bottom: 0;}</style>\n";

/// The files of a KEPUB: `files` (an EPUB's, by zip path) with each page in
/// `pages` (zip paths of the spine's XHTML) transformed.
pub fn kepub_files(
    files: &BTreeMap<String, Vec<u8>>,
    pages: &[String],
) -> BTreeMap<String, Vec<u8>> {
    let mut out = files.clone();
    for name in pages {
        if let Some(bytes) = files.get(name) {
            let text = String::from_utf8_lossy(bytes);
            out.insert(name.clone(), transform(&text).into_bytes());
        }
    }
    out
}

/// One XHTML page with Kobo's spans, wrappers and style.
pub fn transform(page: &str) -> String {
    let mut out = String::with_capacity(page.len() + page.len() / 2);
    let Some(body_at) = find_tag(page, "body", 0) else {
        return page.to_string();
    };
    let head = &page[..body_at];
    match head.rfind("</head>") {
        Some(h) => {
            out.push_str(&head[..h]);
            out.push_str(STYLE);
            out.push_str(&head[h..]);
        }
        None => out.push_str(head),
    }
    let Some(open_end) = tag_end(page, body_at) else {
        return page.to_string();
    };
    out.push_str(&page[body_at..open_end]);
    let close = page.rfind("</body>").unwrap_or(page.len()).max(open_end);
    out.push_str("<div id=\"book-columns\"><div id=\"book-inner\">");
    Spans::default().body(&page[open_end..close], &mut out);
    out.push_str("</div></div>");
    out.push_str(&page[close..]);
    out
}

/// Where the start tag `<name` is (at or after `from`).
fn find_tag(s: &str, name: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = s[at..].find('<') {
        let i = at + i;
        let rest = &s[i + 1..];
        if rest.starts_with(name)
            && rest[name.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace())
        {
            return Some(i);
        }
        at = i + 1;
    }
    None
}

/// The end (after `>`) of the markup starting at `at` (`<`): a tag (quotes
/// respected), a comment, a CDATA section or a processing instruction.
fn tag_end(s: &str, at: usize) -> Option<usize> {
    let rest = &s[at..];
    for (open, close) in [("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")] {
        if rest.starts_with(open) {
            return rest.find(close).map(|i| at + i + close.len());
        }
    }
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(at + i + 1),
            _ => {}
        }
    }
    None
}

#[derive(Default)]
struct Spans {
    para: u32,
    seg: u32,
    next_para: bool,
}

impl Spans {
    fn open(&mut self) -> String {
        if self.next_para {
            self.para += 1;
            self.seg = 0;
            self.next_para = false;
        }
        self.seg += 1;
        format!(
            "<span class=\"koboSpan\" id=\"kobo.{}.{}\">",
            self.para, self.seg
        )
    }

    /// The body's content with spans added.
    fn body(&mut self, s: &str, out: &mut String) {
        // Open elements (local names); inside a KEEP element, its depth.
        let mut stack: Vec<String> = Vec::new();
        let mut keep: Option<usize> = None;
        let mut at = 0;
        while at < s.len() {
            let Some(lt) = s[at..].find('<').map(|i| at + i) else {
                self.text(
                    &s[at..],
                    stack.last().map(String::as_str),
                    keep.is_some(),
                    out,
                );
                break;
            };
            if lt > at {
                self.text(
                    &s[at..lt],
                    stack.last().map(String::as_str),
                    keep.is_some(),
                    out,
                );
            }
            let end = tag_end(s, lt).unwrap_or(s.len());
            let tag = &s[lt..end];
            at = end;
            if tag.starts_with("<!") || tag.starts_with("<?") {
                out.push_str(tag);
                continue;
            }
            if let Some(name) = tag.strip_prefix("</") {
                let name = local(name.trim_end_matches('>').trim());
                if let Some(i) = stack.iter().rposition(|n| n == name) {
                    stack.truncate(i);
                }
                if keep.is_some_and(|d| stack.len() <= d) {
                    keep = None;
                }
                out.push_str(tag);
                continue;
            }
            let name = local(
                tag[1..]
                    .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
                    .next()
                    .unwrap_or(""),
            )
            .to_string();
            let empty = tag.ends_with("/>");
            if keep.is_none() && name == "img" {
                self.para += 1;
                self.seg = 0;
                self.next_para = false;
                out.push_str(&self.open());
                out.push_str(tag);
                if !empty {
                    stack.push(name);
                } else {
                    out.push_str("</span>");
                }
                continue;
            }
            out.push_str(tag);
            if keep.is_none() {
                if KEEP.contains(&name.as_str()) {
                    keep = Some(stack.len());
                } else if PARAGRAPHS.contains(&name.as_str()) {
                    self.next_para = true;
                }
            }
            if !empty {
                stack.push(name);
            }
        }
    }

    fn text(&mut self, raw: &str, parent: Option<&str>, keep: bool, out: &mut String) {
        if keep {
            out.push_str(raw);
            return;
        }
        let text = unescape(raw);
        for sentence in sentences(&text) {
            if sentence.chars().all(char::is_whitespace) && parent != Some("p") {
                out.push_str(&escape(sentence));
            } else {
                out.push_str(&self.open());
                out.push_str(&escape(sentence));
                out.push_str("</span>");
            }
        }
    }
}

/// `svg:text` → `text`; lower case, as HTML parsers see element names.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Text content with its character references decoded (an unknown one is kept).
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').and_then(|j| {
            let name = &rest[1..j];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, j + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits text into Kobo's sentences (see the module comment); the pieces
/// joined give the text back.
pub fn sentences(s: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum State {
        In,
        Punct,
        PunctExtra,
        Space,
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut state = State::In;
    for (i, c) in s.char_indices() {
        let punct = matches!(c, '.' | '!' | '?');
        let extra = matches!(
            c,
            '\'' | '"' | '\u{201d}' | '\u{2019}' | '\u{201c}' | '\u{2026}'
        );
        // ASCII whitespace only, as kepubify's `\s`.
        let space = matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ');
        if state == State::Space && !space {
            out.push(&s[start..i]);
            start = i;
        }
        state = match (state, punct, extra, space) {
            (_, true, _, _) => State::Punct,
            (State::Punct, _, true, _) => State::PunctExtra,
            (State::Punct | State::PunctExtra | State::Space, _, _, true) => State::Space,
            _ => State::In,
        };
    }
    if start < s.len() || out.is_empty() {
        out.push(&s[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(body: &str) -> String {
        let mut out = String::new();
        Spans::default().body(body, &mut out);
        out
    }

    #[test]
    fn sentences_end_at_the_space_after_their_stop() {
        assert_eq!(
            sentences("Sentence 1. Sentence 2.  Sentence 3."),
            ["Sentence 1. ", "Sentence 2.  ", "Sentence 3."]
        );
        assert_eq!(
            sentences("He said “stop.” Then"),
            ["He said “stop.” ", "Then"]
        );
        // Two closing marks: no end (as kepubify).
        assert_eq!(sentences("a.\"' b"), ["a.\"' b"]);
        assert_eq!(sentences("3.5 GB e.g.x"), ["3.5 GB e.g.x"]);
        assert_eq!(sentences(""), [""]);
        assert_eq!(sentences("  "), ["  "]);
        assert_eq!(
            sentences("Wait... what?! Yes"),
            ["Wait... ", "what?! ", "Yes"]
        );
    }

    #[test]
    fn paragraphs_and_sentences_are_numbered_as_kepubify_does() {
        // kepubify's own test cases (transform_test.go), our serialisation.
        assert_eq!(
            spans(
                "<p>Sentence 1. Sentence 2.</p><p>Sentence 3.</p><ul><li>Sentence 4</li><li>Sentence 5</li></ul>"
            ),
            "<p><span class=\"koboSpan\" id=\"kobo.1.1\">Sentence 1. </span><span class=\"koboSpan\" id=\"kobo.1.2\">Sentence 2.</span></p><p><span class=\"koboSpan\" id=\"kobo.2.1\">Sentence 3.</span></p><ul><li><span class=\"koboSpan\" id=\"kobo.3.1\">Sentence 4</span></li><li><span class=\"koboSpan\" id=\"kobo.3.2\">Sentence 5</span></li></ul>"
        );
        assert_eq!(
            spans("<p>One.</p><img src=\"test\"/><p>Three.</p>"),
            "<p><span class=\"koboSpan\" id=\"kobo.1.1\">One.</span></p><span class=\"koboSpan\" id=\"kobo.2.1\"><img src=\"test\"/></span><p><span class=\"koboSpan\" id=\"kobo.3.1\">Three.</span></p>"
        );
        assert_eq!(
            spans(
                "<p>Touch this.</p><pre>not this</pre><math><mi>x</mi></math><p> </p>\n<div> <span> </span></div>"
            ),
            "<p><span class=\"koboSpan\" id=\"kobo.1.1\">Touch this.</span></p><pre>not this</pre><math><mi>x</mi></math><p><span class=\"koboSpan\" id=\"kobo.2.1\"> </span></p>\n<div> <span> </span></div>"
        );
        assert_eq!(
            spans("<p>Sentence<b> 1. Sente<i>nce <span>2. Se</span>nt</i></b></p>"),
            "<p><span class=\"koboSpan\" id=\"kobo.1.1\">Sentence</span><b><span class=\"koboSpan\" id=\"kobo.1.2\"> 1. </span><span class=\"koboSpan\" id=\"kobo.1.3\">Sente</span><i><span class=\"koboSpan\" id=\"kobo.1.4\">nce </span><span><span class=\"koboSpan\" id=\"kobo.1.5\">2. </span><span class=\"koboSpan\" id=\"kobo.1.6\">Se</span></span><span class=\"koboSpan\" id=\"kobo.1.7\">nt</span></i></b></p>"
        );
    }

    #[test]
    fn text_is_escaped_again_and_pages_are_wrapped() {
        let page = "<?xml version=\"1.0\"?>\n<html><head><title>T</title></head>\n<body epub:type=\"bodymatter\">\n<p>a &amp; b &lt;c&gt;. D</p>\n</body>\n</html>\n";
        assert_eq!(
            transform(page),
            format!(
                "<?xml version=\"1.0\"?>\n<html><head><title>T</title>{STYLE}</head>\n<body epub:type=\"bodymatter\"><div id=\"book-columns\"><div id=\"book-inner\">\n<p><span class=\"koboSpan\" id=\"kobo.1.1\">a &amp; b &lt;c&gt;. </span><span class=\"koboSpan\" id=\"kobo.1.2\">D</span></p>\n</div></div></body>\n</html>\n"
            )
        );
    }
}
