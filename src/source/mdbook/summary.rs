//! `SUMMARY.md` read the way mdBook reads it (mdbook-summary 0.5's grammar):
//! an optional `# Title`, prefix chapters (links before the first list),
//! `# Part` headings each followed by nested lists of numbered chapters,
//! then suffix chapters (links in paragraphs after the lists); `---` rules are
//! separators; `[Name]()` is a draft chapter (no file).
//!
//! Nested chapters are returned flat, in reading order, with their depth: the
//! book model has parts and modules, and sub-chapters become modules of the
//! same part. The walk is one loop over pulldown-cmark events (no recursion).

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use crate::model::Pos;
use crate::source::text::LineMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A `# Part title` heading in the numbered section.
    Part {
        title: String,
        pos: Pos,
    },
    Chapter(Chapter),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// The link text, as plain text.
    pub name: String,
    /// The link target relative to `src/` (`%20` decoded); `None` for a draft.
    pub location: Option<String>,
    /// 0 for prefix and suffix chapters, 1 for top-level numbered ones, 2 for their children...
    pub depth: usize,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// The leading `# Summary` heading (mdBook ignores it too).
    pub title: Option<String>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryError {
    pub pos: Pos,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Prefix,
    Numbered,
    Suffix,
}

pub fn parse(text: &str) -> Result<Summary, SummaryError> {
    let map = LineMap::new(text);
    let at = |offset: usize| map.pos(offset, text);
    let err = |offset: usize, message: &str| SummaryError {
        pos: at(offset),
        message: message.to_string(),
    };
    // mdBook parses SUMMARY.md with no extensions.
    let mut events = Parser::new(text).into_offset_iter().peekable();
    let mut summary = Summary::default();

    // The title: the first thing after any HTML (comments).
    while let Some((ev, _)) = events.peek() {
        match ev {
            Event::Html(_)
            | Event::InlineHtml(_)
            | Event::Start(Tag::HtmlBlock)
            | Event::End(TagEnd::HtmlBlock) => {
                events.next();
            }
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) => {
                events.next();
                summary.title = Some(plain_text(&mut events, Stop::Heading));
                break;
            }
            _ => break,
        }
    }

    let mut stage = Stage::Prefix;
    let mut depth = 0usize;
    // Inside a list item whose link has not come yet (the item's start offset).
    let mut item_open: Option<usize> = None;
    // A part heading was seen and its first list has not started yet.
    let mut after_part_title = false;
    while let Some((ev, range)) = events.next() {
        if let Some(start) = item_open {
            match &ev {
                Event::Start(Tag::Paragraph) => continue,
                Event::Start(Tag::Link { .. }) => {}
                _ => {
                    return Err(err(
                        range.start.max(start),
                        "the link items for nested chapters must only contain a hyperlink",
                    ));
                }
            }
        }
        match ev {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) => {
                if stage == Stage::Suffix {
                    return Err(err(
                        range.start,
                        "suffix chapters cannot be followed by a part or a list",
                    ));
                }
                stage = Stage::Numbered;
                after_part_title = true;
                let title = plain_text(&mut events, Stop::Heading);
                summary.items.push(Item::Part {
                    title,
                    pos: at(range.start),
                });
            }
            Event::Start(Tag::List(_)) => {
                if stage == Stage::Suffix && depth == 0 {
                    return Err(err(
                        range.start,
                        "suffix chapters cannot be followed by a part or a list",
                    ));
                }
                stage = Stage::Numbered;
                after_part_title = false;
                depth += 1;
            }
            Event::End(TagEnd::List(_)) => depth = depth.saturating_sub(1),
            Event::Start(Tag::Item) => item_open = Some(range.start),
            Event::Start(Tag::Paragraph) if depth == 0 && stage == Stage::Numbered => {
                if after_part_title {
                    // mdBook skips a paragraph between a part title and its list.
                    skip_to_paragraph_end(&mut events);
                } else {
                    stage = Stage::Suffix;
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                let name = plain_text(&mut events, Stop::Link);
                let location =
                    (!dest_url.is_empty()).then(|| dest_url.replace("%20", " ").to_string());
                if depth > 0 {
                    // Only an item's first link is a chapter; later ones are ignored.
                    if item_open.take().is_none() {
                        continue;
                    }
                }
                summary.items.push(Item::Chapter(Chapter {
                    name,
                    location,
                    depth,
                    pos: at(range.start),
                }));
            }
            _ => {}
        }
    }
    Ok(summary)
}

#[derive(Clone, Copy)]
enum Stop {
    Heading,
    Link,
}

/// Text of the events up to the end of the current heading or link, styling
/// dropped (as mdBook's `stringify_events`).
fn plain_text<'a>(
    events: &mut impl Iterator<Item = (Event<'a>, std::ops::Range<usize>)>,
    stop: Stop,
) -> String {
    let mut out = String::new();
    for (ev, _) in events.by_ref() {
        match (ev, stop) {
            (Event::End(TagEnd::Heading(_)), Stop::Heading)
            | (Event::End(TagEnd::Link), Stop::Link) => {
                break;
            }
            (Event::Text(t) | Event::Code(t), _) => out.push_str(&t),
            (Event::SoftBreak, _) => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_string()
}

fn skip_to_paragraph_end<'a>(
    events: &mut impl Iterator<Item = (Event<'a>, std::ops::Range<usize>)>,
) {
    for (ev, _) in events.by_ref() {
        if ev == Event::End(TagEnd::Paragraph) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chapters(s: &Summary) -> Vec<(String, Option<String>, usize)> {
        s.items
            .iter()
            .filter_map(|i| match i {
                Item::Chapter(c) => Some((c.name.clone(), c.location.clone(), c.depth)),
                Item::Part { .. } => None,
            })
            .collect()
    }

    #[test]
    fn prefix_parts_nested_suffix_and_drafts() {
        let text = "# Summary\n\n[Intro](intro.md)\n\n---\n\n# Basics\n\n- [One](one.md)\n  - [One *a*](sub/one-a.md)\n    - [Deep `x`](deep.md)\n- [Draft]()\n\n# More\n\n- [Two](two%20words.md)\n\n---\n\n[Credits](credits.md)\n";
        let s = parse(text).unwrap();
        assert_eq!(s.title.as_deref(), Some("Summary"));
        let parts: Vec<(&str, u32)> = s
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Part { title, pos } => Some((title.as_str(), pos.line)),
                _ => None,
            })
            .collect();
        assert_eq!(parts, vec![("Basics", 7), ("More", 14)]);
        assert_eq!(
            chapters(&s),
            vec![
                ("Intro".into(), Some("intro.md".into()), 0),
                ("One".into(), Some("one.md".into()), 1),
                ("One a".into(), Some("sub/one-a.md".into()), 2),
                ("Deep x".into(), Some("deep.md".into()), 3),
                ("Draft".into(), None, 1),
                ("Two".into(), Some("two words.md".into()), 1),
                ("Credits".into(), Some("credits.md".into()), 0),
            ]
        );
        let Item::Chapter(deep) = &s.items[4] else {
            panic!("{:?}", s.items[4])
        };
        assert_eq!(deep.pos, Pos { line: 11, col: 7 });
    }

    #[test]
    fn no_title_and_no_parts() {
        let s = parse("- [A](a.md)\n- [B](b.md)\n  text after the link is ignored\n").unwrap();
        assert_eq!(s.title, None);
        assert_eq!(chapters(&s).len(), 2);
    }

    #[test]
    fn an_item_that_is_not_a_link_is_an_error() {
        let e = parse("# S\n\n- [A](a.md)\n- Just text\n").unwrap_err();
        assert_eq!(e.pos.line, 4, "{e:?}");
        assert!(e.message.contains("only contain a hyperlink"));
    }

    #[test]
    fn suffix_then_list_is_an_error() {
        let e = parse("- [A](a.md)\n\n[B](b.md)\n\n- [C](c.md)\n").unwrap_err();
        assert_eq!(e.pos.line, 5, "{e:?}");
    }

    #[test]
    fn comments_before_the_title() {
        let s = parse("<!-- generated -->\n# Book\n\n- [A](a.md)\n").unwrap();
        assert_eq!(s.title.as_deref(), Some("Book"));
        assert_eq!(chapters(&s).len(), 1);
    }
}
