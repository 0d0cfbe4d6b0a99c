//! The one intermediate document model every renderer reads.
//!
//! Built by `parse`, never mutated after; `index` derives an [`Index`] from
//! it. No I/O and no rendering here: just types and small accessors.

mod inline;
pub mod paper;
pub mod print;
pub mod terms;

pub use inline::{Inline, LinkTarget, caption_has_label, inline_text};

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A position in a Markdown source file (1-based line and column, column in chars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// Index of a module in book order: `book.parts[part].modules[module]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleRef {
    pub part: usize,
    pub module: usize,
}

#[derive(Debug, Clone)]
pub struct Book {
    pub meta: BookMeta,
    /// The content folder the book was loaded from.
    pub root: PathBuf,
    pub parts: Vec<Part>,
    /// Every local image (and fetched remote image), once, in order of first use.
    pub images: Vec<Image>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BookMeta {
    pub title: String,
    pub subtitle: Option<String>,
    /// book.toml's `description` (mdBook's `[book] description`).
    pub description: Option<String>,
    pub authors: Vec<String>,
    pub language: String,
    pub identifier: String,
    pub version: String,
    pub copyright: Option<String>,
    pub publisher: Option<String>,
    /// Publication date `YYYY-MM-DD`, if the book gives one.
    pub date: Option<String>,
    /// URL-safe name used for output files (`output/<slug>.epub`).
    pub slug: String,
    /// `[pdf]` in book.toml: print settings the command line may override.
    #[serde(skip)]
    pub pdf: print::PdfSettings,
    /// `[build] formats` in book.toml: what a build writes when the command
    /// line names no format.
    #[serde(skip)]
    pub formats: Option<print::Formats>,
}

#[derive(Debug, Clone)]
pub struct Part {
    /// The `NN` of the folder name.
    pub number: u32,
    /// Folder name without the number, e.g. `case-studies`.
    pub slug: String,
    /// Stable id used for anchors and file names, e.g. `part-08`.
    pub id: String,
    pub title: String,
    pub summary: String,
    /// `_part.md`, relative to the working directory as given on the command line.
    pub source: PathBuf,
    pub overview: Vec<Block>,
    /// The overview's headings, HTML anchors and footnotes, as a module's.
    pub headings: Vec<HeadingInfo>,
    pub anchors: Vec<String>,
    pub footnotes: Vec<Footnote>,
    pub modules: Vec<Module>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Difficulty {
    Beginner,
    Intermediate,
    Advanced,
}

impl Difficulty {
    pub const ALL: [Difficulty; 3] = [Self::Beginner, Self::Intermediate, Self::Advanced];

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "beginner" | "beg" => Some(Self::Beginner),
            "intermediate" | "int" => Some(Self::Intermediate),
            "advanced" | "adv" => Some(Self::Advanced),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Beginner => "beginner",
            Self::Intermediate => "intermediate",
            Self::Advanced => "advanced",
        }
    }

    /// Human label, e.g. for badges.
    pub fn label(self) -> &'static str {
        match self {
            Self::Beginner => "Beginner",
            Self::Intermediate => "Intermediate",
            Self::Advanced => "Advanced",
        }
    }

    /// 1..=3, for badges that show level by shape as well as by text.
    pub fn level(self) -> u8 {
        self as u8 + 1
    }
}

#[derive(Debug, Clone)]
pub struct Module {
    /// Unique across the book: the file slug, e.g. `design-a-url-shortener`.
    pub id: String,
    /// The `NN` of the file name (1-based within its part).
    pub number: u32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// `None` when the source gives none: no badge, not in the difficulty index.
    pub difficulty: Option<Difficulty>,
    pub minutes: u32,
    /// Tag names as the front matter spells them, in its order (the index's
    /// spelling of each: `Index::tags_of`).
    pub tags: Vec<String>,
    pub source: PathBuf,
    pub blocks: Vec<Block>,
    /// Every heading of the body in order (ids unique within the module).
    pub headings: Vec<HeadingInfo>,
    /// Ids of HTML anchors (`<a id>`, `<a name>`) in the body, which links may target.
    pub anchors: Vec<String>,
    pub footnotes: Vec<Footnote>,
    pub words: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeadingInfo {
    pub level: u8,
    pub id: String,
    pub text: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Footnote {
    /// The label as written (`[^label]`).
    pub label: String,
    /// 1-based number in order of first reference.
    pub number: usize,
    pub blocks: Vec<Block>,
    /// How many times it is referenced (each reference gets a back link).
    pub refs: usize,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    None,
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmonitionKind {
    Note,
    Tip,
    Important,
    Warning,
    Caution,
}

impl AdmonitionKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Note => "Note",
            Self::Tip => "Tip",
            Self::Important => "Important",
            Self::Warning => "Warning",
            Self::Caution => "Caution",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Note => "note",
            Self::Tip => "tip",
            Self::Important => "important",
            Self::Warning => "warning",
            Self::Caution => "caution",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListItem {
    /// `Some(checked)` for task-list items.
    pub task: Option<bool>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    Heading {
        level: u8,
        id: String,
        content: Vec<Inline>,
        pos: Pos,
    },
    CodeBlock {
        lang: Option<String>,
        code: String,
        pos: Pos,
    },
    /// Display math standing alone as a paragraph.
    Math {
        tex: String,
        pos: Pos,
    },
    /// An image alone in its paragraph.
    Figure {
        image: ImageSource,
        alt: String,
        caption: Vec<Inline>,
        /// Display width in CSS pixels, from HTML `width` (never wider than the text).
        width: Option<u32>,
        /// A linked image (`[![alt](img)](url)`): the whole figure is the link.
        link: Option<LinkTarget>,
        pos: Pos,
    },
    /// `<details><summary>`: a titled aside (open in print).
    Details {
        summary: Vec<Inline>,
        blocks: Vec<Block>,
    },
    Quote(Vec<Block>),
    Admonition {
        kind: AdmonitionKind,
        blocks: Vec<Block>,
    },
    List {
        /// `Some(first number)` for ordered lists.
        start: Option<u64>,
        items: Vec<ListItem>,
    },
    Table {
        align: Vec<Align>,
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
        pos: Pos,
    },
    Rule,
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageSource {
    /// Index into `Book::images`.
    Local(usize),
    /// A remote image not fetched (fetching off, or the fetch failed):
    /// renderers show a captioned link. A fetched one is `Local`.
    Remote(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    Webp,
    Svg,
}

impl ImageFormat {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Svg => "image/svg+xml",
        }
    }

    /// The file extension the format is stored under.
    pub fn ext(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Svg => "svg",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Resolved path on disk.
    pub path: PathBuf,
    /// Path relative to the content root, with `/` separators (`images/x.png`);
    /// `remote/<sha256>.<ext>` for a fetched remote image.
    pub rel: String,
    pub format: ImageFormat,
    /// Intrinsic size in pixels (SVG: from width/height or viewBox).
    pub width: u32,
    pub height: u32,
    /// SVG with text: the smallest text size in pixels when the image is
    /// shown at its intrinsic width (tells a renderer when labels get too
    /// small to read on a narrow page).
    pub text_px: Option<f32>,
}

/// Tag and difficulty indexes, and term occurrences for a back-of-book index.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Keyed by the lowercased tag; iteration order is alphabetical.
    pub tags: BTreeMap<String, TagEntry>,
    pub by_difficulty: BTreeMap<Difficulty, Vec<ModuleRef>>,
    /// Every spelling of every tag and the finder over them: where the tag
    /// index found mentions, and where the PDF marks them.
    pub terms: terms::Terms,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TagEntry {
    /// One canonical spelling (the most used one; ties go to the first seen).
    pub name: String,
    /// Anchor-safe id, e.g. `tag-postgresql`.
    pub id: String,
    /// Modules tagged with it, in book order.
    pub modules: Vec<ModuleRef>,
    /// Sections whose text mentions it, in book order, one entry per section.
    pub occurrences: Vec<Occurrence>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub module: ModuleRef,
    /// Id of the nearest heading above the mention; `None` before the first heading.
    pub heading: Option<String>,
    /// How many times the term appears in that section.
    pub count: usize,
}

impl Book {
    pub fn module(&self, r: ModuleRef) -> &Module {
        &self.parts[r.part].modules[r.module]
    }

    /// All modules in book order with their references.
    pub fn modules(&self) -> impl Iterator<Item = (ModuleRef, &Module)> {
        self.parts.iter().enumerate().flat_map(|(p, part)| {
            part.modules
                .iter()
                .enumerate()
                .map(move |(m, module)| (ModuleRef { part: p, module: m }, module))
        })
    }

    pub fn module_count(&self) -> usize {
        self.parts.iter().map(|p| p.modules.len()).sum()
    }
}

impl Index {
    /// The entry of a tag, whatever its spelling.
    pub fn tag(&self, name: &str) -> Option<&TagEntry> {
        self.tags.get(&name.to_lowercase())
    }

    /// A module's tags as the index spells them, each once, in the
    /// module's order (`redis` and `Redis` in one list are one tag).
    pub fn tags_of<'a>(&'a self, module: &Module) -> Vec<&'a TagEntry> {
        let mut out: Vec<&TagEntry> = Vec::new();
        for entry in module.tags.iter().filter_map(|t| self.tag(t)) {
            if !out.iter().any(|e| e.id == entry.id) {
                out.push(entry);
            }
        }
        out
    }
}

impl Module {
    pub fn heading(&self, id: &str) -> Option<&HeadingInfo> {
        self.headings.iter().find(|h| h.id == id)
    }

    /// Whether `id` names a heading or an HTML anchor of this module.
    pub fn has_target(&self, id: &str) -> bool {
        self.heading(id).is_some() || self.anchors.iter().any(|a| a == id)
    }
}
