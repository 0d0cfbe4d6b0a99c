//! What the templates see: plain, serialisable views of the model with the
//! EPUB's hrefs already worked out.

use std::collections::BTreeMap;

use minijinja::Value;
use serde::Serialize;

use super::xhtml::{module_file, part_file};
use crate::model::{Book, Difficulty, Index, ModuleRef};

/// A serialisable value as a template value.
pub fn to_value<T: Serialize>(t: &T) -> Value {
    Value::from(minijinja::value::Serde(t))
}

#[derive(Debug, Clone, Serialize)]
pub struct DifficultyView {
    pub key: &'static str,
    pub label: &'static str,
    /// Filled and empty dots: the level as a shape, for readers who can't rely on colour.
    pub dots: &'static str,
}

pub fn difficulty(d: Difficulty) -> DifficultyView {
    DifficultyView {
        key: d.as_str(),
        label: d.label(),
        dots: match d {
            Difficulty::Beginner => "●○○",
            Difficulty::Intermediate => "●●○",
            Difficulty::Advanced => "●●●",
        },
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TagView {
    pub name: String,
    pub id: String,
    /// Its entry in the tag index (which may be split over several files).
    pub href: String,
}

/// Which tag-index file holds each tag's entry, by tag id.
pub type TagFiles = BTreeMap<String, String>;

/// The href of a tag's index entry, from a page in `text/`.
pub fn tag_href(files: &TagFiles, id: &str) -> String {
    let file = files.get(id).map_or(TAG_INDEX_FILE, String::as_str);
    format!("{file}#{id}")
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub title: String,
    pub href: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleView {
    pub id: String,
    pub href: String,
    pub title: String,
    pub number: u32,
    /// "8.1": part number and module number.
    pub number_label: String,
    pub part_label: String,
    pub minutes: u32,
    /// `None`: the module has no difficulty, so no badge.
    pub difficulty: Option<DifficultyView>,
    pub tags: Vec<TagView>,
    pub sections: Vec<SectionView>,
    pub body_html: Value,
    pub footnotes_html: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartView {
    pub id: String,
    pub href: String,
    pub label: String,
    pub title: String,
    pub summary: String,
    /// Rendered XHTML (already escaped by the writer): a safe string, never escaped again.
    pub overview_html: Value,
    /// The overview's footnotes, rendered likewise (empty without any).
    pub footnotes_html: Value,
    /// The overview's `##` headings (an mdBook chapter's, as a part's page).
    pub sections: Vec<SectionView>,
    pub modules: Vec<ModuleView>,
}

/// A page's `##` headings as nav entries (`href`: the page's file).
fn sections(headings: &[crate::model::HeadingInfo], href: &str) -> Vec<SectionView> {
    headings
        .iter()
        .filter(|h| h.level == 2 && !h.text.trim().is_empty())
        .map(|h| SectionView {
            title: h.text.clone(),
            href: format!("{href}#{}", h.id),
        })
        .collect()
}

pub fn module_view(book: &Book, index: &Index, r: ModuleRef, tag_files: &TagFiles) -> ModuleView {
    let m = book.module(r);
    let part = &book.parts[r.part];
    let href = module_file(book, r);
    ModuleView {
        id: m.id.clone(),
        title: m.title.clone(),
        number: m.number,
        number_label: format!("{}.{}", part.number, m.number),
        part_label: format!("Part {}", part.number),
        minutes: m.minutes,
        difficulty: m.difficulty.map(difficulty),
        tags: index
            .tags_of(m)
            .into_iter()
            .map(|t| TagView {
                name: t.name.clone(),
                id: t.id.clone(),
                href: tag_href(tag_files, &t.id),
            })
            .collect(),
        sections: sections(&m.headings, &href),
        href,
        body_html: Value::from(""),
        footnotes_html: Value::from(""),
    }
}

pub fn part_view(book: &Book, index: &Index, p: usize, tag_files: &TagFiles) -> PartView {
    let part = &book.parts[p];
    PartView {
        id: part.id.clone(),
        href: part_file(book, p),
        label: format!("Part {}", part.number),
        title: part.title.clone(),
        summary: part.summary.clone(),
        overview_html: Value::from(""),
        footnotes_html: Value::from(""),
        sections: sections(&part.headings, &part_file(book, p)),
        modules: (0..part.modules.len())
            .map(|m| module_view(book, index, ModuleRef { part: p, module: m }, tag_files))
            .collect(),
    }
}

/// The first (or only) file of the tag index.
pub const TAG_INDEX_FILE: &str = "tag-index.xhtml";

#[derive(Debug, Clone, Serialize)]
pub struct SectionLink {
    pub href: String,
    pub title: String,
}

/// A module that mentions a tag without being tagged with it: one link, then
/// the sections that mention it.
#[derive(Debug, Clone, Serialize)]
pub struct MentionView {
    pub href: String,
    pub title: String,
    pub sections: Vec<SectionLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagIndexView {
    pub name: String,
    pub id: String,
    pub modules: Vec<ModuleLink>,
    pub mentions: Vec<MentionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleLink {
    href: String,
    title: String,
    minutes: u32,
}

fn link(book: &Book, r: ModuleRef) -> ModuleLink {
    let m = book.module(r);
    ModuleLink {
        href: module_file(book, r),
        title: m.title.clone(),
        minutes: m.minutes,
    }
}

/// One letter of the tag index.
#[derive(Debug, Clone, Serialize)]
pub struct LetterGroup {
    /// "A", "B", …; "0–9" for tags that start with a digit or a symbol.
    pub letter: String,
    /// Anchor of the letter's heading.
    pub id: String,
    pub tags: Vec<TagIndexView>,
}

/// Each tag once, with the modules tagged with it (each once) and then, one
/// link per module, the other modules whose sections mention it: a mention
/// inside a module already listed adds nothing.
pub fn tag_entries(book: &Book, index: &Index) -> Vec<TagIndexView> {
    index
        .tags
        .values()
        .map(|t| {
            let mut tagged: Vec<ModuleRef> = Vec::new();
            for &r in &t.modules {
                if !tagged.contains(&r) {
                    tagged.push(r);
                }
            }
            let mut mentions: Vec<(ModuleRef, MentionView)> = Vec::new();
            for o in t.occurrences.iter().filter(|o| !tagged.contains(&o.module)) {
                let i = match mentions.iter().position(|(r, _)| *r == o.module) {
                    Some(i) => i,
                    None => {
                        let l = link(book, o.module);
                        mentions.push((
                            o.module,
                            MentionView {
                                href: l.href,
                                title: l.title,
                                sections: Vec::new(),
                            },
                        ));
                        mentions.len() - 1
                    }
                };
                let m = book.module(o.module);
                if let Some(h) = o.heading.as_deref().and_then(|h| m.heading(h)) {
                    let mention = &mut mentions[i].1;
                    let href = format!("{}#{}", mention.href, h.id);
                    if !mention.sections.iter().any(|s| s.href == href) {
                        mention.sections.push(SectionLink {
                            href,
                            title: h.text.clone(),
                        });
                    }
                }
            }
            TagIndexView {
                name: t.name.clone(),
                id: t.id.clone(),
                modules: tagged.iter().map(|&r| link(book, r)).collect(),
                mentions: mentions.into_iter().map(|(_, m)| m).collect(),
            }
        })
        .collect()
}

/// The letter a tag is filed under: its first letter or digit, upper-cased;
/// digits and symbols share one group.
fn letter_of(name: &str) -> String {
    match name.chars().find(|c| c.is_alphanumeric()) {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => DIGITS.into(),
    }
}

/// Tags (already in index order) grouped by letter, in order.
pub fn letter_groups(tags: Vec<TagIndexView>) -> Vec<LetterGroup> {
    let mut groups: Vec<LetterGroup> = Vec::new();
    for t in tags {
        let letter = letter_of(&t.name);
        match groups.last_mut() {
            Some(g) if g.letter == letter => g.tags.push(t),
            _ => {
                let id = letter_id(&letter);
                groups.push(LetterGroup {
                    letter,
                    id,
                    tags: vec![t],
                });
            }
        }
    }
    groups
}

/// An ASCII anchor for a letter heading ("index-a", "index-u00e9", "index-0").
fn letter_id(letter: &str) -> String {
    let key: String = letter
        .chars()
        .next()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                c.to_ascii_lowercase().to_string()
            } else if c.is_ascii_digit() {
                "0".into()
            } else {
                format!("u{:04x}", u32::from(c))
            }
        })
        .unwrap_or_default();
    format!("index-{key}")
}

/// Splits `units` into consecutive runs, each as long as `fits` allows; a
/// unit that doesn't fit even alone gets a run of its own.
pub fn pack<T: Clone>(units: &[T], mut fits: impl FnMut(&[T]) -> bool) -> Vec<Vec<T>> {
    let mut runs: Vec<Vec<T>> = Vec::new();
    let mut current: Vec<T> = Vec::new();
    for u in units {
        current.push(u.clone());
        if current.len() > 1 && !fits(&current) {
            current.pop();
            runs.push(std::mem::replace(&mut current, vec![u.clone()]));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// A letter group too big for one file, cut into groups of whole entries
/// ("S", "S (2)", …) that each `fits`.
pub fn split_group(
    group: &LetterGroup,
    mut fits: impl FnMut(&LetterGroup) -> bool,
) -> Vec<LetterGroup> {
    let runs = pack(&group.tags, |tags| {
        fits(&LetterGroup {
            letter: group.letter.clone(),
            id: group.id.clone(),
            tags: tags.to_vec(),
        })
    });
    runs.into_iter()
        .enumerate()
        .map(|(k, tags)| LetterGroup {
            letter: if k == 0 {
                group.letter.clone()
            } else {
                format!("{} ({})", group.letter, k + 1)
            },
            id: if k == 0 {
                group.id.clone()
            } else {
                format!("{}-{}", group.id, k + 1)
            },
            tags,
        })
        .collect()
}

/// One file of the tag index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexPage {
    pub file: String,
    /// "A–F" when the index is split, empty otherwise.
    pub range: String,
    pub first: bool,
    pub groups: Vec<LetterGroup>,
}

/// Index files from runs of letter groups: the first is `tag-index.xhtml`
/// (every link to "the index" lands there), then `tag-index-2.xhtml`, ….
pub fn index_pages(runs: Vec<Vec<LetterGroup>>) -> Vec<IndexPage> {
    let split = runs.len() > 1;
    runs.into_iter()
        .enumerate()
        .map(|(k, groups)| {
            let range = if split {
                range_label(&groups)
            } else {
                String::new()
            };
            IndexPage {
                file: if k == 0 {
                    TAG_INDEX_FILE.to_string()
                } else {
                    format!("tag-index-{}.xhtml", k + 1)
                },
                range,
                first: k == 0,
                groups,
            }
        })
        .collect()
}

/// "A–F", "K", or "0–9, A–C" when digits lead (a range from a digit group reads badly).
fn range_label(groups: &[LetterGroup]) -> String {
    let letters: Vec<String> = groups.iter().map(|g| base_letter(&g.letter)).collect();
    let span = |ls: &[String]| match (ls.first(), ls.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}–{b}"),
        (Some(a), _) => a.clone(),
        _ => String::new(),
    };
    match letters.split_first() {
        Some((first, rest)) if first == DIGITS && !rest.is_empty() => {
            format!("{first}, {}", span(rest))
        }
        _ => span(&letters),
    }
}

/// The group of tags that start with a digit or a symbol.
const DIGITS: &str = "0–9";

/// "S (2)" → "S".
fn base_letter(label: &str) -> String {
    label.split(" (").next().unwrap_or(label).to_string()
}

/// Tag id → file, for links to index entries.
pub fn tag_files(pages: &[IndexPage]) -> TagFiles {
    pages
        .iter()
        .flat_map(|p| {
            p.groups
                .iter()
                .flat_map(|g| g.tags.iter().map(|t| (t.id.clone(), p.file.clone())))
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct LetterLink {
    pub letter: String,
    pub href: String,
}

/// The jump list shown on every index file: each letter once, linking to
/// its heading in whichever file holds it.
pub fn letter_links(pages: &[IndexPage]) -> Vec<LetterLink> {
    let mut links: Vec<LetterLink> = Vec::new();
    for p in pages {
        for g in &p.groups {
            let letter = base_letter(&g.letter);
            if links.last().is_none_or(|l| l.letter != letter) {
                links.push(LetterLink {
                    letter,
                    href: format!("{}#{}", p.file, g.id),
                });
            }
        }
    }
    links
}

#[derive(Debug, Serialize)]
struct LevelView {
    difficulty: DifficultyView,
    modules: Vec<ModuleLink>,
}

pub fn difficulty_index(book: &Book, index: &Index) -> Value {
    let levels: Vec<LevelView> = Difficulty::ALL
        .iter()
        .map(|&d| LevelView {
            difficulty: difficulty(d),
            modules: index
                .by_difficulty
                .get(&d)
                .map(|v| v.iter().map(|&r| link(book, r)).collect())
                .unwrap_or_default(),
        })
        .collect();
    to_value(&levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str) -> TagIndexView {
        TagIndexView {
            name: name.into(),
            id: format!("tag-{}", name.to_lowercase()),
            modules: vec![],
            mentions: vec![],
        }
    }

    #[test]
    fn pack_fills_runs_in_order_and_isolates_what_never_fits() {
        let sum = |xs: &[u32]| xs.iter().sum::<u32>() <= 10;
        assert_eq!(
            pack(&[4, 5, 2, 9, 30, 1, 1], sum),
            vec![vec![4, 5], vec![2], vec![9], vec![30], vec![1, 1]]
        );
        assert_eq!(pack(&[1, 2], sum), vec![vec![1, 2]]);
        assert!(pack::<u32>(&[], sum).is_empty());
    }

    #[test]
    fn letters_pages_and_jump_links() {
        let groups = letter_groups(
            [
                "3scale",
                "Apache",
                "aws",
                "Kafka",
                "Kubernetes",
                "Zig",
                "Élan",
            ]
            .into_iter()
            .map(tag)
            .collect(),
        );
        let letters: Vec<(&str, &str)> = groups
            .iter()
            .map(|g| (g.letter.as_str(), g.id.as_str()))
            .collect();
        assert_eq!(
            letters,
            [
                ("0–9", "index-0"),
                ("A", "index-a"),
                ("K", "index-k"),
                ("Z", "index-z"),
                ("É", "index-u00c9")
            ]
        );
        // One file: no range, every link into tag-index.xhtml.
        let one = index_pages(vec![groups.clone()]);
        assert_eq!((one.len(), one[0].range.as_str()), (1, ""));
        // Split: the first file keeps the index's name; a letter cut in two is one jump link.
        let k = groups[2].clone();
        let halves = split_group(&k, |g| g.tags.len() <= 1);
        assert_eq!(halves.len(), 2);
        assert_eq!(
            (halves[1].letter.as_str(), halves[1].id.as_str()),
            ("K (2)", "index-k-2")
        );
        let pages = index_pages(vec![
            groups[..2].to_vec(),
            vec![halves[0].clone()],
            vec![halves[1].clone(), groups[3].clone(), groups[4].clone()],
        ]);
        let names: Vec<(&str, &str)> = pages
            .iter()
            .map(|p| (p.file.as_str(), p.range.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("tag-index.xhtml", "0–9, A"),
                ("tag-index-2.xhtml", "K"),
                ("tag-index-3.xhtml", "K–É")
            ]
        );
        let files = tag_files(&pages);
        assert_eq!(
            tag_href(&files, "tag-kubernetes"),
            "tag-index-3.xhtml#tag-kubernetes"
        );
        assert_eq!(tag_href(&files, "tag-apache"), "tag-index.xhtml#tag-apache");
        let jumps: Vec<String> = letter_links(&pages).into_iter().map(|l| l.href).collect();
        assert_eq!(
            jumps,
            [
                "tag-index.xhtml#index-0",
                "tag-index.xhtml#index-a",
                "tag-index-2.xhtml#index-k",
                "tag-index-3.xhtml#index-z",
                "tag-index-3.xhtml#index-u00c9"
            ]
        );
    }
}
