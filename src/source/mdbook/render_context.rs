//! mdBook's renderer protocol: the `RenderContext` JSON a backend reads on
//! stdin (mdBook 0.4's `book.sections`, 0.5's `book.items`), and its chapter
//! tree flattened into the same `Summary` items SUMMARY.md gives, so one
//! mapping turns both into parts and modules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::summary::{self, Item, Summary};
use crate::model::Pos;

/// What Quire reads of mdBook's `RenderContext`; unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub struct RenderContext {
    /// The mdBook version that sent it (`"0.4.52"`).
    pub version: String,
    /// The book's root folder (where book.toml is).
    pub root: PathBuf,
    pub book: RenderBook,
    /// The whole book.toml (with `MDBOOK_*` overrides applied), as JSON.
    pub config: serde_json::Value,
    /// Where this backend's output goes (also the working directory).
    pub destination: PathBuf,
}

#[derive(Debug, Deserialize)]
pub struct RenderBook {
    #[serde(alias = "items")]
    pub sections: Vec<BookItem>,
}

#[derive(Debug, Deserialize)]
pub enum BookItem {
    Chapter(Chapter),
    Separator,
    PartTitle(String),
}

#[derive(Debug, Deserialize)]
pub struct Chapter {
    pub name: String,
    /// `[1, 2]` for 1.2; `None` for prefix and suffix chapters.
    #[serde(default)]
    pub number: Option<Vec<u32>>,
    /// The Markdown after the book's preprocessors ran (includes expanded).
    #[serde(default)]
    pub content: String,
    /// `None` for a draft chapter.
    pub path: Option<PathBuf>,
    /// The file the chapter came from (mdBook's `index` preprocessor names
    /// `README.md` chapters `index.md` in `path`; this keeps `README.md`).
    #[serde(default)]
    pub source_path: Option<PathBuf>,
    #[serde(default)]
    pub sub_items: Vec<BookItem>,
}

/// The chapters in reading order as `Summary` items, with each chapter's
/// text by its location. Positions come from `outline` (SUMMARY.md as read
/// from disk), matched by location and part title; else line 1.
pub fn flatten(
    book: &RenderBook,
    outline: Option<&Summary>,
) -> (Summary, BTreeMap<String, String>) {
    let mut chapter_pos: BTreeMap<&str, Pos> = BTreeMap::new();
    let mut part_pos: BTreeMap<&str, Pos> = BTreeMap::new();
    for item in outline.map(|s| s.items.as_slice()).unwrap_or_default() {
        match item {
            Item::Part { title, pos } => {
                part_pos.entry(title).or_insert(*pos);
            }
            Item::Chapter(c) => {
                // A draft has no file: its name stands in.
                let key = c.location.as_deref().unwrap_or(&c.name);
                chapter_pos.entry(key).or_insert(c.pos);
            }
        }
    }
    let start = Pos { line: 1, col: 1 };
    let mut items = Vec::new();
    let mut texts = BTreeMap::new();
    // Depth-first with an explicit stack, children pushed in reverse.
    let mut stack: Vec<&BookItem> = book.sections.iter().rev().collect();
    while let Some(item) = stack.pop() {
        match item {
            BookItem::Separator => {}
            BookItem::PartTitle(title) => {
                items.push(Item::Part {
                    title: title.clone(),
                    pos: part_pos.get(title.as_str()).copied().unwrap_or(start),
                });
            }
            BookItem::Chapter(c) => {
                let location = c
                    .source_path
                    .as_ref()
                    .or(c.path.as_ref())
                    .map(|p| slashed(p));
                let key = location.as_deref().unwrap_or(&c.name);
                let pos = chapter_pos.get(key).copied().unwrap_or(start);
                if let Some(l) = &location {
                    texts.entry(l.clone()).or_insert_with(|| c.content.clone());
                }
                items.push(Item::Chapter(summary::Chapter {
                    name: c.name.clone(),
                    location,
                    // As in SUMMARY.md: 0 for prefix and suffix chapters.
                    depth: c.number.as_ref().map_or(0, Vec::len),
                    pos,
                }));
                stack.extend(c.sub_items.iter().rev());
            }
        }
    }
    (Summary { title: None, items }, texts)
}

/// A path as SUMMARY.md spells it: `/` between components on every OS.
fn slashed(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r##"{
      "version": "0.4.52",
      "root": "/books/mini",
      "book": {"sections": [
        {"Chapter": {"name": "Intro", "content": "# Intro\n", "number": null,
          "sub_items": [], "path": "index.md", "source_path": "README.md", "parent_names": []}},
        "Separator",
        {"PartTitle": "Basics"},
        {"Chapter": {"name": "One", "content": "one", "number": [1],
          "sub_items": [
            {"Chapter": {"name": "Deep", "content": "deep", "number": [1, 1],
              "sub_items": [], "path": "a/deep.md", "source_path": "a/deep.md",
              "parent_names": ["One"]}},
            {"Chapter": {"name": "Draft", "content": "", "number": [1, 2],
              "sub_items": [], "path": null, "source_path": null, "parent_names": ["One"]}}
          ],
          "path": "one.md", "source_path": "one.md", "parent_names": []}}
      ], "__non_exhaustive": null},
      "config": {"book": {"title": "Mini", "src": "src"}, "output": {"quire": {}}},
      "destination": "/books/mini/book/quire"
    }"##;

    #[test]
    fn reads_mdbook_0_4_and_flattens_in_reading_order() {
        let ctx: RenderContext = serde_json::from_str(JSON).expect("parses");
        assert_eq!(ctx.version, "0.4.52");
        let (s, texts) = flatten(&ctx.book, None);
        let outline: Vec<(String, usize)> = s
            .items
            .iter()
            .map(|i| match i {
                Item::Part { title, .. } => (format!("# {title}"), 0),
                Item::Chapter(c) => (
                    format!("{} {}", c.name, c.location.as_deref().unwrap_or("-")),
                    c.depth,
                ),
            })
            .collect();
        let expected = [
            ("Intro README.md", 0),
            ("# Basics", 0),
            ("One one.md", 1),
            ("Deep a/deep.md", 2),
            ("Draft -", 2),
        ];
        let expected: Vec<(String, usize)> =
            expected.iter().map(|(a, b)| (a.to_string(), *b)).collect();
        assert_eq!(outline, expected);
        assert_eq!(texts.get("a/deep.md").map(String::as_str), Some("deep"));
        assert_eq!(texts.len(), 3);
    }

    #[test]
    fn reads_mdbook_0_5_items() {
        let json = JSON.replace("\"sections\"", "\"items\"");
        let ctx: RenderContext = serde_json::from_str(&json).expect("parses");
        assert_eq!(ctx.book.sections.len(), 4);
    }

    #[test]
    fn positions_come_from_summary_md() {
        let ctx: RenderContext = serde_json::from_str(JSON).expect("parses");
        let text = "# Summary\n\n[Intro](README.md)\n\n# Basics\n\n- [One](one.md)\n  - [Deep](a/deep.md)\n";
        let outline = summary::parse(text).expect("summary");
        let (s, _) = flatten(&ctx.book, Some(&outline));
        let lines: Vec<u32> = s
            .items
            .iter()
            .map(|i| match i {
                Item::Part { pos, .. } => pos.line,
                Item::Chapter(c) => c.pos.line,
            })
            .collect();
        assert_eq!(lines, vec![3, 5, 7, 8, 1]);
        // (The draft is not in that SUMMARY.md: line 1.)
    }
}
