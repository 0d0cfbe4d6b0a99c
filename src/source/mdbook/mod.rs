//! An mdBook project as a Quire book: `book.toml` (`[book]` title, authors,
//! language, src) and `src/SUMMARY.md` become the same `Source` the native
//! loader produces, so parsing and rendering know nothing of mdBook.
//! Two ways in share one mapping: `load` reads SUMMARY.md and the chapter
//! files; `load_rendered` takes mdBook's `RenderContext` (the `mdbook-quire`
//! backend), whose chapter tree is flattened into the same SUMMARY items and
//! whose texts come already preprocessed.
//!
//! - `# Part` headings of SUMMARY.md are parts, every chapter under one a
//!   module. Without any, a top-level chapter with sub-chapters is a part
//!   whose page is its text (see `parts::groups_by_chapters` for the whole rule).
//!   Prefix chapters open the first part, suffix chapters close the last one.
//! - Sub-chapters are modules in reading order, at every depth; the
//!   module title is the SUMMARY link text (as in mdBook's TOC), and the
//!   chapter's own opening heading is taken out of the body (Quire prints the
//!   title itself). Draft chapters `[Name]()` have no file: skipped, warned.
//! - `{{#include}}` and friends are expanded (by Quire from files, by mdBook
//!   in a `RenderContext`), mdBook's hidden code lines dropped, MathJax
//!   delimiters made math with `[output.html] mathjax-support`;
//!   the Rust book's `<Listing>` tags become file names and captions when its
//!   `trpl-listing` preprocessor is declared.
//! - Other tables of book.toml (`[output.*]`, `[preprocessor.*]`, `[rust]`,
//!   ...) are ignored, except `[output.quire]`, which takes the keys of a
//!   native book.toml (identifier, subtitle, copyright, `[pdf]`, ...) and
//!   the backend's own (`formats`; mdBook's `command`, `optional`).
//!
//! This module is the loader's facade (detect, the two ways in, SUMMARY.md
//! read or flattened); each job has its own submodule: `config` (book.toml),
//! `summary` (SUMMARY.md grammar), `render_context` (mdBook's JSON),
//! `include` (the links preprocessor's directives), `hidelines`, `mathjax`
//! and `trpl` (rewrites of a chapter's text), `chapters` (one chapter read),
//! `parts` (chapters onto parts and modules).

mod chapters;
mod config;
mod hidelines;
mod include;
mod mathjax;
mod parts;
mod render_context;
mod summary;
mod trpl;

pub use config::Formats;
pub use render_context::RenderContext;

use std::path::Path;

use serde::Deserialize;

use super::{AT_START, BookToml, Source, read_text};
use crate::diag::Diagnostics;
use crate::error::Result;
use chapters::Ctx;
use config::{MdToml, book_settings, output_quire_pos, read_md_toml};
use summary::Summary;

/// Is `root` an mdBook project? `book.toml` with a `[book]` table, or
/// `src/SUMMARY.md` (mdBook needs no book.toml at all).
pub fn detect(root: &Path) -> bool {
    if root.join("src").join("SUMMARY.md").is_file() {
        return true;
    }
    std::fs::read_to_string(root.join("book.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.get("book").is_some_and(toml::Value::is_table))
}

pub fn load(root: &Path, diags: &mut Diagnostics) -> Result<Source> {
    let toml_path = root.join("book.toml");
    let (md, toml_text) = if toml_path.is_file() {
        read_md_toml(&toml_path, diags)?
    } else {
        (MdToml::default(), None)
    };
    Ok(load_from(root, &md, toml_text.as_deref(), Texts::Files, diags)?.0)
}

/// The `mdbook-quire` backend's way in: the chapters as mdBook sent them,
/// after the book's preprocessors ran (includes are already expanded), with
/// book.toml as mdBook read it. The same mapping as `load` follows.
pub fn load_rendered(ctx: &RenderContext, diags: &mut Diagnostics) -> Result<(Source, Formats)> {
    let toml_path = ctx.root.join("book.toml");
    // Only for the line numbers of diagnostics: the settings are mdBook's.
    let toml_text = std::fs::read_to_string(&toml_path).ok();
    let md = match MdToml::deserialize(&ctx.config) {
        Ok(m) => m,
        Err(e) => {
            diags.error(&toml_path, AT_START, format!("invalid book.toml: {e}"));
            MdToml::default()
        }
    };
    load_from(
        &ctx.root,
        &md,
        toml_text.as_deref(),
        Texts::Given(&ctx.book),
        diags,
    )
}

/// Where chapter texts come from.
#[derive(Clone, Copy)]
enum Texts<'a> {
    /// The files SUMMARY.md lists, with their directives expanded here.
    Files,
    /// mdBook's `RenderContext`: its chapter tree and preprocessed texts.
    Given(&'a render_context::RenderBook),
}

fn load_from(
    root: &Path,
    md: &MdToml,
    toml_text: Option<&str>,
    texts: Texts<'_>,
    diags: &mut Diagnostics,
) -> Result<(Source, Formats)> {
    let toml_path = root.join("book.toml");
    let quire_pos = toml_text.map_or(AT_START, output_quire_pos);
    let (book, formats) = book_settings(root, &toml_path, quire_pos, md, diags);
    let src_rel = md.book.src.clone().unwrap_or_else(|| "src".into());
    let Some(src_parts) = include::join_inside(&[], &src_rel) else {
        diags.error(
            &toml_path,
            AT_START,
            format!("book.src = '{src_rel}' is outside the book folder"),
        );
        return Ok((empty(root, book), formats));
    };
    let src_dir = root.join(src_parts.join("/"));
    let summary_path = src_dir.join("SUMMARY.md");
    let (summary, given) = match texts {
        Texts::Files => {
            let Some(summary) = read_summary(&summary_path, diags)? else {
                return Ok((empty(root, book), formats));
            };
            (summary, None)
        }
        Texts::Given(rendered) => {
            // mdBook already read SUMMARY.md; reading it again only places
            // diagnostics at its lines.
            let outline = std::fs::read_to_string(&summary_path)
                .ok()
                .and_then(|t| summary::parse(&t).ok());
            let (summary, texts) = render_context::flatten(rendered, outline.as_ref());
            (summary, Some(texts))
        }
    };
    let ctx = Ctx {
        root,
        src: &src_parts,
        summary_path: &summary_path,
        hidelines: &md.output.html.code.hidelines,
        trpl_listing: md.preprocessor.contains_key("trpl-listing"),
        mathjax: md.output.html.mathjax_support,
        given: given.as_ref(),
    };
    let parts = parts::build_parts(&ctx, &book.title, &summary, diags)?;
    if parts.iter().all(|p| p.modules.is_empty()) && !diags.has_errors() {
        diags.error(&summary_path, AT_START, "SUMMARY.md lists no chapters");
    }
    Ok((
        Source {
            root: root.to_path_buf(),
            book,
            parts,
        },
        formats,
    ))
}

fn read_summary(summary_path: &Path, diags: &mut Diagnostics) -> Result<Option<Summary>> {
    if !summary_path.is_file() {
        diags.error(
            summary_path,
            AT_START,
            "mdBook book without SUMMARY.md: list the chapters in it (Quire does not create it)",
        );
        return Ok(None);
    }
    let Some(text) = read_text(summary_path, diags)? else {
        return Ok(None);
    };
    match summary::parse(&text) {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            diags.error(summary_path, e.pos, format!("SUMMARY.md: {}", e.message));
            Ok(None)
        }
    }
}

fn empty(root: &Path, book: BookToml) -> Source {
    Source {
        root: root.to_path_buf(),
        book,
        parts: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn loads_parts_chapters_and_titles() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(
            r,
            "book.toml",
            "[book]\ntitle = \"Mini\"\nauthors = [\"A\"]\nunknown = 1\n[output.html]\nfoo = 1\n[preprocessor.x]\ncommand = \"y\"\n",
        );
        write(
            r,
            "src/SUMMARY.md",
            "# Summary\n\n[Intro](README.md)\n\n# One\n\n- [First](ch1/first.md)\n  - [Same Name](ch1/sub.md)\n- [Draft]()\n\n# Two\n\n- [Second](second.md)\n",
        );
        write(r, "src/README.md", "# Welcome\n\nHello.\n");
        write(
            r,
            "src/ch1/first.md",
            "<!-- c -->\n# First chapter\n\nText.\n",
        );
        write(r, "src/ch1/sub.md", "## Same name\n\nSub.\n");
        write(r, "src/second.md", "Body first.\n\n# Not a title\n");
        let mut diags = Diagnostics::new();
        assert!(detect(r));
        let s = load(r, &mut diags).unwrap();
        let errors: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(!diags.has_errors(), "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("SUMMARY.md:9:3: warning: draft chapter 'Draft'")),
            "{errors:?}"
        );
        assert_eq!(s.book.title, "Mini");
        assert!(s.book.identifier.starts_with("urn:uuid:"));
        type Outline<'a> = Vec<(&'a str, Vec<(&'a str, &'a str, u32)>)>;
        let titles: Outline<'_> = s
            .parts
            .iter()
            .map(|p| {
                (
                    p.title.as_str(),
                    p.modules
                        .iter()
                        .map(|m| (m.title.as_str(), m.id.as_str(), m.file.body_line))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            titles,
            vec![
                (
                    "One",
                    vec![
                        ("Intro", "readme", 2),
                        ("First", "first", 3),
                        ("Same Name", "sub", 2)
                    ]
                ),
                ("Two", vec![("Second", "second", 1)]),
            ]
        );
        assert_eq!(s.parts[0].modules[1].file.body, "\nText.\n");
        assert_eq!(
            s.parts[1].modules[0].file.body,
            "Body first.\n\n# Not a title\n"
        );
    }

    /// (part title, its page's file in src/ or "-", its modules' titles).
    pub(super) type Shape = Vec<(String, String, Vec<String>)>;

    pub(super) fn shape(s: &Source, root: &Path) -> Shape {
        s.parts
            .iter()
            .map(|p| {
                let page = p
                    .file
                    .path
                    .strip_prefix(root.join("src"))
                    .ok()
                    .filter(|f| *f != Path::new("SUMMARY.md"))
                    .map_or("-".to_string(), |f| f.to_string_lossy().into_owned());
                let modules = p.modules.iter().map(|m| m.title.clone()).collect();
                (p.title.clone(), page, modules)
            })
            .collect()
    }

    pub(super) fn part(title: &str, page: &str, modules: &[&str]) -> (String, String, Vec<String>) {
        (
            title.to_string(),
            page.to_string(),
            modules.iter().map(|m| m.to_string()).collect(),
        )
    }

    #[test]
    fn a_render_context_loads_through_the_same_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(r, "book.toml", "[book]\ntitle = \"Mini\"\n");
        write(
            r,
            "src/SUMMARY.md",
            "[Intro](README.md)\n\n# Part 1: One\n\n- [First](a/first.md)\n  - [Draft]()\n",
        );
        let json = serde_json::json!({
            "version": "0.4.52",
            "root": r,
            "book": {"sections": [
                {"Chapter": {"name": "Intro", "content": "# Welcome\n\nHi.\n", "number": null,
                    "sub_items": [], "path": "index.md", "source_path": "README.md", "parent_names": []}},
                {"PartTitle": "Part 1: One"},
                {"Chapter": {"name": "First", "content": "# First\n\n```rust\n# fn hidden() {}\nlet x = 1; // \\{{#include nothing.rs}}\n```\n",
                    "number": [1], "path": "a/first.md", "source_path": "a/first.md", "parent_names": [],
                    "sub_items": [{"Chapter": {"name": "Draft", "content": "", "number": [1, 1],
                        "sub_items": [], "path": null, "source_path": null, "parent_names": ["First"]}}]}}
            ]},
            "config": {"book": {"title": "Mini", "authors": ["A"], "src": "src"},
                "output": {"html": {}, "quire": {"command": "mdbook-quire", "formats": ["epub"]}}},
            "destination": r.join("book/quire")
        });
        let ctx: RenderContext = serde_json::from_value(json).expect("context");
        let mut diags = Diagnostics::new();
        let (s, formats) = load_rendered(&ctx, &mut diags).unwrap();
        let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(!diags.has_errors(), "{all:?}");
        assert!(
            all.iter()
                .any(|e| e.contains("SUMMARY.md:6:5: warning: draft chapter 'Draft'")),
            "{all:?}"
        );
        assert!(formats.epub && !formats.pdf);
        assert_eq!(s.book.authors, vec!["A".to_string()]);
        assert_eq!(s.parts.len(), 1);
        assert_eq!(s.parts[0].title, "One");
        let m: Vec<(&str, &str)> = s.parts[0]
            .modules
            .iter()
            .map(|m| (m.title.as_str(), m.id.as_str()))
            .collect();
        assert_eq!(m, vec![("Intro", "readme"), ("First", "first")]);
        // Hidden lines go; what mdBook's links preprocessor left is not expanded again.
        assert_eq!(
            s.parts[0].modules[1].file.body,
            "\n```rust\nlet x = 1; // \\{{#include nothing.rs}}\n```\n"
        );
        assert_eq!(s.parts[0].modules[1].file.path, r.join("src/a/first.md"));
    }

    #[test]
    fn a_render_context_without_part_titles_maps_chapters_to_parts() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let chapter = |name: &str, path: &str, number: Vec<u32>, subs: serde_json::Value| {
            serde_json::json!({"Chapter": {"name": name, "content": format!("# {name}\n\nText of {name}.\n"),
                "number": number, "sub_items": subs, "path": path, "source_path": path, "parent_names": []}})
        };
        let json = serde_json::json!({
            "version": "0.4.52",
            "root": r,
            "book": {"sections": [
                chapter("One", "one.md", vec![1], serde_json::json!([chapter("Deep", "a/deep.md", vec![1, 1], serde_json::json!([]))])),
                chapter("Two", "two.md", vec![2], serde_json::json!([])),
            ]},
            "config": {"book": {"title": "Mini"}, "output": {"quire": {}}},
            "destination": r.join("book/quire")
        });
        let ctx: RenderContext = serde_json::from_value(json).expect("context");
        let mut diags = Diagnostics::new();
        let (s, _) = load_rendered(&ctx, &mut diags).unwrap();
        assert!(!diags.has_errors());
        assert_eq!(
            shape(&s, r),
            vec![part("One", "one.md", &["Deep"]), part("Two", "two.md", &[])]
        );
        // The page's text came from mdBook, its title heading taken out.
        assert_eq!(s.parts[0].file.body, "\nText of One.\n");
    }

    #[test]
    fn quire_settings_from_output_quire() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(
            r,
            "book.toml",
            "[book]\ntitle = \"T\"\nsrc = \"text\"\n[output.quire]\nidentifier = \"urn:isbn:123\"\ncopyright = \"CC BY 4.0\"\n",
        );
        write(r, "text/SUMMARY.md", "- [A](a.md)\n");
        write(
            r,
            "text/a.md",
            "```rust\n# fn main() {\nlet x = 1;\n# }\n```\n",
        );
        let mut diags = Diagnostics::new();
        assert!(detect(r));
        let s = load(r, &mut diags).unwrap();
        assert!(
            !diags.has_errors(),
            "{:?}",
            diags.iter().collect::<Vec<_>>()
        );
        assert_eq!(s.book.identifier, "urn:isbn:123");
        assert_eq!(s.book.copyright.as_deref(), Some("CC BY 4.0"));
        assert_eq!(
            s.parts[0].modules[0].file.body,
            "```rust\nlet x = 1;\n```\n"
        );
    }
}
