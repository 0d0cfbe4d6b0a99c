//! SUMMARY items onto parts and modules: `# Part` titles make parts, else
//! top-level chapters with sub-chapters do (`groups_by_chapters` has the
//! whole rule); every chapter of a part is one of its modules.

use std::collections::BTreeSet;

use super::super::{AT_START, PartSource, SourceFile};
use super::chapters::{Ctx, load_chapter, read_body};
use super::summary::{self, Item, Summary};
use crate::diag::Diagnostics;
use crate::error::Result;
use crate::model::Pos;
use crate::parse::ids::slugify;

/// A part to be: its title and SUMMARY.md position, the chapter whose
/// content is its page (`None` for a `# Part` title or the opening part),
/// and its chapters (the modules), in reading order.
struct Group<'a> {
    title: String,
    pos: Pos,
    page: Option<&'a summary::Chapter>,
    chapters: Vec<&'a summary::Chapter>,
}

/// Parts from the `# Part` titles: every chapter is a module of the part it
/// sits in; chapters before the first title (prefix ones) open the first part.
fn groups_by_titles(summary: &Summary) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut pending: Vec<&summary::Chapter> = Vec::new();
    for item in &summary.items {
        match item {
            Item::Part { title, pos } => {
                let mut chapters = Vec::new();
                if groups.is_empty() {
                    chapters.append(&mut pending);
                }
                groups.push(Group {
                    title: without_part_number(title).to_string(),
                    pos: *pos,
                    page: None,
                    chapters,
                });
            }
            Item::Chapter(c) => match groups.last_mut() {
                Some(g) => g.chapters.push(c),
                None => pending.push(c),
            },
        }
    }
    groups
}

/// Parts without part titles. A top-level numbered chapter with sub-chapters
/// opens a part: titled by it, its content the part's page, its sub-chapters
/// (every depth, in order) the modules. So does the first top-level chapter
/// without sub-chapters after such a part (a chapter of the same rank is not
/// made part of another's); the ones right after it join its part. Chapters
/// before the first part (prefix chapters, leading chapters without
/// sub-chapters) open the book with a part named after it, and suffix
/// chapters close the last part. A book where no chapter has sub-chapters is
/// thus one part named after the book. Drafts never open a part, unless they
/// have sub-chapters (the part then has no page text).
fn groups_by_chapters<'a>(summary: &'a Summary, book_title: &str) -> Vec<Group<'a>> {
    let chapters: Vec<&summary::Chapter> = summary
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Chapter(c) => Some(c),
            Item::Part { .. } => None,
        })
        .collect();
    let mut opening: Vec<&summary::Chapter> = Vec::new();
    let mut groups: Vec<Group<'a>> = Vec::new();
    // Whether the part open now was opened by a chapter with sub-chapters.
    let mut after_subs = false;
    for (i, c) in chapters.iter().enumerate() {
        let subs = c.depth == 1
            && chapters[i + 1..]
                .iter()
                .take_while(|s| s.depth > 1)
                .any(|s| s.location.is_some());
        let opens = c.depth == 1 && (subs || (after_subs && c.location.is_some()));
        if opens {
            groups.push(Group {
                title: c.name.clone(),
                pos: c.pos,
                page: Some(c),
                chapters: Vec::new(),
            });
            after_subs = subs;
        } else {
            match groups.last_mut() {
                Some(g) => g.chapters.push(c),
                None => opening.push(c),
            }
        }
    }
    if !opening.is_empty() || groups.is_empty() {
        groups.insert(
            0,
            Group {
                title: book_title.to_string(),
                pos: AT_START,
                page: None,
                chapters: opening,
            },
        );
    }
    groups
}

pub(super) fn build_parts(
    ctx: &Ctx<'_>,
    book_title: &str,
    summary: &Summary,
    diags: &mut Diagnostics,
) -> Result<Vec<PartSource>> {
    let has_parts = summary.items.iter().any(|i| matches!(i, Item::Part { .. }));
    let groups = if has_parts {
        groups_by_titles(summary)
    } else {
        groups_by_chapters(summary, book_title)
    };

    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut parts = Vec::new();
    for (p, group) in groups.into_iter().enumerate() {
        let Group {
            mut title,
            pos,
            page,
            chapters,
        } = group;
        // The part's page: an mdBook part title is a line of SUMMARY.md, with
        // no text of its own; a chapter's is its file.
        let mut file = SourceFile {
            path: ctx.summary_path.to_path_buf(),
            body: String::new(),
            body_line: pos.line,
        };
        if let Some(c) = page {
            if c.location.is_none() {
                diags.warning(
                    ctx.summary_path,
                    c.pos,
                    format!(
                        "draft chapter '{}' has no file: its part has no page text",
                        c.name
                    ),
                );
            } else if let Some(read) = read_body(ctx, c, &mut seen, diags)? {
                title = read.name;
                file = read.file;
            }
        }
        let mut modules = Vec::new();
        for c in chapters {
            if let Some(m) = load_chapter(ctx, c, &mut seen, &mut ids, modules.len(), diags)? {
                modules.push(m);
            }
        }
        let number = u32::try_from(p + 1).unwrap_or(u32::MAX);
        if modules.is_empty() && page.is_none() {
            diags.warning(ctx.summary_path, pos, "part has no chapters");
        }
        parts.push(PartSource {
            number,
            slug: slugify(&title),
            dir: ctx.root.join(ctx.src.join("/")),
            file,
            title,
            summary: String::new(),
            modules,
        });
    }
    Ok(parts)
}

/// `"Part 1: Guide"` → `"Guide"`: Quire numbers parts itself ("Part 1: Guide"),
/// so a title that already says so would read "Part 1: Part 1: Guide".
fn without_part_number(title: &str) -> &str {
    let Some(rest) = title
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("part "))
        .map(|_| &title[5..])
    else {
        return title;
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || "IVXLCivxlc".contains(c)))
        .unwrap_or(rest.len());
    if number_len == 0 {
        return title;
    }
    let after = rest[number_len..].trim_start();
    let Some(after) = [":", ".", "—", "–", "-"]
        .iter()
        .find_map(|sep| after.strip_prefix(sep))
    else {
        return title;
    };
    let after = after.trim();
    if after.is_empty() { title } else { after }
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::super::tests::{part, shape, write};
    use super::*;

    #[test]
    fn part_numbers_in_titles_are_dropped() {
        assert_eq!(without_part_number("Part 1: guide"), "guide");
        assert_eq!(without_part_number("PART IV — Advanced"), "Advanced");
        assert_eq!(without_part_number("Part 2"), "Part 2");
        assert_eq!(
            without_part_number("Parting words: a guide"),
            "Parting words: a guide"
        );
        assert_eq!(without_part_number("Part one: x"), "Part one: x");
        assert_eq!(without_part_number("Old chapters"), "Old chapters");
        assert_eq!(without_part_number("第一部分"), "第一部分");
    }

    #[test]
    fn without_part_titles_chapters_with_sub_chapters_are_parts() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(r, "book.toml", "[book]\ntitle = \"Flat\"\n");
        write(
            r,
            "src/SUMMARY.md",
            "[Preface](preface.md)\n\n\
             - [Lead](lead.md)\n\
             - [Basics](basics/README.md)\n  - [Values](basics/values.md)\n    - [Numbers](basics/numbers.md)\n      - [Floats](basics/floats.md)\n  - [Names](basics/names.md)\n\
             - [Interlude](interlude.md)\n- [Glossary](glossary.md)\n\
             - [Planned]()\n  - [Sketch]()\n\
             - [Advanced](advanced/index.md)\n  - [Traits](advanced/traits.md)\n  - [Later]()\n\
             - [Drafted]()\n\n[Credits](credits.md)\n",
        );
        for f in [
            "preface.md",
            "lead.md",
            "basics/values.md",
            "basics/numbers.md",
            "basics/floats.md",
            "basics/names.md",
            "glossary.md",
            "advanced/traits.md",
            "credits.md",
        ] {
            write(r, &format!("src/{f}"), "Text.\n");
        }
        write(
            r,
            "src/basics/README.md",
            "# The Basics\n\nOverview.\n\n## Setup\n",
        );
        write(r, "src/interlude.md", "# Interlude\n\nA pause.\n");
        write(r, "src/advanced/index.md", "Advanced overview.\n");
        let mut diags = Diagnostics::new();
        let s = load(r, &mut diags).unwrap();
        let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(!diags.has_errors(), "{all:?}");
        assert_eq!(
            shape(&s, r),
            vec![
                // Before the first chapter with sub-chapters: a part named after the book.
                part("Flat", "-", &["Preface", "Lead"]),
                part(
                    "Basics",
                    "basics/README.md",
                    &["Values", "Numbers", "Floats", "Names"]
                ),
                // The first chapter without sub-chapters after a part opens one;
                // the next joins it.
                part("Interlude", "interlude.md", &["Glossary"]),
                // A draft whose sub-chapters are all drafts opens nothing.
                part("Advanced", "advanced/index.md", &["Traits", "Credits"]),
            ]
        );
        // The page's own title heading left its body, as a module's does.
        assert_eq!(s.parts[1].file.body, "\nOverview.\n\n## Setup\n");
        assert_eq!(s.parts[1].file.body_line, 2);
        assert_eq!(s.parts[1].slug, "basics");
        let drafts = all.iter().filter(|e| e.contains("draft chapter")).count();
        assert_eq!(drafts, 4, "{all:?}");
    }

    #[test]
    fn a_book_of_chapters_without_sub_chapters_is_one_part() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(r, "book.toml", "[book]\ntitle = \"Flat\"\n");
        write(
            r,
            "src/SUMMARY.md",
            "[P](p.md)\n\n- [A](a.md)\n- [B](b.md)\n\n[S](s.md)\n",
        );
        for f in ["p.md", "a.md", "b.md", "s.md"] {
            write(r, &format!("src/{f}"), "Text.\n");
        }
        let mut diags = Diagnostics::new();
        let s = load(r, &mut diags).unwrap();
        assert_eq!(shape(&s, r), vec![part("Flat", "-", &["P", "A", "B", "S"])]);
        // A first chapter with sub-chapters: no opening part; a draft with
        // sub-chapters opens a part of its own, with no page text.
        write(
            r,
            "src/SUMMARY.md",
            "- [A](a.md)\n  - [B](b.md)\n- [Soon]()\n  - [S](s.md)\n",
        );
        let mut diags = Diagnostics::new();
        let s = load(r, &mut diags).unwrap();
        assert_eq!(
            shape(&s, r),
            vec![part("A", "a.md", &["B"]), part("Soon", "-", &["S"])]
        );
        let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(
            all.iter()
                .any(|e| e.contains("SUMMARY.md:3:3: warning: draft chapter 'Soon' has no file: its part has no page text")),
            "{all:?}"
        );
    }
}
