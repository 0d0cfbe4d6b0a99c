//! Load stage: reads `content/` (book.toml, part folders, module files) into
//! validated sources. Markdown is not parsed here.

mod book_toml;
pub mod front_matter;
pub mod mdbook;
pub mod text;
mod title;

use std::fs;
use std::path::{Path, PathBuf};

pub use book_toml::{BookToml, MissingAnchors, MissingFiles, RemoteImages};
use front_matter::{ModuleFront, PartFront, SplitError};

use crate::diag::Diagnostics;
use crate::error::{Error, Result};
use crate::model::{Difficulty, Pos};

/// Modules bigger than this are refused rather than risking memory blow-ups downstream.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug)]
pub struct Source {
    pub root: PathBuf,
    pub book: BookToml,
    pub parts: Vec<PartSource>,
}

#[derive(Debug)]
pub struct PartSource {
    pub number: u32,
    pub slug: String,
    pub dir: PathBuf,
    pub file: SourceFile,
    pub title: String,
    pub summary: String,
    pub modules: Vec<ModuleSource>,
}

#[derive(Debug)]
pub struct ModuleSource {
    pub number: u32,
    pub slug: String,
    pub id: String,
    pub file: SourceFile,
    pub title: String,
    pub summary: String,
    pub difficulty: Option<Difficulty>,
    /// `None`: estimated from the word count once the body is parsed.
    pub minutes: Option<u32>,
    /// Tags as written, with the position of each.
    pub tags: Vec<(String, Pos)>,
}

/// A Markdown file: its path and body, with the line the body starts on.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub body: String,
    pub body_line: u32,
}

const AT_START: Pos = Pos { line: 1, col: 1 };

/// Reads the whole book; content problems go to `diags`, only I/O failures are `Err`.
pub fn load(root: &Path, diags: &mut Diagnostics) -> Result<Source> {
    if !root.is_dir() {
        return Err(Error::Usage(format!(
            "content folder '{}' not found (pass --content DIR)",
            root.display()
        )));
    }
    // An mdBook project (book.toml with [book], src/SUMMARY.md) has a loader of its own.
    if mdbook::detect(root) {
        return mdbook::load(root, diags);
    }
    let book_path = root.join("book.toml");
    let book = read_book_toml(&book_path, diags)?;

    let mut parts: Vec<PartSource> = Vec::new();
    for (number, slug, dir) in numbered_entries(root, true, diags)? {
        if let Some(part) = load_part(number, slug, dir, diags)? {
            parts.push(part);
        }
    }
    if parts.is_empty() && !diags.has_errors() {
        diags.error(
            &book_path,
            AT_START,
            "the book has no parts: add folders named NN-slug with a _part.md",
        );
    }
    check_unique_ids(&parts, diags);
    Ok(Source {
        root: root.to_path_buf(),
        book: book.unwrap_or_else(|| BookToml {
            title: String::new(),
            subtitle: None,
            description: None,
            authors: Vec::new(),
            language: "en".into(),
            identifier: String::new(),
            version: String::new(),
            copyright: None,
            publisher: None,
            date: None,
            slug: None,
            images: Default::default(),
            links: Default::default(),
            pdf: Default::default(),
            build: Default::default(),
        }),
        parts,
    })
}

fn read_book_toml(path: &Path, diags: &mut Diagnostics) -> Result<Option<BookToml>> {
    let Some(text) = read_text(path, diags)? else {
        return Ok(None);
    };
    match toml::from_str::<BookToml>(&text) {
        Ok(b) => {
            if b.title.trim().is_empty() {
                diags.error(path, AT_START, "book title is empty");
            }
            if !b.identifier.starts_with("urn:") && !b.identifier.contains("://") {
                diags.warning(
                    path,
                    AT_START,
                    "identifier should be a URN such as urn:uuid:… or a URL",
                );
            }
            if let Some(d) = &b.date
                && crate::time::parse_date(d).is_none()
            {
                diags.error(
                    path,
                    AT_START,
                    format!("date '{d}' is not a YYYY-MM-DD date"),
                );
            }
            if let Err((span, message)) = b.pdf.settings() {
                let pos = text::LineMap::new(&text).pos(span.start, &text);
                diags.error(path, pos, message);
            }
            Ok(Some(b))
        }
        Err(e) => {
            let pos = e
                .span()
                .map(|s| {
                    let map = text::LineMap::new(&text);
                    map.pos(s.start, &text)
                })
                .unwrap_or(AT_START);
            diags.error(path, pos, format!("invalid book.toml: {}", e.message()));
            Ok(None)
        }
    }
}

/// Reads a file as text; a missing, non-UTF-8 or oversized file becomes a diagnostic.
fn read_text(path: &Path, diags: &mut Diagnostics) -> Result<Option<String>> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            diags.error(path, AT_START, "file not found");
            return Ok(None);
        }
        Err(e) => return Err(Error::io("read", path, e)),
    };
    if meta.len() > MAX_FILE_BYTES {
        diags.error(
            path,
            AT_START,
            format!(
                "file is {} MB, over the {} MB limit: split it into several modules",
                meta.len() / (1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        );
        return Ok(None);
    }
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    match text::decode(&bytes) {
        Ok(t) => Ok(Some(t)),
        Err((pos, byte)) => {
            diags.error(
                path,
                pos,
                format!("file is not valid UTF-8 (byte 0x{byte:02X}): re-save it as UTF-8"),
            );
            Ok(None)
        }
    }
}

/// `NN-slug` entries of a folder (folders if `dirs`, else `.md` files), sorted by number.
/// Duplicate numbers are errors; the first of them is kept.
fn numbered_entries(
    dir: &Path,
    dirs: bool,
    diags: &mut Diagnostics,
) -> Result<Vec<(u32, String, PathBuf)>> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
    let mut found = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = path.is_dir();
        if is_dir != dirs {
            continue;
        }
        let stem = if dirs {
            name.as_str()
        } else if let Some(s) = name.strip_suffix(".md") {
            s
        } else {
            continue;
        };
        if stem == "_part" {
            continue;
        }
        match split_number(stem) {
            Some((n, slug)) => found.push((n, slug.to_string(), path)),
            None if !dirs && !stem.starts_with('_') => diags.warning(
                &path,
                AT_START,
                "ignored: module files are named NN-slug.md (e.g. 03-caching.md)",
            ),
            None => {}
        }
    }
    // Sort by number, then name, so the order never depends on the file system.
    found.sort();
    let mut out: Vec<(u32, String, PathBuf)> = Vec::new();
    for item in found {
        if let Some(prev) = out.iter().find(|p| p.0 == item.0) {
            let what = if dirs { "part" } else { "module" };
            diags.error(
                &item.2,
                AT_START,
                format!(
                    "duplicate {what} number {:02} (also used by {}): renumber one of them",
                    item.0,
                    prev.2.display()
                ),
            );
            continue;
        }
        out.push(item);
    }
    Ok(out)
}

/// `"08-case-studies"` → `(8, "case-studies")`.
pub fn split_number(name: &str) -> Option<(u32, &str)> {
    let (num, slug) = name.split_once('-')?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || slug.is_empty() {
        return None;
    }
    Some((num.parse().ok()?, slug))
}

fn load_part(
    number: u32,
    slug: String,
    dir: PathBuf,
    diags: &mut Diagnostics,
) -> Result<Option<PartSource>> {
    let part_path = dir.join("_part.md");
    // `_part.md` is optional: without it the part is titled after its folder.
    let part_file = if part_path.is_file() {
        read_markdown::<PartFront>(&part_path, diags)?.map(|m| (m.front, m.file))
    } else {
        Some((
            PartFront::default(),
            SourceFile {
                path: part_path,
                body: String::new(),
                body_line: 1,
            },
        ))
    };
    let mut modules = Vec::new();
    for (n, mslug, path) in numbered_entries(&dir, false, diags)? {
        if let Some(md) = read_markdown::<ModuleFront>(&path, diags)?
            && let Some(m) = validate_module(n, mslug, md, diags)
        {
            modules.push(m);
        }
    }
    let Some((front, mut file)) = part_file else {
        return Ok(None);
    };
    let Some(title) = take_title(front.title, &mut file, &slug, diags) else {
        return Ok(None);
    };
    let summary = front.summary.map(|s| s.value).unwrap_or_default();
    if modules.is_empty() {
        if !file.path.is_file() {
            // A numbered folder with neither `_part.md` nor modules is not a part.
            return Ok(None);
        }
        diags.warning(&file.path, AT_START, "part has no modules");
    }
    Ok(Some(PartSource {
        number,
        slug,
        dir,
        file,
        title,
        summary,
        modules,
    }))
}

/// A Markdown file with its front matter read.
struct Markdown<T> {
    front: T,
    file: SourceFile,
    /// Whether the file has a front matter block at all.
    has_front: bool,
}

/// Reads, decodes and splits a Markdown file and parses its front matter
/// (a file without any is all body, with every field absent).
fn read_markdown<T: serde::de::DeserializeOwned>(
    path: &Path,
    diags: &mut Diagnostics,
) -> Result<Option<Markdown<T>>> {
    let Some(text) = read_text(path, diags)? else {
        return Ok(None);
    };
    let mut has_front = true;
    let split = match front_matter::split(&text) {
        Ok(s) => s,
        Err(SplitError::Missing) => {
            has_front = false;
            front_matter::Split {
                yaml: "",
                yaml_line: 1,
                body: &text,
                body_line: 1,
            }
        }
        Err(SplitError::Unterminated) => {
            diags.error(
                path,
                AT_START,
                "front matter is not closed: add a '---' line after the YAML fields",
            );
            return Ok(None);
        }
    };
    let front = match front_matter::parse::<T>(&split) {
        Ok(f) => f,
        Err(e) => {
            diags.error(path, e.pos, format!("invalid front matter: {}", e.message));
            return Ok(None);
        }
    };
    let file = SourceFile {
        path: path.to_path_buf(),
        body: split.body.to_string(),
        body_line: split.body_line,
    };
    Ok(Some(Markdown {
        front,
        file,
        has_front,
    }))
}

/// The title from front matter; else the body's leading level-1 heading, which
/// is then taken out of the body (it is printed as the title); else the file
/// or folder name. `None` (with an error) only for a `title:` that is empty.
fn take_title(
    field: Option<serde_saphyr::Spanned<String>>,
    file: &mut SourceFile,
    slug: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    if let Some(s) = field {
        return required(&file.path, Some(s), "title", diags);
    }
    if let Some(lead) = title::leading_heading(&file.body) {
        let (title, lines, rest) = (lead.title, lead.lines, lead.rest.to_string());
        file.body = rest;
        file.body_line += lines;
        return Some(title);
    }
    Some(title::from_slug(slug))
}

fn spanned_pos(s: &serde_saphyr::Spanned<impl Sized>) -> Pos {
    // Front matter always starts on line 2 (after the opening `---`).
    Pos {
        line: 1 + s.referenced.line().max(1) as u32,
        col: s.referenced.column().max(1) as u32,
    }
}

fn required(
    path: &Path,
    field: Option<serde_saphyr::Spanned<String>>,
    name: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    match field {
        Some(s) if !s.value.trim().is_empty() => Some(s.value.trim().to_string()),
        Some(s) => {
            diags.error(path, spanned_pos(&s), format!("'{name}' is empty"));
            None
        }
        None => {
            diags.error(
                path,
                AT_START,
                format!("front matter has no '{name}': add `{name}: …`"),
            );
            None
        }
    }
}

fn validate_module(
    number: u32,
    slug: String,
    md: Markdown<ModuleFront>,
    diags: &mut Diagnostics,
) -> Option<ModuleSource> {
    let Markdown {
        front,
        mut file,
        has_front,
    } = md;
    let path = file.path.clone();
    let had_body = !file.body.trim().is_empty();
    let title = take_title(front.title, &mut file, &slug, diags);
    // Optional: an absent summary is empty; an empty one is allowed too.
    let summary = front
        .summary
        .map(|s| s.value.trim().to_string())
        .unwrap_or_default();
    // Optional; a value that is not a difficulty is still an error.
    let difficulty = match front.difficulty {
        None => Ok(None),
        Some(d) => match Difficulty::parse(&d.value) {
            Some(v) => Ok(Some(v)),
            None => {
                diags.error(
                    &path,
                    spanned_pos(&d),
                    format!(
                        "unknown difficulty '{}': use beginner, intermediate or advanced",
                        d.value
                    ),
                );
                Err(())
            }
        },
    };
    // Optional (estimated from the word count when absent); 0 is an error.
    let minutes = match front.minutes {
        None => Ok(None),
        Some(m) if m.value == 0 => {
            diags.error(&path, spanned_pos(&m), "'minutes' must be at least 1");
            Err(())
        }
        Some(m) => Ok(Some(m.value)),
    };
    let tags: Vec<(String, Pos)> = front
        .tags
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| {
            let v = t.value.trim().to_string();
            if v.is_empty() {
                diags.warning(&path, spanned_pos(&t), "empty tag ignored");
                None
            } else {
                Some((v, spanned_pos(&t)))
            }
        })
        .collect();
    if file.body.trim().is_empty() {
        let pos = Pos {
            line: file.body_line,
            col: 1,
        };
        if has_front && !had_body {
            // The native layout's rule: a module with front matter has a lead paragraph.
            diags.error(
                &path,
                pos,
                "module is empty: write at least a lead paragraph after the front matter",
            );
            return None;
        } else if !had_body {
            diags.warning(&path, pos, "module is empty");
        }
    }
    let id = match front.id {
        Some(s) if is_valid_id(&s.value) => s.value,
        Some(s) => {
            diags.error(
                &path,
                spanned_pos(&s),
                format!(
                    "invalid id '{}': use lowercase letters, digits and '-'",
                    s.value
                ),
            );
            return None;
        }
        None => slug.clone(),
    };
    Some(ModuleSource {
        number,
        slug,
        id,
        file,
        title: title?,
        summary,
        difficulty: difficulty.ok()?,
        minutes: minutes.ok()?,
        tags,
    })
}

fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_unique_ids(parts: &[PartSource], diags: &mut Diagnostics) {
    let mut seen: std::collections::BTreeMap<&str, &Path> = Default::default();
    for m in parts.iter().flat_map(|p| &p.modules) {
        if let Some(first) = seen.get(m.id.as_str()) {
            diags.error(
                &m.file.path,
                AT_START,
                format!(
                    "duplicate module id '{}' (also {}): rename the file or set `id:` in the front matter",
                    m.id,
                    first.display()
                ),
            );
        } else {
            seen.insert(&m.id, &m.file.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(split_number("08-case-studies"), Some((8, "case-studies")));
        assert_eq!(split_number("case-studies"), None);
        assert_eq!(split_number("08-"), None);
        assert_eq!(split_number("x8-a"), None);
    }
}
