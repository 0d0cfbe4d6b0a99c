//! Titles for files that have no `title:` in front matter: the leading `# Heading`
//! of the body (which is then the title, not part of the body), else the file name.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// A level-1 heading that opens a body (after blank lines and HTML comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leading<'a> {
    /// 1 for `#`, 2 for `##`...
    pub level: u8,
    /// The heading as plain text (emphasis and code marks dropped, as mdBook does).
    pub title: String,
    /// The body after the heading's last line.
    pub rest: &'a str,
    /// How many lines of the body the heading (and what came before it) took.
    pub lines: u32,
}

/// The body's leading level-1 heading (ATX `# T` or setext `T` + `===`), if it has one.
pub fn leading_heading(body: &str) -> Option<Leading<'_>> {
    first_heading(body).filter(|l| l.level == 1)
}

/// The heading (of any level) a body opens with, if it opens with one.
pub fn first_heading(body: &str) -> Option<Leading<'_>> {
    let mut events = Parser::new_ext(body, crate::parse::markdown::options()).into_offset_iter();
    let (level, end) = loop {
        match events.next()? {
            // Comments (and other HTML blocks that are only comments) may come first.
            (Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock), _) => {}
            (Event::Html(h), _) if is_comment(&h) => {}
            (Event::Start(Tag::Heading { level, .. }), range) => break (level, range.end),
            _ => return None,
        }
    };
    let mut title = String::new();
    for (ev, _) in events.by_ref() {
        match ev {
            Event::End(TagEnd::Heading(_)) => break,
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) => title.push_str(&t),
            Event::SoftBreak | Event::HardBreak => title.push(' '),
            _ => {}
        }
    }
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        return None;
    }
    // The heading's range may stop before its line break: the body starts on the next line.
    let mut end = end.min(body.len());
    if end > 0 && body.as_bytes()[end - 1] != b'\n' {
        end = body[end..].find('\n').map_or(body.len(), |i| end + i + 1);
    }
    let lines = body[..end].bytes().filter(|&b| b == b'\n').count();
    Some(Leading {
        level: level as u8,
        title,
        rest: &body[end..],
        lines: u32::try_from(lines).unwrap_or(u32::MAX),
    })
}

fn is_comment(html: &str) -> bool {
    let t = html.trim();
    t.is_empty() || (t.starts_with("<!--") && t.ends_with("-->"))
}

/// `"getting-started"` → `"Getting Started"`: a file name as a title.
pub fn from_slug(slug: &str) -> String {
    slug.split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atx_heading_is_the_title_and_leaves_the_body() {
        let l = leading_heading("\n# The `Option` *Enum*\n\nBody.\n").unwrap();
        assert_eq!(l.title, "The Option Enum");
        assert_eq!(l.rest, "\nBody.\n");
        assert_eq!(l.lines, 2);
    }

    #[test]
    fn setext_heading_and_comments_before_it() {
        let l = leading_heading("<!-- note -->\n\nTitle here\n==========\nBody\n").unwrap();
        assert_eq!(l.title, "Title here");
        assert_eq!(l.rest, "Body\n");
        assert_eq!(l.lines, 4);
    }

    #[test]
    fn heading_without_newline_and_with_an_id() {
        let l = leading_heading("# Intro {#start}").unwrap();
        assert_eq!(l.title, "Intro");
        assert_eq!(l.rest, "");
        assert_eq!(l.lines, 0);
    }

    #[test]
    fn no_leading_h1() {
        assert_eq!(leading_heading("Text first\n\n# Later\n"), None);
        assert_eq!(leading_heading("## Second level\n"), None);
        assert_eq!(leading_heading("<div>x</div>\n\n# T\n"), None);
        assert_eq!(leading_heading(""), None);
        assert_eq!(leading_heading("#\n\nBody"), None);
    }

    #[test]
    fn slugs_as_words() {
        assert_eq!(from_slug("getting-started"), "Getting Started");
        assert_eq!(from_slug("ch04_01-ownership"), "Ch04 01 Ownership");
        assert_eq!(from_slug("été"), "Été");
    }
}
