//! PDF end to end: build real books, check them with qpdf, read them back with
//! pdftotext, and compare what the reader sees with the model.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use quire::model::Book;

fn tool(name: &str) -> bool {
    common::tool(name, "qpdf poppler-utils")
}

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("tests/fixtures").join(name)
}

fn build_pdfs(content: &Path, out: &Path) {
    common::build(content, out, &["--pdf"]);
}

/// Text of each physical page, in reading order (or layout order).
fn pages(pdf: &Path, layout: bool) -> Vec<String> {
    common::pdf_pages(pdf, layout)
}

fn qpdf_check(pdf: &Path) {
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(pdf)
        .output()
        .expect("qpdf");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "qpdf --check {}: {text}",
        pdf.display()
    );
    assert!(
        text.contains("No syntax or stream encoding errors"),
        "{text}"
    );
}

/// The number printed in a page's footer (last non-empty line).
fn footer_number(page: &str) -> Option<String> {
    page.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// Checks TOC → page → module opening, and the tag index against the model.
fn check_book_pdf(pdf: &Path, loaded: &quire::Loaded, parts: &[usize]) {
    let opening = check_contents(pdf, &loaded.book, parts);
    check_tag_index(pdf, loaded, &opening);
}

/// Checks that every module of `parts` opens on the page its contents entry
/// names; returns module id → printed page number.
fn check_contents(pdf: &Path, book: &Book, parts: &[usize]) -> BTreeMap<String, String> {
    let layout = pages(pdf, true);
    let reading = pages(pdf, false);
    // Where each module opens: its kicker line is unique.
    let mut opening: BTreeMap<String, String> = BTreeMap::new();
    for (_, m) in book.modules() {
        let part = book
            .parts
            .iter()
            .find(|p| p.modules.iter().any(|x| x.id == m.id))
            .expect("part");
        if !parts.contains(&(part.number as usize)) {
            continue;
        }
        let kicker = format!("Part {} · Module {}", part.number, m.number);
        let idx = reading
            .iter()
            .position(|p| p.lines().any(|l| l.trim() == kicker))
            .unwrap_or_else(|| panic!("no page opens {kicker}"));
        // In layout order the footer is the page's last line (reading order
        // can put a code comment set far right after it).
        let shown = footer_number(&layout[idx]).expect("page number");
        // The TOC entry: number, title, badge, minutes, dot leaders, page. Long
        // titles wrap, and the leader and page come on the last line.
        let toc_lines: Vec<&str> = layout.iter().take(idx).flat_map(|p| p.lines()).collect();
        let start = toc_lines
            .iter()
            .position(|l| l.contains(&format!("{}.{} ", part.number, m.number)))
            .unwrap_or_else(|| panic!("{kicker} not in the contents"));
        // The page number ends the entry's last line, after the leader.
        let toc_line = toc_lines[start..]
            .iter()
            .find(|l| {
                // "… 25 min . . . 47" (a leader can shrink to one dot, or none).
                let words: Vec<&str> = l.split_whitespace().rev().take(2).collect();
                matches!(words[..], [page, "." | "min"] if page.parse::<u64>().is_ok())
            })
            .unwrap_or_else(|| panic!("{kicker}: no page number after the leader"));
        let toc_page = toc_line.split_whitespace().last().expect("page");
        assert_eq!(toc_page, shown, "TOC page of {kicker} ({})", m.title);
        opening.insert(m.id.clone(), shown);
    }
    opening
}

fn check_tag_index(pdf: &Path, loaded: &quire::Loaded, opening: &BTreeMap<String, String>) {
    let book = &loaded.book;
    let reading = pages(pdf, false);
    let layout = pages(pdf, true);
    // Tag index: "Name — modules: 3, 5; mentioned: 4".
    let index_text: String = reading
        .iter()
        .skip_while(|p| !p.contains("Bold page numbers"))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    for tag in loaded.index.tags.values() {
        let want: BTreeSet<String> = tag
            .modules
            .iter()
            .filter_map(|r| opening.get(&book.module(*r).id).cloned())
            .collect();
        if want.is_empty() {
            continue;
        }
        let key = format!("{} — modules: ", tag.name);
        let joined = index_text.replace('\n', " ");
        let at = joined
            .find(&key)
            .unwrap_or_else(|| panic!("index lacks {}", tag.name));
        // "3, 5, 12": numbers joined by commas; whatever follows (";", a footer) ends it.
        let mut got: BTreeSet<String> = BTreeSet::new();
        let mut rest = joined[at + key.len()..].trim_start();
        loop {
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if n.is_empty() {
                break;
            }
            rest = rest[n.len()..].trim_start();
            got.insert(n);
            match rest.strip_prefix(',') {
                Some(r) => rest = r.trim_start(),
                None => break,
            }
        }
        assert_eq!(got, want, "index pages of {}", tag.name);
        // "; mentioned: 4, 9": each of those pages says the term.
        let Some(mut rest) = rest.strip_prefix("; mentioned:") else {
            continue;
        };
        loop {
            rest = rest.trim_start();
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if n.is_empty() {
                break;
            }
            // The last such page: a contents page can end with the same
            // number. Its footer in layout order (see `check_contents`).
            let page = layout
                .iter()
                .rposition(|p| footer_number(p).as_deref() == Some(n.as_str()))
                .map(|i| &reading[i])
                .unwrap_or_else(|| panic!("no page {n} (index of {})", tag.name));
            // Words hyphenated at a line end are joined again.
            let text = page
                .replace("-\n", "")
                .replace("\u{ad}\n", "")
                .replace('\n', " ")
                .to_lowercase();
            assert!(
                text.contains(&tag.name.to_lowercase()),
                "index says page {n} mentions {}, but it does not",
                tag.name
            );
            rest = &rest[n.len()..];
            match rest.strip_prefix(',') {
                Some(r) => rest = r,
                None => break,
            }
        }
    }
}

#[test]
fn fixture_pdfs_toc_index_and_qpdf() {
    if !tool("pdftotext") || !tool("qpdf") {
        return;
    }
    let out = tempfile::tempdir().expect("tempdir");
    build_pdfs(&fixture("mini"), out.path());
    let loaded = quire::load(&fixture("mini")).expect("loads");
    let book = &loaded.book;
    let combined = out.path().join("mini-book.pdf");
    for p in [
        &combined,
        &out.path().join("pdf/01-basics.pdf"),
        &out.path().join("pdf/02-advanced.pdf"),
    ] {
        assert!(p.exists(), "{}", p.display());
        qpdf_check(p);
    }
    check_book_pdf(&combined, &loaded, &[1, 2]);
    // A part PDF is the part's pages of the book: it opens on the part page,
    // whose own contents give the book's page numbers of its modules.
    let part1 = out.path().join("pdf/01-basics.pdf");
    let opening = check_contents(&part1, book, &[1]);
    let first = &pages(&part1, false)[0];
    assert!(first.contains("Part 1: Basics"), "{first}");
    assert!(first.contains("In this part"), "{first}");
    let book_pages = trim_pages(pages(&combined, false));
    let part_pages = trim_pages(pages(&part1, false));
    let at = book_pages
        .iter()
        .position(|p| p == first)
        .expect("part opening page is in the book");
    // The part's pages are the book's, up to the part's own index.
    let body = part_pages
        .iter()
        .position(|p| p.contains("Index of technologies"))
        .expect("part index");
    assert_eq!(&book_pages[at..at + body], &part_pages[..body]);
    assert!(
        !book_pages[at + body..]
            .iter()
            .any(|p| p.contains("Part 1 · Module"))
    );
    // A link into another part says where it goes, so the printed booklet
    // still tells the reader where to look.
    let text = part_pages.join("\n").replace('\n', " ");
    let want = "deep topics (Part 2, Module 1)";
    assert!(text.contains(want), "{want} in {text}");
    assert!(!opening.is_empty());
    // The part PDF ends with its own tag index (the pages of its modules
    // only): no module page comes after it.
    check_tag_index(&part1, &loaded, &opening);
    assert!(
        !part_pages[body..]
            .iter()
            .any(|p| p.contains("Part 1 · Module")),
        "module pages after the part's index"
    );
}

#[test]
fn outline_has_parts_modules_and_sections() {
    if !tool("qpdf") {
        return;
    }
    let out = tempfile::tempdir().expect("tempdir");
    build_pdfs(&fixture("mini"), out.path());
    let json = Command::new("qpdf")
        .args(["--json", "--json-key=outlines"])
        .arg(out.path().join("mini-book.pdf"))
        .output()
        .expect("qpdf --json");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let top = v["outlines"].as_array().expect("outlines");
    let parts: Vec<&serde_json::Value> = top
        .iter()
        .filter(|o| o["title"].as_str().is_some_and(|t| t.starts_with("Part ")))
        .collect();
    assert_eq!(parts.len(), 2, "{top:#?}");
    let modules: Vec<&str> = parts
        .iter()
        .flat_map(|p| p["kids"].as_array().into_iter().flatten())
        .filter_map(|k| k["title"].as_str())
        .collect();
    assert_eq!(
        modules,
        [
            "Caching: From Browser to Database",
            "Queues",
            "Consensus (Raft / Paxos)"
        ]
    );
    let sections: usize = parts
        .iter()
        .flat_map(|p| p["kids"].as_array().into_iter().flatten())
        .map(|k| k["kids"].as_array().map(Vec::len).unwrap_or(0))
        .sum();
    assert!(sections >= 4, "sections in the outline: {sections}");
}

#[test]
fn adversarial_text_round_trips() {
    if !tool("pdftotext") {
        return;
    }
    let out = tempfile::tempdir().expect("tempdir");
    build_pdfs(&fixture("adversarial"), out.path());
    let pdf = std::fs::read_dir(out.path())
        .expect("ls")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .expect("book pdf");
    let text = pages(&pdf, false).join("\n");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "PLAIN1 #set page(width: 1cm) and #let x = 1 stay text.",
        "PLAIN2 $ dollars $ and 100$ and $5 are money.",
        // `<label>` is an HTML tag (CommonMark): an element of the safe subset, not text.
        "PLAIN3 @citation [content] {braces} \\backslash \\\\double //comment /* block */ ~tilde ^caret.",
        "PLAIN4 = heading? - list? + enum? 1. number? / term: no.",
        "Hash # dollar $ star *",
        "#set text(red) // this is code, shown verbatim: $ x $ [y] @z <w>",
        "#let a = [b] // c",
        "text #with $5 and [chars] @at",
        "Footnote #text $5 [brackets] @at // slash \\bs.",
        "//w",
        "Special #characters $x$ *stars* _under_ @at <lt> [br] \\back `tick` // slash",
    ] {
        assert!(flat.contains(needle), "missing {needle:?} in:\n{flat}");
    }
}

#[test]
fn two_pdf_builds_are_byte_identical() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    build_pdfs(&fixture("mini"), a.path());
    build_pdfs(&fixture("mini"), b.path());
    for rel in ["mini-book.pdf", "pdf/01-basics.pdf", "pdf/02-advanced.pdf"] {
        let x = std::fs::read(a.path().join(rel)).expect("a");
        let y = std::fs::read(b.path().join(rel)).expect("b");
        assert!(x == y, "{rel} differs between builds");
    }
}

#[test]
fn paper_profiles_change_the_page_size() {
    if !tool("pdfinfo") {
        return;
    }
    for (paper, size) in [
        ("a4", "595.276 x 841.89"),
        ("letter", "612 x 792"),
        ("a5", "419.528 x 595.276"),
        ("6x9", "432 x 648"),
    ] {
        let out = tempfile::tempdir().expect("tempdir");
        common::build(&fixture("mini"), out.path(), &["--pdf", "--paper", paper]);
        let info = Command::new("pdfinfo")
            .arg(out.path().join("mini-book.pdf"))
            .output()
            .expect("pdfinfo");
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains(size), "{paper}: {info}");
    }
}

#[test]
fn shipped_curriculum_13_pdfs_outline_toc_and_index() {
    if !tool("qpdf") || !tool("pdftotext") {
        return;
    }
    let content = common::repo_root().join("content");
    let out = tempfile::tempdir().expect("tempdir");
    build_pdfs(&content, out.path());
    let loaded = quire::load(&content).expect("content loads");
    let book = &loaded.book;
    let combined = out.path().join(format!("{}.pdf", book.meta.slug));
    let mut pdfs = vec![combined.clone()];
    for part in &book.parts {
        pdfs.push(
            out.path()
                .join("pdf")
                .join(format!("{:02}-{}.pdf", part.number, part.slug)),
        );
    }
    assert_eq!(pdfs.len(), 13);
    for p in &pdfs {
        qpdf_check(p);
    }
    // Outline: 12 parts, 159 modules under them.
    let json = Command::new("qpdf")
        .args(["--json", "--json-key=outlines"])
        .arg(&combined)
        .output()
        .expect("qpdf --json");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let parts: Vec<&serde_json::Value> = v["outlines"]
        .as_array()
        .expect("outlines")
        .iter()
        .filter(|o| o["title"].as_str().is_some_and(|t| t.starts_with("Part ")))
        .collect();
    assert_eq!(parts.len(), 12);
    let modules: usize = parts
        .iter()
        .map(|p| p["kids"].as_array().map(Vec::len).unwrap_or(0))
        .sum();
    assert_eq!(modules, 159);
    let all: Vec<usize> = book.parts.iter().map(|p| p.number as usize).collect();
    check_book_pdf(&combined, &loaded, &all);
}

/// Link annotations of a PDF, from `qpdf --json`: (internal destinations
/// that point at a page of the file, URIs).
fn links(pdf: &Path) -> (usize, Vec<String>) {
    let objects = common::pdf::qpdf_objects(pdf);
    let dict = |v: &serde_json::Value| v.get("value").cloned().unwrap_or_default();
    // "12 0 R" → the object's value; anything else as it is.
    let deref = |v: &serde_json::Value| {
        v.as_str()
            .filter(|r| r.ends_with(" R"))
            .and_then(|r| objects.get(&format!("obj:{r}")))
            .map(dict)
            .unwrap_or_else(|| v.clone())
    };
    let is_page = |r: &serde_json::Value| {
        r.as_str()
            .and_then(|r| objects.get(&format!("obj:{r}")))
            .is_some_and(|o| dict(o)["/Type"] == "/Page")
    };
    // Named destinations (name-tree leaves, wherever they sit): name → array.
    fn leaves(v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        if let Some(map) = v.as_object() {
            for (k, x) in map {
                match x.as_array() {
                    Some(names) if k == "/Names" => {
                        for pair in names.chunks(2) {
                            if let [n, d] = pair {
                                out.push((n.as_str().unwrap_or_default().into(), d.clone()));
                            }
                        }
                    }
                    _ => leaves(x, out),
                }
            }
        }
    }
    let mut found = Vec::new();
    for o in objects.values() {
        leaves(&dict(o), &mut found);
    }
    let named: BTreeMap<String, serde_json::Value> =
        found.into_iter().map(|(n, d)| (n, deref(&d))).collect();
    let (mut internal, mut uris) = (0, Vec::new());
    for o in objects.values() {
        let a = dict(o);
        if a["/Subtype"] != "/Link" {
            continue;
        }
        let action = deref(&a["/A"]);
        if let Some(uri) = action["/URI"].as_str() {
            uris.push(uri.trim_start_matches("u:").to_string());
            continue;
        }
        let dest = deref(if a["/Dest"].is_null() {
            &action["/D"]
        } else {
            &a["/Dest"]
        });
        let dest = match dest.as_str() {
            Some(name) => named.get(name).cloned().unwrap_or_default(),
            None => dest,
        };
        let page = dest.as_array().and_then(|d| d.first().cloned());
        assert!(
            page.as_ref().is_some_and(is_page),
            "link {a} in {} goes nowhere",
            pdf.display()
        );
        internal += 1;
    }
    (internal, uris)
}

#[test]
fn internal_links_land_on_pages() {
    if !tool("qpdf") {
        return;
    }
    let out = tempfile::tempdir().expect("tempdir");
    build_pdfs(&fixture("mini"), out.path());
    let loaded = quire::load(&fixture("mini")).expect("loads");
    let book = &loaded.book;
    let (internal, uris) = links(&out.path().join("mini-book.pdf"));
    // Contents (title and page of every part and module), the indexes and
    // the links in the text: all of them go to a page of the book.
    let entries = book.parts.len() + book.modules().count();
    assert!(internal > 2 * entries, "{internal} internal links");
    assert!(
        uris.iter().all(|u| !u.starts_with("quire:")),
        "unresolved: {uris:?}"
    );
    for part in ["pdf/01-basics.pdf", "pdf/02-advanced.pdf"] {
        let (internal, uris) = links(&out.path().join(part));
        assert!(internal > 0, "{part}: no internal links");
        assert!(
            uris.iter().all(|u| !u.starts_with("quire:")),
            "{part}: {uris:?}"
        );
    }
}

#[test]
fn a_part_without_modules_is_its_opening_page_alone() {
    if !tool("pdftotext") || !tool("qpdf") {
        return;
    }
    let dir = common::fixture_copy("mini");
    let (content, out) = (dir.path().join("content"), dir.path().join("output"));
    common::write(
        &content,
        "03-later/_part.md",
        b"---\ntitle: Later\nsummary: Nothing yet\n---\nComing soon.\n",
    );
    build_pdfs(&content, &out);
    let part = trim_pages(pages(&out.join("pdf/03-later.pdf"), false));
    // The opening page, and no index: nothing in the part is tagged or
    // mentions a tag (an empty index page under its heading once followed).
    assert_eq!(part.len(), 1, "{part:#?}");
    assert!(part[0].contains("Part 3: Later") && !part[0].contains("In this part"));
    assert!(!part.concat().contains("Index of technologies"));
    qpdf_check(&out.join("mini-book.pdf"));
}

/// Without the empty string pdftotext leaves after the last form feed (and
/// blank pages at the end).
fn trim_pages(mut v: Vec<String>) -> Vec<String> {
    while v.last().is_some_and(|p| p.trim().is_empty()) {
        v.pop();
    }
    v
}

/// A book whose modules have no tags has no tag index, in the EPUB or the
/// PDF: no contents line, no nav entry, no page with only its heading (the
/// real mdBook books have no tags); with no difficulties either, no back
/// matter at all.
#[test]
fn a_book_without_tags_has_no_tag_index_in_either_format() {
    if !tool("pdftotext") || !tool("qpdf") {
        return;
    }
    for keep_difficulty in [true, false] {
        let dir = common::fixture_copy("mini");
        let content = dir.path().join("content");
        for part in ["01-basics", "02-advanced"] {
            for entry in std::fs::read_dir(content.join(part)).expect("part folder") {
                let path = entry.expect("entry").path();
                let text = std::fs::read_to_string(&path).expect("module");
                let kept: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.starts_with("tags:"))
                    .filter(|l| keep_difficulty || !l.starts_with("difficulty:"))
                    .collect();
                std::fs::write(&path, kept.join("\n") + "\n").expect("write");
            }
        }
        let out = dir.path().join("output");
        common::build(&content, &out, &["--epub", "--pdf"]);
        let what = if keep_difficulty {
            "with difficulties"
        } else {
            "without"
        };

        let book = trim_pages(pages(&out.join("mini-book.pdf"), false));
        let text = book.concat();
        assert!(
            !text.contains("Index of technologies"),
            "{what}: a tag index"
        );
        let last = book.last().expect("pages");
        assert_eq!(
            last.contains("Modules by difficulty"),
            keep_difficulty,
            "{what}: the last page is\n{last}"
        );
        if !keep_difficulty {
            assert!(!text.contains("Modules by difficulty"), "{what}");
            assert!(
                last.contains("Consensus"),
                "the last module ends the book:\n{last}"
            );
        }
        qpdf_check(&out.join("mini-book.pdf"));

        let epub = out.join("mini-book.epub");
        let entries = common::epub::entries(&epub);
        let file = |name: &str| {
            entries
                .iter()
                .find(|e| e.name == name)
                .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
        };
        assert!(
            !entries
                .iter()
                .any(|e| common::epub::is_tag_index_file(&e.name)),
            "{what}: a tag-index file"
        );
        for name in [
            "EPUB/nav.xhtml",
            "EPUB/text/contents.xhtml",
            "EPUB/toc.ncx",
            "EPUB/package.opf",
        ] {
            let page = file(name).unwrap_or_else(|| panic!("{name}"));
            assert!(
                !page.contains("tag-index"),
                "{what}: {name} names the tag index"
            );
        }
        let opf = file("EPUB/package.opf").expect("opf");
        assert!(
            !opf.contains("accessibilityFeature\">index<"),
            "{what}: claims an index"
        );
        assert_eq!(
            file("EPUB/text/difficulty-index.xhtml").is_some(),
            keep_difficulty,
            "{what}"
        );
        if let Some(report) = common::epub::epubcheck(&epub) {
            assert!(
                report.contains("No errors or warnings detected"),
                "{what}: {report}"
            );
        }
    }
}
