//! `book.toml` as mdBook reads it (`[book]`, `[output.html]`, the names of
//! `[preprocessor.*]`), and from it Quire's book settings: `[output.quire]`
//! taken as a native book.toml table, mdBook's title, authors and language
//! filled in, a derived identifier, and the `mdbook-quire` backend's formats.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::super::title;
use super::super::{AT_START, BookToml, read_text};
use crate::diag::Diagnostics;
use crate::error::Result;
use crate::model::Pos;

/// `book.toml` as mdBook reads it; unknown keys are ignored.
#[derive(Debug, Default, Deserialize)]
pub(super) struct MdToml {
    #[serde(default)]
    pub(super) book: MdBook,
    #[serde(default)]
    pub(super) output: MdOutput,
    /// Only their names matter: Quire emulates the ones it knows.
    #[serde(default)]
    pub(super) preprocessor: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MdBook {
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) authors: Vec<String>,
    pub(super) language: Option<String>,
    pub(super) description: Option<String>,
    pub(super) src: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MdOutput {
    #[serde(default)]
    pub(super) html: MdHtml,
    /// Quire's own settings, as mdBook's convention for a renderer's config.
    pub(super) quire: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MdHtml {
    #[serde(default)]
    pub(super) code: MdCode,
    /// MathJax's `\\( … \\)` and `\\[ … \\]` are math.
    #[serde(default, rename = "mathjax-support")]
    pub(super) mathjax_support: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MdCode {
    /// Language → prefix of hidden lines.
    #[serde(default)]
    pub(super) hidelines: BTreeMap<String, String>,
}

pub(super) fn read_md_toml(
    path: &Path,
    diags: &mut Diagnostics,
) -> Result<(MdToml, Option<String>)> {
    let Some(text) = read_text(path, diags)? else {
        return Ok((MdToml::default(), None));
    };
    match toml::from_str::<MdToml>(&text) {
        Ok(m) => Ok((m, Some(text))),
        Err(e) => {
            let pos = e
                .span()
                .map(|s| super::super::text::LineMap::new(&text).pos(s.start, &text))
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
pub(super) fn output_quire_pos(toml_text: &str) -> Pos {
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
pub(super) fn book_settings(
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
    // mdBook never checks a link: a stale fragment opens the chapter, a
    // link to a Markdown file that is not there is written as its `.html`,
    // and the book builds. So here both are warnings (a link to the
    // chapter's start; the text alone), unless `[output.quire] links` says
    // otherwise: the async book links `#race-select` to "## Race/select",
    // the Reference `../../core/primitive.f64.md` (a page of the site's std
    // docs), the rustc book `../../reference/…`.
    if let toml::Value::Table(links) = table
        .entry("links")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
    {
        for key in ["missing-anchors", "missing-files"] {
            links
                .entry(key)
                .or_insert_with(|| toml::Value::String("warn".into()));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_is_stable_and_shaped_like_a_uuid() {
        let a = derived_identifier("Book", &["Ann".into()]);
        assert_eq!(a, derived_identifier("Book", &["Ann".into()]));
        assert_ne!(a, derived_identifier("Book", &["Bob".into()]));
        let uuid = a.strip_prefix("urn:uuid:").unwrap();
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12], "{a}");
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
}
