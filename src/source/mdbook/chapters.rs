//! One SUMMARY chapter read as Quire reads it: its file found inside `src/`
//! (or its text as mdBook's preprocessors left it), directives expanded,
//! the Rust book's listings, MathJax and hidden lines rewritten, its title
//! heading taken out, and as a module its id from the file name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::super::title;
use super::super::{AT_START, ModuleSource, SourceFile, read_text};
use super::{hidelines, include, mathjax, summary, trpl};
use crate::diag::Diagnostics;
use crate::error::Result;
use crate::model::Pos;
use crate::parse::ids::slugify;

/// What reading a chapter needs to know of the book (set up by the loader).
pub(super) struct Ctx<'a> {
    pub(super) root: &'a Path,
    /// `src/` relative to the root, as components.
    pub(super) src: &'a [String],
    pub(super) summary_path: &'a Path,
    pub(super) hidelines: &'a BTreeMap<String, String>,
    /// The Rust book's `<Listing>` tags (its own mdbook-trpl preprocessor).
    pub(super) trpl_listing: bool,
    /// `[output.html] mathjax-support`: MathJax delimiters become `$`/`$$`.
    pub(super) mathjax: bool,
    /// Chapter texts by location, from mdBook's `RenderContext`.
    pub(super) given: Option<&'a BTreeMap<String, String>>,
}

/// A chapter's text as Quire reads it: directives expanded (from its file,
/// or as mdBook's preprocessors left it), hidden lines and the title
/// heading taken out.
pub(super) struct Read {
    pub(super) file: SourceFile,
    /// The title: the SUMMARY entry, else the opening heading, else the file name.
    pub(super) name: String,
    /// The file name without `.md`.
    pub(super) stem: String,
    /// The path in `src/` (`guide/intro.md`).
    pub(super) in_src: String,
}

/// Reads a (non-draft) chapter; `None` when it cannot be (reported).
pub(super) fn read_body(
    ctx: &Ctx<'_>,
    c: &summary::Chapter,
    seen: &mut BTreeSet<Vec<String>>,
    diags: &mut Diagnostics,
) -> Result<Option<Read>> {
    let Some(location) = &c.location else {
        return Ok(None);
    };
    let Some(parts) = include::join_inside(ctx.src, location) else {
        diags.error(
            ctx.summary_path,
            c.pos,
            format!("chapter '{location}' is outside the book folder"),
        );
        return Ok(None);
    };
    if !seen.insert(parts.clone()) {
        diags.error(
            ctx.summary_path,
            c.pos,
            format!("duplicate file in SUMMARY.md: '{location}' is listed twice"),
        );
        return Ok(None);
    }
    let path: PathBuf = ctx.root.join(parts.join("/"));
    let (text, expanded) = match ctx.given {
        // mdBook's preprocessors expanded the directives (and unescaped
        // `\{{#…}}`): expanding again would be wrong.
        Some(given) => {
            let text = given.get(location.as_str()).cloned().unwrap_or_default();
            (text.clone(), text)
        }
        None => match read_chapter(ctx, location, &parts, &path, c.pos, diags)? {
            Some(t) => t,
            None => return Ok(None),
        },
    };
    let expanded = if ctx.trpl_listing {
        trpl::rewrite(&expanded)
    } else {
        expanded
    };
    let expanded = if ctx.mathjax {
        mathjax::to_dollars(&expanded)
    } else {
        expanded
    };
    let mut body = hidelines::strip(&expanded, ctx.hidelines);
    let mut body_line = 1;
    let mut name = c.name.clone();
    // The chapter's opening heading is its title on the web page; Quire prints
    // the title itself, so the heading goes (an `#` one always, a lower one
    // when it says the same as the SUMMARY entry).
    if let Some(lead) = title::first_heading(&body)
        && (lead.level == 1 || same_words(&lead.title, &name))
    {
        if name.is_empty() {
            name = lead.title.clone();
        }
        let (lines, rest) = (lead.lines, lead.rest.to_string());
        body = rest;
        body_line += lines;
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.is_empty() {
        name = title::from_slug(&stem);
    }
    if text.trim().is_empty() {
        diags.warning(&path, AT_START, "chapter file is empty");
    }
    let in_src = parts.get(ctx.src.len()..).unwrap_or_default().join("/");
    Ok(Some(Read {
        file: SourceFile {
            path,
            body,
            body_line,
        },
        name,
        stem,
        in_src,
    }))
}

pub(super) fn load_chapter(
    ctx: &Ctx<'_>,
    c: &summary::Chapter,
    seen: &mut BTreeSet<Vec<String>>,
    ids: &mut BTreeSet<String>,
    index: usize,
    diags: &mut Diagnostics,
) -> Result<Option<ModuleSource>> {
    if c.location.is_none() {
        diags.warning(
            ctx.summary_path,
            c.pos,
            format!("draft chapter '{}' has no file: left out", c.name),
        );
        return Ok(None);
    }
    let Some(Read {
        file,
        name,
        stem,
        in_src,
    }) = read_body(ctx, c, seen, diags)?
    else {
        return Ok(None);
    };
    // The file name, else its path in src/ (`intro/index.md` → `intro-index`:
    // folders of `index.md`/`README.md` are common), else a number.
    let in_src = in_src.strip_suffix(".md").unwrap_or(&in_src);
    let candidates = [slugify(&stem), slugify(&in_src.replace('/', "-"))];
    let id = candidates
        .iter()
        .find(|c| !ids.contains(*c))
        .cloned()
        .unwrap_or_else(|| {
            let base = &candidates[1];
            (2..)
                .map(|n| format!("{base}-v{n}"))
                .find(|c| !ids.contains(c))
                .unwrap_or_else(|| base.clone())
        });
    ids.insert(id.clone());
    Ok(Some(ModuleSource {
        number: u32::try_from(index + 1).unwrap_or(u32::MAX),
        slug: id.clone(),
        id,
        file,
        title: name,
        summary: String::new(),
        difficulty: None,
        minutes: None,
        tags: Vec::new(),
    }))
}

/// A chapter file read from disk with its directives expanded: (as written, expanded).
fn read_chapter(
    ctx: &Ctx<'_>,
    location: &str,
    parts: &[String],
    path: &Path,
    pos: Pos,
    diags: &mut Diagnostics,
) -> Result<Option<(String, String)>> {
    if !path.is_file() {
        diags.error(
            ctx.summary_path,
            pos,
            format!(
                "chapter file '{location}' not found ({}): create it, or remove the entry (Quire never writes into the content)",
                path.display()
            ),
        );
        return Ok(None);
    }
    let Some(text) = read_text(path, diags)? else {
        return Ok(None);
    };
    let dir = &parts[..parts.len().saturating_sub(1)];
    let mut problems = Vec::new();
    let expanded = include::expand(ctx.root, path, dir, &text, &mut problems);
    for p in problems {
        if p.error {
            diags.error(&p.file, p.pos, p.message);
        } else {
            diags.warning(&p.file, p.pos, p.message);
        }
    }
    Ok(Some((text, expanded)))
}

/// The same words, ignoring case and punctuation ("What Is Ownership?" = "What is ownership").
fn same_words(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::super::tests::write;
    use super::*;

    #[test]
    fn headings_that_repeat_the_title() {
        assert!(same_words("What Is Ownership?", "What is Ownership?"));
        assert!(!same_words("Ownership", "What is Ownership?"));
        assert!(!same_words("", ""));
    }

    #[test]
    fn ids_from_file_names_then_paths() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(
            r,
            "src/SUMMARY.md",
            "- [A](a/index.md)\n- [B](b/index.md)\n- [C](b-index.md)\n- [D](b/index-2.md)\n",
        );
        for f in ["a/index.md", "b/index.md", "b-index.md", "b/index-2.md"] {
            write(r, &format!("src/{f}"), "Text.\n");
        }
        let mut diags = Diagnostics::new();
        let s = load(r, &mut diags).unwrap();
        let ids: Vec<&str> = s.parts[0].modules.iter().map(|m| m.id.as_str()).collect();
        // No `-N` suffixes: the EPUB's navigation ids add those to module ids.
        assert_eq!(ids, vec!["index", "b-index", "b-index-v2", "index-2"]);
    }

    #[test]
    fn missing_chapter_is_an_error_at_its_summary_line() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(
            r,
            "src/SUMMARY.md",
            "- [A](a.md)\n- [Gone](gone.md)\n- [Up](../../x.md)\n- [A again](./a.md)\n",
        );
        write(r, "src/a.md", "Text.\n");
        let mut diags = Diagnostics::new();
        let s = load(r, &mut diags).unwrap();
        let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(
            all.iter()
                .any(|e| e.contains("SUMMARY.md:2:3: error: chapter file 'gone.md' not found")),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|e| e.contains("SUMMARY.md:3:3: error: chapter '../../x.md' is outside")),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|e| e.contains("SUMMARY.md:4:3: error: duplicate file")),
            "{all:?}"
        );
        // Without book.toml the folder name titles the book; one part, named after it.
        assert_eq!(s.parts.len(), 1);
        assert_eq!(s.parts[0].title, s.book.title);
        assert!(!s.book.title.is_empty());
    }
}
