//! The EPUB's tag index and the PDF's list the same terms with the same
//! modules: one module tagged `redis`, another `Redis`, "redis" and "Redis"
//! in the prose of two others. Both indexes must find every spelling.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn module(title: &str, tags: &str, body: &str) -> String {
    format!("---\ntitle: \"{title}\"\nsummary: \"S.\"\ntags: [{tags}]\n---\n\n{body}\n")
}

/// Term → titles of the modules its EPUB index entry links to (tagged and mentioned).
fn epub_index(epub: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let xhtml = common::epub::xhtml_pages(epub)
        .into_iter()
        .find(|(name, _)| name.ends_with("text/tag-index.xhtml"))
        .map(|(_, x)| x)
        .expect("a tag index");
    let mut out = BTreeMap::new();
    for entry in xhtml.split("<section class=\"index-entry\"").skip(1) {
        let term = entry
            .split("aria-label=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("term")
            .to_string();
        let entry = entry.split("</section>").next().unwrap_or("");
        let mut titles = BTreeSet::new();
        // A module link's text is its title (bold for tagged ones); section
        // links (with a #fragment) name sections, not modules.
        for link in entry.split("<a href=\"").skip(1) {
            let (href, rest) = link.split_once('"').expect("href");
            if href.contains('#') {
                continue;
            }
            let text = rest.split_once('>').map_or("", |r| r.1);
            let text = text.split("</a>").next().unwrap_or("");
            titles.insert(text.replace("<strong>", "").replace("</strong>", ""));
        }
        out.insert(term, titles);
    }
    out
}

/// Term → titles of the modules on the pages its PDF index entry lists, the
/// pages mapped to modules through the contents (one page per module here).
fn pdf_index(pdf: &Path, titles: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let o = std::process::Command::new("pdftotext")
        .args(["-layout", pdf.to_str().expect("utf-8"), "-"])
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut page_of = BTreeMap::new();
    for line in text.lines() {
        for t in titles {
            if line.contains(&format!(" {t} ")) && line.contains(". .") {
                let n: u64 = line
                    .split_whitespace()
                    .last()
                    .and_then(|w| w.parse().ok())
                    .expect("page");
                page_of.insert(n, t.to_string());
            }
        }
    }
    // Index entries, joined across wrapped lines: "Redis — modules: 3, 5; mentioned: 7, 9".
    let index = text.split("Index of technologies").last().unwrap_or("");
    let joined = index.replace("\n  ", " ");
    let mut out = BTreeMap::new();
    for line in joined
        .lines()
        .filter(|l| l.contains(" — modules: ") || l.contains(" — mentioned: "))
    {
        let (term, pages) = line.split_once(" — ").expect("entry");
        let titles: BTreeSet<String> = pages
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse::<u64>().ok())
            .filter_map(|n| page_of.get(&n).cloned())
            .collect();
        out.insert(term.trim().to_string(), titles);
    }
    out
}

/// A book of one part ("One") in a temporary folder: (the folder, its content folder).
fn one_part_book() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = dir.path().join("book");
    std::fs::create_dir_all(&content).expect("mkdir");
    write(&content, "book.toml", common::BOOK_TOML);
    write(
        &content,
        "01-one/_part.md",
        "---\ntitle: \"One\"\nsummary: \"S.\"\n---\n\nOverview.\n",
    );
    (dir, content)
}

#[test]
fn epub_and_pdf_indexes_list_the_same_modules_for_every_spelling() {
    if !common::tool("pdftotext", "poppler-utils") {
        return;
    }
    let (dir, content) = one_part_book();
    write(
        &content,
        "01-one/01-alpha.md",
        &module("Alpha", "redis", "Alpha text."),
    );
    write(
        &content,
        "01-one/02-beta.md",
        &module("Beta", "Redis", "Beta text."),
    );
    write(
        &content,
        "01-one/03-gamma.md",
        &module(
            "Gamma",
            "Kafka",
            "## Queues\n\nAnd Redis again, beside Kafka.",
        ),
    );
    write(
        &content,
        "01-one/04-delta.md",
        &module(
            "Delta",
            "Kafka",
            "## Sessions\n\nWe keep sessions in redis for speed.",
        ),
    );
    let out = dir.path().join("out");
    // Every module on a page of its own: the PDF's page numbers name modules.
    common::build(&content, &out, &["--open", "right"]);
    let book = quire::load(&content).expect("loads").book;
    let epub = epub_index(&out.join(format!("{}.epub", book.meta.slug)));
    let pdf = pdf_index(
        &out.join(format!("{}.pdf", book.meta.slug)),
        &["Alpha", "Beta", "Gamma", "Delta"],
    );
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        epub.get("Redis"),
        Some(&set(&["Alpha", "Beta", "Gamma", "Delta"])),
        "{epub:?}"
    );
    assert_eq!(epub, pdf, "EPUB index {epub:?}\nPDF index {pdf:?}");
}

/// The index stage reads the book and changes nothing in it: a module keeps
/// its tags as written, and the index gives each once, in its spelling,
/// which is what the module's page lists.
#[test]
fn index_spells_a_module_tags_once_without_changing_the_book() {
    let (dir, content) = one_part_book();
    write(
        &content,
        "01-one/01-alpha.md",
        &module("Alpha", "redis, Kafka, Redis", "Alpha text."),
    );
    write(
        &content,
        "01-one/02-beta.md",
        &module("Beta", "Redis", "Beta text."),
    );
    let loaded = quire::load(&content).expect("loads");
    let alpha = &loaded.book.parts[0].modules[0];
    assert_eq!(
        alpha.tags,
        ["redis", "Kafka", "Redis"],
        "the book as written"
    );
    let names: Vec<&str> = loaded
        .index
        .tags_of(alpha)
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["Redis", "Kafka"]);
    assert_eq!(loaded.index.tag("REDIS").map(|t| t.modules.len()), Some(2));

    let out = dir.path().join("out");
    common::build(&content, &out, &["--epub"]);
    let page = common::epub::xhtml_pages(&out.join(format!("{}.epub", loaded.book.meta.slug)))
        .into_iter()
        .find(|(name, _)| name.ends_with(&format!("m-{}.xhtml", alpha.id)))
        .map(|(_, x)| x)
        .expect("Alpha's page");
    let tag_links = |name: &str| page.matches(&format!(">{name}</a>")).count();
    assert_eq!(
        (tag_links("Redis"), tag_links("redis"), tag_links("Kafka")),
        (1, 0, 1),
        "{page}"
    );
}
