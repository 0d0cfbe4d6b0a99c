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
//!   whose page is its text (see `groups_by_chapters` for the whole rule).
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

mod hidelines;
mod include;
mod mathjax;
mod render_context;
mod summary;
mod trpl;

pub use render_context::RenderContext;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::title;
use super::{AT_START, BookToml, ModuleSource, PartSource, Source, SourceFile, read_text};
use crate::diag::Diagnostics;
use crate::error::Result;
use crate::model::Pos;
use crate::parse::ids::slugify;
use summary::{Item, Summary};

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

/// `book.toml` as mdBook reads it; unknown keys are ignored.
#[derive(Debug, Default, Deserialize)]
struct MdToml {
    #[serde(default)]
    book: MdBook,
    #[serde(default)]
    output: MdOutput,
    /// Only their names matter: Quire emulates the ones it knows.
    #[serde(default)]
    preprocessor: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct MdBook {
    title: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
    language: Option<String>,
    description: Option<String>,
    src: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct MdOutput {
    #[serde(default)]
    html: MdHtml,
    /// Quire's own settings, as mdBook's convention for a renderer's config.
    quire: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
struct MdHtml {
    #[serde(default)]
    code: MdCode,
    /// MathJax's `\\( … \\)` and `\\[ … \\]` are math.
    #[serde(default, rename = "mathjax-support")]
    mathjax_support: bool,
}

#[derive(Debug, Default, Deserialize)]
struct MdCode {
    /// Language → prefix of hidden lines.
    #[serde(default)]
    hidelines: BTreeMap<String, String>,
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
    let parts = build_parts(&ctx, &book.title, &summary, diags)?;
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

fn read_md_toml(path: &Path, diags: &mut Diagnostics) -> Result<(MdToml, Option<String>)> {
    let Some(text) = read_text(path, diags)? else {
        return Ok((MdToml::default(), None));
    };
    match toml::from_str::<MdToml>(&text) {
        Ok(m) => Ok((m, Some(text))),
        Err(e) => {
            let pos = e
                .span()
                .map(|s| super::text::LineMap::new(&text).pos(s.start, &text))
                .unwrap_or(AT_START);
            diags.error(path, pos, format!("invalid book.toml: {}", e.message()));
            Ok((MdToml::default(), Some(text)))
        }
    }
}

/// The formats `mdbook-quire` writes: `[output.quire] formats = ["epub", "pdf"]`
/// (both by default). `quire build` has its flags for this instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    pub epub: bool,
    pub pdf: bool,
}

impl Default for Formats {
    fn default() -> Self {
        Formats {
            epub: true,
            pdf: true,
        }
    }
}

/// Keys of `[output.quire]` that are not Quire's book.toml keys: mdBook's own
/// for every backend, and the backend's output formats.
const BACKEND_KEYS: [&str; 3] = ["command", "optional", "formats"];

/// `[pdf]` keys also accepted directly in `[output.quire]` (`paper = "a5"`).
const PDF_SHORTHANDS: [&str; 3] = ["paper", "open", "part-open"];

/// The line of the `[output.quire]` table in book.toml, for its diagnostics.
fn output_quire_pos(toml_text: &str) -> Pos {
    toml_text
        .lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with("[output.quire]") || l.starts_with("[output.quire.")
        })
        .map_or(AT_START, |i| Pos {
            line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            col: 1,
        })
}

/// `[output.quire]` as a Quire book.toml table, and the backend's formats.
fn quire_table(md: &MdToml) -> (toml::Table, std::result::Result<Formats, String>) {
    let mut table = md.output.quire.clone().unwrap_or_default();
    let formats = match table.get("formats") {
        None => Ok(Formats::default()),
        Some(toml::Value::Array(names)) => {
            let mut f = Formats {
                epub: false,
                pdf: false,
            };
            let mut bad = None;
            for n in names {
                match n.as_str() {
                    Some("epub") => f.epub = true,
                    Some("pdf") => f.pdf = true,
                    _ => bad = Some(n.to_string()),
                }
            }
            match bad {
                Some(b) => Err(format!(
                    "output.quire.formats: unknown format {b}: give \"epub\" and/or \"pdf\""
                )),
                None if !f.epub && !f.pdf => {
                    Err("output.quire.formats is empty: give \"epub\" and/or \"pdf\"".to_string())
                }
                None => Ok(f),
            }
        }
        Some(other) => Err(format!(
            "output.quire.formats = {other}: give a list, e.g. [\"epub\", \"pdf\"]"
        )),
    };
    for key in BACKEND_KEYS {
        table.remove(key);
    }
    let shorthands: Vec<(String, toml::Value)> = PDF_SHORTHANDS
        .iter()
        .filter_map(|k| table.remove(*k).map(|v| (k.to_string(), v)))
        .collect();
    if !shorthands.is_empty() {
        let pdf = table
            .entry("pdf")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(pdf) = pdf {
            for (k, v) in shorthands {
                // `[output.quire.pdf]` wins over the shorthand.
                pdf.entry(k).or_insert(v);
            }
        }
    }
    (table, formats)
}

/// Quire's book settings from mdBook's `[book]` and `[output.quire]`;
/// problems of `[output.quire]` are reported at its line.
fn book_settings(
    root: &Path,
    toml_path: &Path,
    quire_pos: Pos,
    md: &MdToml,
    diags: &mut Diagnostics,
) -> (BookToml, Formats) {
    let title = md
        .book
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| {
            // mdBook's title is optional: the folder name stands in.
            let name = std::fs::canonicalize(root)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "Book".into());
            title::from_slug(&name)
        });
    let (mut table, formats) = quire_table(md);
    let formats = formats.unwrap_or_else(|message| {
        diags.error(toml_path, quire_pos, message);
        Formats::default()
    });
    let mut set = |key: &str, value: toml::Value| {
        table.entry(key.to_string()).or_insert(value);
    };
    set("title", toml::Value::String(title.clone()));
    set(
        "authors",
        toml::Value::Array(
            md.book
                .authors
                .iter()
                .cloned()
                .map(toml::Value::String)
                .collect(),
        ),
    );
    set(
        "language",
        toml::Value::String(md.book.language.clone().unwrap_or_else(|| "en".into())),
    );
    set(
        "identifier",
        toml::Value::String(derived_identifier(&title, &md.book.authors)),
    );
    if let Some(d) = md.book.description.clone().filter(|d| !d.trim().is_empty()) {
        set("description", toml::Value::String(d));
    }
    // Through TOML text, not `Value::try_into`: `[pdf.booklet]` values are
    // `Spanned`, which only the TOML parser can give.
    let parsed = toml::to_string(&table)
        .map_err(|e| e.to_string())
        .and_then(|t| toml::from_str::<BookToml>(&t).map_err(|e| e.message().to_string()));
    let book = match parsed {
        Ok(b) => {
            if let Err((_, message)) = b.pdf.settings() {
                diags.error(toml_path, quire_pos, format!("[output.quire]: {message}"));
            }
            b
        }
        Err(e) => {
            diags.error(toml_path, quire_pos, format!("invalid [output.quire]: {e}"));
            BookToml {
                title,
                language: "en".into(),
                ..BookToml::default()
            }
        }
    };
    (book, formats)
}

/// A stable `urn:uuid:` from the title and authors (an mdBook book has no
/// identifier, and an EPUB needs one that stays the same build after build).
fn derived_identifier(title: &str, authors: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    for a in authors {
        h.update([0]);
        h.update(a.as_bytes());
    }
    let d = h.finalize();
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    // Shaped as a version-5-style UUID (variant bits set) so readers accept it.
    format!(
        "urn:uuid:{}-{}-5{}-{:x}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        (u8::from_str_radix(&hex[16..17], 16).unwrap_or(0) & 0x3) | 0x8,
        &hex[17..20],
        &hex[20..32]
    )
}

struct Ctx<'a> {
    root: &'a Path,
    /// `src/` relative to the root, as components.
    src: &'a [String],
    summary_path: &'a Path,
    hidelines: &'a BTreeMap<String, String>,
    /// The Rust book's `<Listing>` tags (its own mdbook-trpl preprocessor).
    trpl_listing: bool,
    /// `[output.html] mathjax-support`: MathJax delimiters become `$`/`$$`.
    mathjax: bool,
    /// Chapter texts by location, from mdBook's `RenderContext`.
    given: Option<&'a BTreeMap<String, String>>,
}

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

fn build_parts(
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

/// A chapter's text as Quire reads it: directives expanded (from its file,
/// or as mdBook's preprocessors left it), hidden lines and the title
/// heading taken out.
struct Read {
    file: SourceFile,
    /// The title: the SUMMARY entry, else the opening heading, else the file name.
    name: String,
    /// The file name without `.md`.
    stem: String,
    /// The path in `src/` (`guide/intro.md`).
    in_src: String,
}

/// Reads a (non-draft) chapter; `None` when it cannot be (reported).
fn read_body(
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

fn load_chapter(
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
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn identifier_is_stable_and_shaped_like_a_uuid() {
        let a = derived_identifier("Book", &["Ann".into()]);
        assert_eq!(a, derived_identifier("Book", &["Ann".into()]));
        assert_ne!(a, derived_identifier("Book", &["Bob".into()]));
        let uuid = a.strip_prefix("urn:uuid:").unwrap();
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12], "{a}");
    }

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
    fn headings_that_repeat_the_title() {
        assert!(same_words("What Is Ownership?", "What is Ownership?"));
        assert!(!same_words("Ownership", "What is Ownership?"));
        assert!(!same_words("", ""));
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
    type Shape = Vec<(String, String, Vec<String>)>;

    fn shape(s: &Source, root: &Path) -> Shape {
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

    fn part(title: &str, page: &str, modules: &[&str]) -> (String, String, Vec<String>) {
        (
            title.to_string(),
            page.to_string(),
            modules.iter().map(|m| m.to_string()).collect(),
        )
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

    fn md(toml_text: &str) -> MdToml {
        toml::from_str(toml_text).expect("valid toml")
    }

    #[test]
    fn output_quire_backend_keys_and_pdf_shorthands() {
        let m = md(
            "[output.quire]\ncommand = \"mdbook-quire\"\noptional = true\nformats = [\"pdf\"]\npaper = \"a5\"\npart-open = \"any\"\n[output.quire.pdf]\npart-open = \"right\"\n",
        );
        let (table, formats) = quire_table(&m);
        assert_eq!(
            formats,
            Ok(Formats {
                epub: false,
                pdf: true
            })
        );
        let text = toml::to_string(&table).expect("serialises");
        assert_eq!(text, "[pdf]\npaper = \"a5\"\npart-open = \"right\"\n");
        assert!(
            quire_table(&md("[output.quire]\nformats = [\"html\"]\n"))
                .1
                .is_err()
        );
        assert!(
            quire_table(&md("[output.quire]\nformats = []\n"))
                .1
                .is_err()
        );
        assert!(
            quire_table(&md("[output.quire]\nformats = \"pdf\"\n"))
                .1
                .is_err()
        );
        assert_eq!(quire_table(&md("")).1, Ok(Formats::default()));
    }

    #[test]
    fn output_quire_problems_are_reported_at_its_line() {
        let text = "[book]\ntitle = \"T\"\n\n[output.quire]\nopen = \"left\"\n";
        assert_eq!(output_quire_pos(text).line, 4);
        let mut diags = Diagnostics::new();
        let (book, _) = book_settings(
            Path::new("."),
            Path::new("book.toml"),
            output_quire_pos(text),
            &md(text),
            &mut diags,
        );
        assert_eq!(book.title, "T");
        let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(
            all.iter()
                .any(|e| e.starts_with("book.toml:4:1: error: invalid [output.quire]")),
            "{all:?}"
        );
        let mut diags = Diagnostics::new();
        let far = "[output.quire.pdf.booklet]\nsignature = 99\n";
        book_settings(
            Path::new("."),
            Path::new("book.toml"),
            output_quire_pos(far),
            &md(far),
            &mut diags,
        );
        let all: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert!(
            all.iter()
                .any(|e| e
                    .contains("book.toml:1:1: error: [output.quire]: pdf.booklet.signature = 99")),
            "{all:?}"
        );
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
