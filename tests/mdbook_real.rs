//! Three real mdBook books, vendored as excerpts under `tests/books/` (from Debian's source
//! package rustc 1.63.0+dfsg1-2, dual-licensed MIT or Apache-2.0: each folder holds the
//! licences and a SOURCE.md saying what was kept and trimmed), each built both ways a user
//! would: `quire build --content BOOK`, and `mdbook build` on a copy whose book.toml gains
//! `[output.quire]`, with `mdbook-quire` on PATH.
//!
//! - `rustc-dev-guide`: `# Part` titles, prefix and suffix chapters, separators, nesting
//!   three deep, a SUMMARY entry by reference link (`[…][pau]`).
//! - `rust-by-example`: no part titles, chapters nested four deep.
//! - `rust-book` (*The Rust Programming Language*): about 120 `{{#include}}` and
//!   `{{#rustdoc_include}}` directives into `listings/`, with anchors and line ranges.
//!
//! For each book and each way: exit 0; only the warnings the trimming causes (links to
//! chapters left out) and the books' own stale fragments; epubcheck 0 errors / 0 warnings;
//! every SUMMARY chapter in the EPUB's contents and the PDF's bookmarks, in SUMMARY order,
//! each bookmark on the page that shows its title; every internal link of the EPUB reaches
//! a page and an id, and every link between chapters is a link in the PDF too, landing
//! where its heading is; each included listing's text in the EPUB and in `pdftotext`; no
//! `{{#` anywhere.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::epub::{check_structure, epubcheck, nested_anchors, xhtml_pages};
use common::pdf::{PdfLink, Word, pdf_links, pdf_words};
use common::{mdbook_build_with, pdf_pages, quire, repo_root};

/// A vendored book and what it takes to build it.
struct RealBook {
    /// The folder under `tests/books/`.
    name: &'static str,
    /// The file stem of its EPUB and book PDF (from its title).
    stem: &'static str,
    /// Parts of the built book.
    parts: usize,
    /// At least this many links between chapters (in the EPUB and the PDF).
    chapter_links: usize,
    /// At least this many directives whose text is checked.
    includes: usize,
    /// For `mdbook build`: the book's own outputs it cannot run here are
    /// made optional, as mdBook's error message says to (the rustc-dev-guide
    /// runs `mdbook-linkcheck`).
    mdbook_env: &'static [(&'static str, &'static str)],
}

const RUSTC_DEV_GUIDE: RealBook = RealBook {
    name: "rustc-dev-guide",
    stem: "guide-to-rustc-development",
    parts: 3,
    chapter_links: 30,
    includes: 0,
    mdbook_env: &[("MDBOOK_OUTPUT__LINKCHECK__OPTIONAL", "true")],
};

const RUST_BY_EXAMPLE: RealBook = RealBook {
    name: "rust-by-example",
    stem: "rust-by-example",
    parts: 4,
    chapter_links: 5,
    includes: 0,
    mdbook_env: &[],
};

const RUST_BOOK: RealBook = RealBook {
    name: "rust-book",
    stem: "the-rust-programming-language",
    parts: 6,
    chapter_links: 12,
    includes: 100,
    mdbook_env: &[],
};

/// The only warnings a vendored excerpt may give: links to chapters the
/// trimming left out (`.html` ones leave the book, `.md` ones name no file),
/// and a fragment the upstream book itself got wrong.
const EXPECTED_WARNINGS: [&str; 3] = [
    "leaves the book (not a module of it)",
    "which is not a module of this book",
    "link to missing heading",
];

fn book_dir(b: &RealBook) -> PathBuf {
    repo_root().join("tests/books").join(b.name)
}

/// What one way of building wrote, and what it said.
struct Built {
    way: &'static str,
    epub: PathBuf,
    pdf: PathBuf,
    stderr: String,
    _dir: tempfile::TempDir,
}

fn build_with_quire(b: &RealBook) -> Built {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = book_dir(b);
    let out = quire(&[
        "--content",
        book.to_str().expect("utf-8"),
        "--out",
        dir.path().to_str().expect("utf-8"),
        "build",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{}: quire build failed:\n{stderr}",
        b.name
    );
    Built {
        way: "quire build",
        epub: dir.path().join(format!("{}.epub", b.stem)),
        pdf: dir.path().join(format!("{}.pdf", b.stem)),
        stderr,
        _dir: dir,
    }
}

/// None when mdBook is not installed (skipped locally, a failure in CI).
fn build_with_mdbook(b: &RealBook) -> Option<Built> {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = dir.path().join(b.name);
    common::copy_dir(&book_dir(b), &book);
    let toml = book.join("book.toml");
    let mut text = std::fs::read_to_string(&toml).expect("book.toml");
    text.push_str("\n[output.quire]\n");
    std::fs::write(&toml, text).expect("write book.toml");
    let run = mdbook_build_with(&book, b.mdbook_env)?;
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(
        run.status.success(),
        "{}: mdbook build failed:\n{stderr}",
        b.name
    );
    let out = book.join("book/quire");
    Some(Built {
        way: "mdbook build",
        epub: out.join(format!("{}.epub", b.stem)),
        pdf: out.join(format!("{}.pdf", b.stem)),
        stderr,
        _dir: dir,
    })
}

/// The chapters SUMMARY.md lists, in order: (link text as plain text, path
/// in `src/`). Drafts (`[Name]()`) have no path and are left out.
fn summary_chapters(book: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(book.join("src/SUMMARY.md")).expect("SUMMARY.md");
    let refs: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| {
            let (label, target) = l.trim().strip_prefix('[')?.split_once("]:")?;
            Some((label.to_string(), target.trim().to_string()))
        })
        .collect();
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim().trim_start_matches(['-', '*']).trim();
        let Some(rest) = l.strip_prefix('[') else {
            continue;
        };
        let Some((name, after)) = rest.split_once(']') else {
            continue;
        };
        let path = if let Some(p) = after.strip_prefix('(') {
            p.trim_end_matches(')').to_string()
        } else if let Some(r) = after.strip_prefix('[') {
            match refs.get(r.trim_end_matches(']')) {
                Some(p) => p.clone(),
                None => continue,
            }
        } else {
            continue;
        };
        if path.is_empty() {
            continue;
        }
        let path = path.trim_start_matches("./").to_string();
        out.push((plain(&name.replace('`', "")), path));
    }
    out
}

/// Text compared across outputs: curly quotes straight, whitespace single.
fn plain(s: &str) -> String {
    s.replace(['’', '‘'], "'")
        .replace(['“', '”'], "\"")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `Part 3: Analysis` → `Analysis` (parts from chapters carry the chapter's name).
fn without_part_number(label: &str) -> &str {
    match label.split_once(": ") {
        Some((p, rest))
            if p.strip_prefix("Part ")
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())) =>
        {
            rest
        }
        _ => label,
    }
}

fn parse_xml(text: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts).expect("well-formed XHTML")
}

fn node_text(n: roxmltree::Node<'_, '_>) -> String {
    n.descendants()
        .filter(|t| t.is_text())
        .filter_map(|t| t.text())
        .collect()
}

/// `names` appear in `have` in this order (other entries may come between).
fn assert_subsequence(have: &[String], names: &[String], what: &str) {
    let mut at = 0;
    for n in names {
        match have[at..].iter().position(|h| h == n) {
            Some(i) => at += i + 1,
            None => panic!(
                "{what}: '{n}' missing or out of SUMMARY order; after entry {at} come: {:?}",
                &have[at.min(have.len())..]
            ),
        }
    }
}

/// The bookmarks of a PDF, depth first: (title, page index from 0).
fn bookmarks(pdf: &Path) -> Vec<(String, usize)> {
    let out = std::process::Command::new("qpdf")
        .args(["--json", "--json-key=outlines"])
        .arg(pdf)
        .output()
        .expect("qpdf --json");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("qpdf json");
    let mut stack: Vec<serde_json::Value> = v["outlines"]
        .as_array()
        .expect("outlines")
        .iter()
        .rev()
        .cloned()
        .collect();
    let mut found = Vec::new();
    while let Some(o) = stack.pop() {
        let page = o["destpageposfrom1"].as_u64().expect("bookmark page") as usize;
        found.push((
            o["title"].as_str().unwrap_or_default().to_string(),
            page - 1,
        ));
        stack.extend(o["kids"].as_array().into_iter().flatten().rev().cloned());
    }
    found
}

fn page_text(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A link between two pages of the EPUB: its text, and the text where it
/// lands (the heading or anchored element its fragment names, else the
/// page's title).
#[derive(Debug)]
struct ChapterLink {
    page: String,
    text: String,
    lands_on: String,
}

/// The links from one chapter's page to another's.
fn chapter_links(epub: &Path) -> Vec<ChapterLink> {
    // Modules' pages and parts' (contents, indexes and the like are not chapters).
    let is_chapter = |n: &str| {
        n.strip_prefix("EPUB/text/")
            .is_some_and(|f| f.starts_with("m-") || f.starts_with("part-"))
    };
    let pages: BTreeMap<String, String> = xhtml_pages(epub)
        .into_iter()
        .filter(|(n, _)| is_chapter(n))
        .collect();
    let mut links = Vec::new();
    for (name, xhtml) in &pages {
        let doc = parse_xml(xhtml);
        for a in doc.descendants().filter(|n| n.has_tag_name("a")) {
            let Some(href) = a.attribute("href") else {
                continue;
            };
            let (file, frag) = href.split_once('#').unwrap_or((href, ""));
            let target = format!("EPUB/text/{file}");
            if file.is_empty() || file.contains('/') || target == *name {
                continue;
            }
            let Some(t) = pages.get(&target) else {
                continue;
            };
            let tdoc = parse_xml(t);
            let landing = if frag.is_empty() {
                tdoc.descendants().find(|n| n.has_tag_name("h1"))
            } else {
                tdoc.descendants().find(|n| n.attribute("id") == Some(frag))
            };
            let Some(landing) = landing else {
                panic!("{name}: '{href}' lands nowhere in {target}");
            };
            links.push(ChapterLink {
                page: name.clone(),
                text: plain(&node_text(a)),
                lands_on: plain(&node_text(landing)),
            });
        }
    }
    links
}

/// The lines a directive's `path:selector` takes from its file: an anchor's
/// lines, a line range (`3`, `3:8`, `:8`, `3:`), or all of it.
fn selected_lines(text: &str, selector: Option<&str>) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(sel) = selector.filter(|s| !s.is_empty()) else {
        return lines.iter().map(|l| l.to_string()).collect();
    };
    let num = |s: &str| s.parse::<usize>().ok();
    let (from, to) = match sel.split_once(':') {
        Some((a, b))
            if (a.is_empty() || num(a).is_some()) && (b.is_empty() || num(b).is_some()) =>
        {
            (num(a).unwrap_or(1), num(b).unwrap_or(lines.len()))
        }
        None if num(sel).is_some() => (num(sel).unwrap_or(1), num(sel).unwrap_or(1)),
        _ => {
            let start = format!("ANCHOR: {sel}");
            let end = format!("ANCHOR_END: {sel}");
            let mut inside = false;
            let mut out = Vec::new();
            for l in &lines {
                if l.contains(&end) {
                    inside = false;
                } else if l.contains(&start) {
                    inside = true;
                } else if inside {
                    out.push(l.to_string());
                }
            }
            assert!(!out.is_empty(), "no lines for anchor '{sel}'");
            return out;
        }
    };
    lines[from.saturating_sub(1).min(lines.len())..to.min(lines.len())]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// For each `{{#include}}` / `{{#rustdoc_include}}` of the book's chapters:
/// (chapter, directive, the longest line it brings in that a reader sees:
/// no `ANCHOR` line, no hidden `# ` line).
fn included_samples(book: &Path) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (_, chapter) in summary_chapters(book) {
        let path = book.join("src").join(&chapter);
        let text = std::fs::read_to_string(&path).expect("chapter");
        for piece in text.split("{{#").skip(1) {
            let Some((directive, _)) = piece.split_once("}}") else {
                continue;
            };
            let Some(arg) = directive
                .strip_prefix("rustdoc_include ")
                .or_else(|| directive.strip_prefix("include "))
            else {
                continue;
            };
            let arg = arg.trim();
            let (file, selector) = match arg.split_once(':') {
                Some((f, s)) => (f, Some(s)),
                None => (arg, None),
            };
            let included = std::fs::read_to_string(path.parent().expect("dir").join(file))
                .unwrap_or_else(|e| panic!("{chapter}: {{{{#{directive}}}}}: {e}"));
            let sample = selected_lines(&included, selector)
                .into_iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.contains("ANCHOR") && !l.starts_with('#'))
                .max_by_key(|l| l.len())
                .unwrap_or_default();
            if sample.len() >= 6 {
                out.push((chapter.clone(), format!("{{{{#{directive}}}}}"), sample));
            }
        }
    }
    out
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every check of one way's outputs; panics with the book and the way.
fn check_outputs(b: &RealBook, built: &Built) {
    let what = format!("{} ({})", b.name, built.way);
    let book = book_dir(b);
    for f in [&built.epub, &built.pdf] {
        assert!(
            f.is_file(),
            "{what}: {} missing:\n{}",
            f.display(),
            built.stderr
        );
    }
    // Only the warnings the excerpt's trimming and the book itself cause.
    for line in built.stderr.lines().filter(|l| l.contains(": warning:")) {
        assert!(
            EXPECTED_WARNINGS.iter().any(|k| line.contains(k)),
            "{what}: unexpected warning: {line}"
        );
    }

    if let Some(report) = epubcheck(&built.epub) {
        assert!(
            report.contains("0 fatals / 0 errors / 0 warnings"),
            "{what}: epubcheck:\n{report}"
        );
    }

    // Every chapter, in SUMMARY order, in the EPUB's contents.
    let chapters: Vec<String> = summary_chapters(&book)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let pages = xhtml_pages(&built.epub);
    let nav = &pages
        .iter()
        .find(|(n, _)| n == "EPUB/nav.xhtml")
        .expect("nav")
        .1;
    let nav_doc = parse_xml(nav);
    let toc = nav_doc
        .descendants()
        .find(|n| {
            n.has_tag_name("nav")
                && n.attribute(("http://www.idpf.org/2007/ops", "type")) == Some("toc")
        })
        .expect("the toc nav");
    let labels: Vec<String> = toc
        .descendants()
        .filter(|n| n.has_tag_name("a"))
        .map(|a| plain(without_part_number(&node_text(a))))
        .collect();
    assert_subsequence(&labels, &chapters, &format!("{what}: EPUB contents"));
    let parts = toc
        .descendants()
        .filter(|n| n.has_tag_name("a"))
        .filter(|a| without_part_number(&node_text(*a)) != node_text(*a))
        .count();
    assert_eq!(parts, b.parts, "{what}: parts in the contents: {labels:?}");

    // Every internal href reaches a page and an id.
    let loaded = quire::load(&book).expect("the book loads");
    check_structure(&built.epub, &loaded);
    assert!(
        nested_anchors(&built.epub).is_empty(),
        "{what}: a link inside a link"
    );
    let links = chapter_links(&built.epub);
    assert!(
        links.len() >= b.chapter_links,
        "{what}: {} links between chapters, expected at least {}",
        links.len(),
        b.chapter_links
    );

    // No directive left, includes resolved: in the EPUB's text...
    let mut epub_text = String::new();
    for (name, xhtml) in &pages {
        assert!(!xhtml.contains("{{#"), "{what}: '{{{{#' in {name}");
        epub_text.push_str(&node_text(parse_xml(xhtml).root()));
    }
    let epub_text = squeeze(&epub_text);
    let samples = included_samples(&book);
    assert!(
        samples.len() >= b.includes,
        "{what}: {} include directives, expected at least {}",
        samples.len(),
        b.includes
    );
    for (chapter, directive, line) in &samples {
        assert!(
            epub_text.contains(&squeeze(line)),
            "{what}: {chapter}: {directive}: '{line}' is not in the EPUB"
        );
    }

    if !common::tool("pdftotext", "poppler-utils") || !common::tool("qpdf", "qpdf") {
        return;
    }
    // ...and in the PDF's.
    // In layout order: a code line's parts stay on their line.
    let pdf_text = pdf_pages(&built.pdf, true).concat();
    assert!(!pdf_text.contains("{{#"), "{what}: '{{{{#' in the PDF");
    // A code line too long for the page goes on after a `↪`.
    let pdf_squeezed = squeeze(&pdf_text.replace('↪', ""));
    for (chapter, directive, line) in &samples {
        assert!(
            pdf_squeezed.contains(&squeeze(line)),
            "{what}: {chapter}: {directive}: '{line}' is not in the PDF"
        );
    }

    // Every chapter, in SUMMARY order, in the bookmarks, each on the page
    // that shows its title.
    let words = pdf_words(&built.pdf);
    let marks = bookmarks(&built.pdf);
    let titles: Vec<String> = marks
        .iter()
        .map(|(t, _)| plain(without_part_number(t)))
        .collect();
    assert_subsequence(&titles, &chapters, &format!("{what}: PDF bookmarks"));
    for ((title, page), plain_title) in marks.iter().zip(&titles) {
        if !chapters.contains(plain_title) {
            continue;
        }
        let shown = plain(&page_text(&words[*page]));
        let first = plain_title.split_whitespace().next().expect("a word");
        assert!(
            shown.contains(first),
            "{what}: bookmark '{title}' goes to page {}, which does not show it: {shown}",
            page + 1
        );
    }

    // Every link between chapters is a link in the PDF (by its text), and
    // one such link lands where the EPUB's lands: its heading's first word
    // is within a line of the destination.
    let pdf_links: Vec<PdfLink> = pdf_links(&built.pdf, &words);
    let trim = |s: &str| {
        plain(s)
            .trim_matches(|c: char| c.is_ascii_punctuation() && c != '`')
            .to_string()
    };
    for link in &links {
        let text = trim(&link.text);
        let Some(first) = text.split_whitespace().next() else {
            continue;
        };
        // A link over two lines has one box around both (QuadPoints mark
        // its pieces), so its words are among those the box covers; a word
        // broken at the line's end has a soft hyphen there.
        let first = squeeze(first);
        let candidates: Vec<&PdfLink> = pdf_links
            .iter()
            .filter(|l| squeeze(&plain(&l.text).replace('\u{ad}', "")).contains(&first))
            .collect();
        let heading = link.lands_on.split_whitespace().next().unwrap_or_default();
        let lands = candidates.iter().any(|l| {
            words[l.to_page].iter().any(|w| {
                plain(&w.text).starts_with(heading.trim_end_matches(['.', ',', ':']))
                    && (w.top - l.to_top).abs() < 30.0
            })
        });
        assert!(
            lands,
            "{what}: the link '{}' of {} (to '{}') has no PDF link landing there; PDF links with its text: {candidates:?}",
            link.text, link.page, link.lands_on
        );
    }
}

fn real_book(b: &RealBook) {
    let quire_built = build_with_quire(b);
    check_outputs(b, &quire_built);
    match build_with_mdbook(b) {
        Some(mdbook_built) => {
            check_outputs(b, &mdbook_built);
            // The two ways read the same chapters into the same book: the
            // same contents and chapter pages, to the byte (includes
            // expanded by Quire or by mdBook alike).
            let pages = |e: &Path| -> BTreeMap<String, String> {
                xhtml_pages(e)
                    .into_iter()
                    .filter(|(n, _)| {
                        n == "EPUB/nav.xhtml"
                            || n.starts_with("EPUB/text/m-")
                            || n.starts_with("EPUB/text/part-")
                    })
                    .collect()
            };
            let (ours, theirs) = (pages(&quire_built.epub), pages(&mdbook_built.epub));
            assert_eq!(
                ours.keys().collect::<Vec<_>>(),
                theirs.keys().collect::<Vec<_>>(),
                "{}: the two ways give different pages",
                b.name
            );
            for (name, page) in &ours {
                assert!(
                    *page == theirs[name],
                    "{}: {name} differs between quire build and mdbook build",
                    b.name
                );
            }
        }
        None => eprintln!("SKIPPED: {} with mdbook build", b.name),
    }
}

#[test]
fn rustc_dev_guide_part_titles_builds_both_ways() {
    real_book(&RUSTC_DEV_GUIDE);
}

#[test]
fn rust_by_example_nested_four_deep_builds_both_ways() {
    real_book(&RUST_BY_EXAMPLE);
}

#[test]
fn rust_book_includes_build_both_ways() {
    real_book(&RUST_BOOK);
}

/// mdBook writes a link to a Markdown file that is not there as a dead
/// `.html` link and builds (the Reference links `../../core/…md`, pages of
/// the site's API docs). Here it is a warning, its text without a link,
/// unless `[output.quire.links] missing-files = "error"`.
#[test]
fn mdbook_link_to_a_missing_file_is_a_warning_unless_the_book_asks_for_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&book_dir(&RUST_BY_EXAMPLE), dir.path());
    // The excerpt's types/literals.md links to ../mod.md and ../crates.md,
    // chapters it does not have.
    let (code, _, err) = common::check(dir.path());
    assert_eq!(code, 0, "a link to a missing file refused the book:\n{err}");
    assert!(
        err.contains(
            "src/types/literals.md:37:3: warning: link to '../mod.md', which is not a module of this book"
        ),
        "{err}"
    );
    let out = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), out.path(), &["--epub"]);
    let page = xhtml_pages(&out.path().join("rust-by-example.epub"))
        .into_iter()
        .find(|(_, x)| x.contains(">Literals</h1>"))
        .expect("the Literals page")
        .1;
    assert!(
        !page.contains("mod.md") && !page.contains("mod.xhtml"),
        "{page}"
    );

    let toml = dir.path().join("book.toml");
    let mut t = std::fs::read_to_string(&toml).expect("book.toml");
    t.push_str("\n[output.quire.links]\nmissing-files = \"error\"\n");
    std::fs::write(&toml, t).expect("write book.toml");
    let (code, _, err) = common::check(dir.path());
    assert_eq!(code, 1, "missing-files = \"error\" ignored:\n{err}");
    assert!(
        err.contains("src/types/literals.md:37:3: error: link to '../mod.md'"),
        "{err}"
    );
}

/// The Cargo Book's `cargo metadata` page (Debian's cargo 0.66.0 source)
/// shows its JSON output as a `javascript` block with `/* … */` comments
/// after values: Typst's JavaScript grammar looped forever on it, and the
/// PDF build never ended. It ends now, in seconds, as do HTML and Markdown
/// blocks, whose grammars embed the JavaScript one.
#[test]
fn a_javascript_block_with_comments_after_values_does_not_hang_the_pdf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = dir.path().join("book");
    common::write(&book, "book.toml", b"[book]\ntitle = \"Comments\"\n");
    common::write(&book, "src/SUMMARY.md", b"- [Metadata](metadata.md)\n");
    common::write(
        &book,
        "src/metadata.md",
        b"# Metadata\n\n```javascript\n{\n    \"version\": 1,\n    /* The root. */\n    \"workspace_root\": \"/path\" /* or null */\n}\n```\n\n```js\nx /* a\n```\n\n```html\n<script>let y /* b */</script>\n```\n\n````markdown\n```js\nz /* c\n```\n````\n",
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(["--content", book.to_str().expect("utf-8"), "--out"])
        .arg(dir.path().join("out"))
        .args(["build", "--pdf"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run quire");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("the PDF build still runs after 120 s (a highlighting loop)");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "quire build --pdf failed");
    if common::tool("pdftotext", "poppler-utils") {
        let text = pdf_pages(&dir.path().join("out/comments.pdf"), false).concat();
        for shown in ["workspace_root", "let y", "z /* c"] {
            assert!(text.contains(shown), "'{shown}' not in the PDF: {text}");
        }
    }
}

/// The Cargo Book's command pages list their options as
/// `<dt class="option-term" id="option-cargo-build--p">` and link to them
/// (some 900 links, each a "missing heading" warning that went to the
/// chapter's start). An id on an element that opens text (`dt`, `p`) is a
/// link target, as in a browser.
#[test]
fn an_id_on_a_definition_term_or_paragraph_is_a_link_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = dir.path();
    common::write(book, "book.toml", b"[book]\ntitle = \"Options\"\n");
    common::write(
        book,
        "src/SUMMARY.md",
        b"- [Build](build.md)\n- [Run](run.md)\n",
    );
    common::write(
        book,
        "src/build.md",
        b"# Build\n\n<dl>\n<dt class=\"option-term\" id=\"option-build--p\"><a class=\"option-anchor\" href=\"#option-build--p\"></a><code>-p</code> <em>spec</em></dt>\n<dd class=\"option-desc\">Package to build.</dd>\n</dl>\n\n<p id=\"note\">A note.</p>\n",
    );
    common::write(
        book,
        "src/run.md",
        b"# Run\n\nSee [`-p`](build.md#option-build--p) and [the note](build.md#note).\n",
    );
    let (code, _, err) = common::check(book);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    let out = tempfile::tempdir().expect("tempdir");
    common::build(book, out.path(), &["--epub"]);
    let epub = out.path().join("options.epub");
    let pages: BTreeMap<String, String> = xhtml_pages(&epub).into_iter().collect();
    let run = &pages["EPUB/text/m-run.xhtml"];
    assert!(
        run.contains("href=\"m-build.xhtml#option-build--p\"")
            && run.contains("href=\"m-build.xhtml#note\""),
        "{run}"
    );
    let loaded = quire::load(book).expect("loads");
    check_structure(&epub, &loaded);
}
