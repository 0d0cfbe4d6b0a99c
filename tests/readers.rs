//! One build for every reader (issue 17): print page numbers in the EPUB
//! (they must land on the page of the book PDF that they name), the Kobo
//! file (every sentence in a koboSpan, the text unchanged) and the Kindle
//! file (formulas as images, no MathML, small files, a big RGB JPEG cover,
//! and calibre converts it to AZW3).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::epub::{entries, epubcheck};

fn assert_epubcheck_clean(epub: &Path) {
    if let Some(report) = epubcheck(epub) {
        assert!(
            report.contains("Messages: 0 fatals / 0 errors / 0 warnings"),
            "epubcheck {}:\n{report}",
            epub.display()
        );
    }
}

fn parse(text: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts).expect("well-formed XML")
}

fn files(epub: &Path) -> BTreeMap<String, Vec<u8>> {
    entries(epub)
        .into_iter()
        .map(|e| (e.name, e.bytes))
        .collect()
}

fn text_of(files: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(
        files
            .get(name)
            .unwrap_or_else(|| panic!("{name} in the EPUB"))
            .clone(),
    )
    .expect("utf-8")
}

/// The page-list of an EPUB: (label, page file inside the zip, fragment).
fn page_list(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, String, String)> {
    let nav = text_of(files, "EPUB/nav.xhtml");
    let doc = parse(&nav);
    let Some(list) = doc
        .descendants()
        .find(|n| n.attribute(("http://www.idpf.org/2007/ops", "type")) == Some("page-list"))
    else {
        return Vec::new();
    };
    list.descendants()
        .filter(|n| n.tag_name().name() == "a")
        .map(|a| {
            let href = a.attribute("href").expect("href");
            let (file, frag) = href.split_once('#').expect("a fragment");
            (
                a.text().unwrap_or("").to_string(),
                format!("EPUB/{file}"),
                frag.to_string(),
            )
        })
        .collect()
}

/// Letters only, lower case: what survives pdftotext's line breaks,
/// hyphenation, ligatures, superscript note numbers and page furniture.
fn letters(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The reader's text after the marker with this id, as letters: up to `n`
/// of them (the title alone after a chapter's top marker). Formulas,
/// superscripts and subscripts are left out (the PDF sets them apart).
fn text_after(xhtml: &str, id: &str, n: usize) -> String {
    let doc = parse(xhtml);
    let marker = doc
        .descendants()
        .find(|e| e.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("marker {id}"));
    assert_eq!(
        marker.attribute(("http://www.idpf.org/2007/ops", "type")),
        Some("pagebreak")
    );
    assert_eq!(marker.attribute("role"), Some("doc-pagebreak"));
    let title = marker
        .next_sibling_element()
        .filter(|e| e.tag_name().name() == "h1");
    let scope: Vec<roxmltree::Node<'_, '_>> = match title {
        Some(h1) => h1.descendants().collect(),
        None => doc.descendants().skip_while(|d| *d != marker).collect(),
    };
    let skipped = |t: &roxmltree::Node<'_, '_>| {
        t.ancestors().any(|a| {
            matches!(a.tag_name().name(), "math" | "sup" | "sub" | "head")
                || a.attribute("class").is_some_and(|c| c.contains("math"))
        })
    };
    let mut out = String::new();
    for t in scope.iter().filter(|t| t.is_text() && !skipped(t)) {
        out.push_str(&letters(t.text().unwrap_or("")));
        if out.len() >= n {
            break;
        }
    }
    out.truncate(n);
    out
}

/// Page label → page index (from 1) of a PDF, from its /PageLabels.
fn page_labels(pdf: &Path) -> BTreeMap<String, usize> {
    let out = Command::new("qpdf")
        .args(["--json", "--json-key=pagelabels"])
        .arg(pdf)
        .output()
        .expect("qpdf");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("qpdf json");
    let pages = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    let count: usize = String::from_utf8_lossy(&pages.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count");
    let ranges: Vec<(usize, Option<String>, usize)> = json["pagelabels"]
        .as_array()
        .expect("page labels")
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().expect("index") as usize,
                e["label"]["/S"].as_str().map(str::to_string),
                e["label"]["/St"].as_u64().unwrap_or(1) as usize,
            )
        })
        .collect();
    let mut map = BTreeMap::new();
    for (k, (start, style, st)) in ranges.iter().enumerate() {
        let end = ranges.get(k + 1).map_or(count, |r| r.0);
        for i in *start..end {
            let n = st + i - start;
            match style.as_deref() {
                Some("/D") => map.insert(n.to_string(), i + 1),
                Some("/r") => map.insert(quire::render::pagelist::roman(n as u64), i + 1),
                _ => None,
            };
        }
    }
    map
}

fn pdf_page_text(pdf: &Path, page: usize) -> String {
    let n = page.to_string();
    let out = Command::new("pdftotext")
        .args(["-f", &n, "-l", &n])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Takes `count` page-list entries at random (seeded) and looks for the
/// text after each marker on that page of the book PDF; returns the misses.
fn sample_pages(epub: &Path, pdf: &Path, count: usize, seed: u64) -> (usize, Vec<String>) {
    let files = files(epub);
    let list = page_list(&files);
    assert!(!list.is_empty(), "no page-list in {}", epub.display());
    let labels = page_labels(pdf);
    let mut state = seed;
    let mut picked = BTreeSet::new();
    while picked.len() < count.min(list.len()) {
        // A 64-bit LCG (Knuth's MMIX constants): the same picks every run.
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        picked.insert((state >> 33) as usize % list.len());
    }
    let misses = check_pages(&files, &list, &labels, pdf, picked.iter().copied());
    (picked.len(), misses)
}

/// Looks for the text after each of these page-list entries on its PDF
/// page; returns the misses.
fn check_pages(
    files: &BTreeMap<String, Vec<u8>>,
    list: &[(String, String, String)],
    labels: &BTreeMap<String, usize>,
    pdf: &Path,
    which: impl Iterator<Item = usize>,
) -> Vec<String> {
    let mut misses = Vec::new();
    for k in which {
        let (label, file, frag) = &list[k];
        assert_eq!(frag, &format!("page-{label}"));
        let want = text_after(&text_of(files, file), frag, 24);
        assert!(
            want.len() >= 6,
            "page {label}: too little text after the marker in {file}: {want:?}"
        );
        let index = *labels
            .get(label)
            .unwrap_or_else(|| panic!("no PDF page labelled {label}"));
        let page = letters(&pdf_page_text(pdf, index));
        if !page.contains(&want) {
            misses.push(format!(
                "page {label} ({file}): {want:?} not on that PDF page"
            ));
        }
    }
    misses
}

fn tools_for_pages() -> bool {
    common::tool("pdftotext", "poppler-utils") && common::tool("qpdf", "qpdf")
}

#[test]
fn shipped_book_page_numbers_land_on_their_print_page() {
    if !tools_for_pages() {
        return;
    }
    let out = tempfile::tempdir().expect("tempdir");
    let content = common::repo_root().join("content");
    common::build(&content, out.path(), &["--epub", "--pdf"]);
    let epub = out.path().join("system-design-the-full-curriculum.epub");
    let pdf = out.path().join("system-design-the-full-curriculum.pdf");
    let (checked, misses) = sample_pages(&epub, &pdf, 30, 17);
    assert_eq!(checked, 30);
    assert!(
        misses.is_empty(),
        "{} of 30 missed:\n{}",
        misses.len(),
        misses.join("\n")
    );
    // And every page of the part openings (their own contents run on), of
    // the contents (numbered v, vi…) and of the indexes.
    let all = files(&epub);
    let list = page_list(&all);
    let lists = ["/part-", "/contents.xhtml", "index"];
    let parts: Vec<usize> = (0..list.len())
        .filter(|&k| lists.iter().any(|l| list[k].1.contains(l)))
        .collect();
    assert!(parts.len() > 24, "{} pages of lists", parts.len());
    assert!(
        list.iter().any(|(label, _, _)| label == "v"),
        "the contents' first page"
    );
    let misses = check_pages(&all, &list, &page_labels(&pdf), &pdf, parts.into_iter());
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    // The contents give each module's print page ("p. 45"): the page its
    // top marker names.
    let contents = text_of(&all, "EPUB/text/contents.xhtml");
    let doc = parse(&contents);
    let mut shown = 0;
    for p in doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("print-page"))
    {
        let li = p
            .ancestors()
            .find(|n| n.tag_name().name() == "li")
            .expect("an entry");
        let href = li
            .children()
            .find_map(|a| a.attribute("href"))
            .expect("an entry's link");
        let label = p.text().unwrap_or("").trim_start_matches("p.\u{a0}");
        let first = list
            .iter()
            .find(|(_, file, _)| file.ends_with(&format!("/{href}")))
            .map(|(l, _, _)| l.as_str());
        assert_eq!(first, Some(label), "{href}");
        shown += 1;
    }
    assert!(shown > 100, "{shown} modules with their print page");
    assert_epubcheck_clean(&epub);
    let opf = text_of(&files(&epub), "EPUB/package.opf");
    // The print source as EPUB 3.2 names it (dc:source, source-of
    // pagination): Debian's epubcheck 4.2.6 refuses a11y:pageBreakSource.
    for needle in [
        "<dc:source id=\"print-source\">",
        "<meta refines=\"#print-source\" property=\"source-of\">pagination</meta>",
        "printPageNumbers",
        "pageNavigation",
    ] {
        assert!(opf.contains(needle), "package.opf lacks {needle}");
    }
}

/// The full-size synthetic corpus (~1,400 A4 pages): a minute of build, so
/// only with QUIRE_CORPUS_PAGES=1.
#[test]
fn corpus_page_numbers_land_on_their_print_page() {
    if std::env::var("QUIRE_CORPUS_PAGES").is_err() {
        eprintln!("SKIPPED: set QUIRE_CORPUS_PAGES=1 to check the full-size corpus");
        return;
    }
    if !tools_for_pages() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("corpus");
    let synth = Command::new(env!("CARGO_BIN_EXE_quire-synth"))
        .args(["--out", corpus.to_str().expect("utf-8"), "--seed", "1"])
        .output()
        .expect("quire-synth");
    assert!(
        synth.status.success(),
        "{}",
        String::from_utf8_lossy(&synth.stderr)
    );
    let out = dir.path().join("out");
    common::build(&corpus, &out, &["--epub", "--pdf"]);
    let epub = std::fs::read_dir(&out)
        .expect("out")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "epub"))
        .expect("an EPUB");
    let pdf = epub.with_extension("pdf");
    let (checked, misses) = sample_pages(&epub, &pdf, 30, 29);
    eprintln!(
        "corpus: {checked} page-list entries checked, {} missed, {} entries in all",
        misses.len(),
        page_list(&files(&epub)).len()
    );
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

#[test]
fn epub_alone_reuses_a_current_page_map_and_never_a_stale_one() {
    let dir = common::fixture_copy("mini");
    let content = dir.path().join("content");
    let out = dir.path().join("out");
    common::build(&content, &out, &["--pdf"]);
    let o = common::build(&content, &out, &["--epub"]);
    let epub = out.join("mini-book.epub");
    let first = page_list(&files(&epub));
    assert!(!first.is_empty(), "the PDF build's page map was not reused");
    // The same page map as a build of both at once.
    let both = dir.path().join("both");
    common::build(&content, &both, &["--epub", "--pdf"]);
    assert_eq!(first, page_list(&files(&both.join("mini-book.epub"))));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("page navigation"));
    // An edit: the map is stale, so no page numbers, and a notice says so.
    let module = content.join("01-basics/01-caching.md");
    let text = std::fs::read_to_string(&module).expect("module");
    std::fs::write(&module, format!("{text}\nOne more paragraph.\n")).expect("edit");
    let o = common::build(&content, &out, &["--epub"]);
    assert!(page_list(&files(&epub)).is_empty(), "stale page numbers");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("page navigation"),
        "no notice: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The text a reader sees on each page (the body's text nodes, joined).
fn visible_text(xhtml: &str) -> String {
    let doc = parse(xhtml);
    let body = doc
        .descendants()
        .find(|n| n.tag_name().name() == "body")
        .expect("body");
    body.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

#[test]
fn kobo_file_spans_every_sentence_and_keeps_the_text() {
    let out = tempfile::tempdir().expect("tempdir");
    let content = common::repo_root().join("tests/fixtures/mini");
    common::build(&content, out.path(), &["--epub", "--pdf", "--kobo"]);
    let epub = files(&out.path().join("mini-book.epub"));
    let kepub_path = out.path().join("mini-book.kepub.epub");
    let kepub = files(&kepub_path);
    assert_eq!(
        epub.keys().collect::<Vec<_>>(),
        kepub.keys().collect::<Vec<_>>(),
        "the same files"
    );
    let mut spans = 0;
    for (name, bytes) in &kepub {
        let original = &epub[name];
        if !name.ends_with(".xhtml") || name.ends_with("nav.xhtml") {
            assert_eq!(bytes, original, "{name} differs from the EPUB's");
            continue;
        }
        let page = String::from_utf8(bytes.clone()).expect("utf-8");
        let before = String::from_utf8(original.clone()).expect("utf-8");
        assert_eq!(
            visible_text(&page),
            visible_text(&before),
            "{name}: text changed"
        );
        let doc = parse(&page);
        let is_span = |n: &roxmltree::Node<'_, '_>| {
            n.tag_name().name() == "span" && n.attribute("class") == Some("koboSpan")
        };
        for p in doc.descendants().filter(|n| n.tag_name().name() == "p") {
            for t in p.descendants().filter(|t| t.is_text()) {
                let verbatim = t
                    .ancestors()
                    .any(|a| matches!(a.tag_name().name(), "math" | "svg" | "pre"));
                // Whitespace is wrapped only right under the <p> (as kepubify).
                let directly_under_p = t.parent() == Some(p);
                if verbatim
                    || t.text()
                        .is_none_or(|s| s.trim().is_empty() && !directly_under_p)
                {
                    continue;
                }
                assert!(
                    t.ancestors().any(|a| is_span(&a)),
                    "{name}: text {:?} outside a koboSpan",
                    t.text()
                );
            }
        }
        for s in doc.descendants().filter(is_span) {
            spans += 1;
            let id = s.attribute("id").expect("koboSpan id");
            let rest = id.strip_prefix("kobo.").expect("kobo.N.M");
            let (n, m) = rest.split_once('.').expect("kobo.N.M");
            assert!(n.parse::<u32>().is_ok() && m.parse::<u32>().is_ok(), "{id}");
        }
        assert!(
            page.contains("<div id=\"book-columns\"><div id=\"book-inner\">"),
            "{name}"
        );
    }
    assert!(spans > 100, "only {spans} koboSpans");
    assert_epubcheck_clean(&kepub_path);
}

#[test]
fn kindle_file_has_formulas_as_images_small_files_and_a_big_cover() {
    let out = tempfile::tempdir().expect("tempdir");
    let content = common::repo_root().join("tests/fixtures/mini");
    let report_path = out.path().join("r.json");
    let o = common::build(
        &content,
        out.path(),
        &["--kindle", "--report", report_path.to_str().expect("utf-8")],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains("Kindle:"),
        "the Kindle check found problems:\n{stderr}"
    );
    let path = out.path().join("mini-book.kindle.epub");
    let kindle = files(&path);
    let mut formulas = 0;
    for (name, bytes) in &kindle {
        assert!(bytes.len() <= 300 * 1024, "{name}: {} bytes", bytes.len());
        if name.ends_with(".xhtml") {
            let page = String::from_utf8_lossy(bytes);
            assert!(!page.contains("<math"), "{name} has MathML");
            formulas += page.matches("class=\"math-img\"").count();
        }
        if name.ends_with(".svg") {
            assert!(
                !String::from_utf8_lossy(bytes).contains("<text"),
                "{name}: SVG with live text"
            );
        }
    }
    // Every formula of the fixture (two in 01-caching, one in 01-consensus).
    assert!(formulas >= 3, "{formulas} formula images");
    let cover = image::load_from_memory(&kindle["EPUB/images/cover.jpg"]).expect("cover");
    assert_eq!((cover.width(), cover.height()), (1600, 2560));
    assert_eq!(cover.color(), image::ColorType::Rgb8);
    assert_epubcheck_clean(&path);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).expect("report")).expect("json");
    assert!(
        report["outputs"]
            .as_array()
            .expect("outputs")
            .iter()
            .any(|o| o["kind"] == "epub-kindle"),
        "the report lists the Kindle file"
    );
    // calibre's AZW3, and the formulas in it as images with their TeX.
    if Command::new("ebook-convert")
        .arg("--version")
        .output()
        .is_err()
    {
        common::missing_tool("ebook-convert (apt-get install calibre)");
        return;
    }
    let azw3 = out.path().join("mini-book.azw3");
    let conv = Command::new("ebook-convert")
        .arg(&path)
        .arg(&azw3)
        .output()
        .expect("ebook-convert");
    assert!(
        conv.status.success(),
        "ebook-convert:\n{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let back = out.path().join("back.htmlz");
    let conv = Command::new("ebook-convert")
        .arg(&azw3)
        .arg(&back)
        .output()
        .expect("ebook-convert");
    assert!(
        conv.status.success(),
        "ebook-convert back:\n{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let html: String = entries(&back)
        .into_iter()
        .filter(|e| e.name.ends_with(".html"))
        .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
        .collect();
    assert!(
        html.contains("alt=\"h = \\frac{hits}{hits + misses}\""),
        "the formula image and its TeX are in the AZW3"
    );
}

#[test]
fn kindle_and_kobo_files_are_reproducible() {
    let content = common::repo_root().join("tests/fixtures/mini");
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for out in [&a, &b] {
        common::build(&content, out.path(), &["--kindle", "--kobo", "--force"]);
    }
    for name in ["mini-book.kindle.epub", "mini-book.kepub.epub"] {
        assert_eq!(
            std::fs::read(a.path().join(name)).expect("first"),
            std::fs::read(b.path().join(name)).expect("second"),
            "{name} differs between two builds"
        );
    }
}

/// A module too long for one Kindle file is cut between its blocks into
/// files under 300 KB, every link following what moved; the EPUB keeps it
/// whole.
#[test]
fn kindle_cuts_a_page_over_300_kb_and_links_follow() {
    let paragraph = "A sentence long enough to fill a page of prose quickly. ".repeat(40);
    let body = format!(
        "See [the end](#the-end) and a note.[^n]\n\n{}## The end\n\nDone.\n\n[^n]: A note.\n",
        format!("{paragraph}\n\n").repeat(160)
    );
    let text = common::module("Huge", "beginner", "Redis", &body);
    let intro = common::module(
        "Intro",
        "beginner",
        "Redis",
        "## Setup {#setup}\n\nSee [the end](02-next.md#the-end).",
    );
    let dir = common::book(&[
        ("01-basics/02-next.md", text.as_str()),
        ("01-basics/01-intro.md", intro.as_str()),
    ]);
    let out = tempfile::tempdir().expect("tempdir");
    let o = common::build(dir.path(), out.path(), &["--kindle", "--epub"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("Kindle:"), "{stderr}");
    let path = out.path().join("test-book.kindle.epub");
    let kindle = files(&path);
    for (name, bytes) in &kindle {
        assert!(bytes.len() <= 300 * 1024, "{name}: {} bytes", bytes.len());
    }
    let parts: Vec<&String> = kindle
        .keys()
        .filter(|k| k.starts_with("EPUB/text/m-next"))
        .collect();
    assert!(parts.len() >= 2, "{parts:?}");
    let last = parts
        .iter()
        .find(|p| text_of(&kindle, p).contains("id=\"the-end\""))
        .expect("the heading in one of them");
    assert_ne!(last.as_str(), "EPUB/text/m-next.xhtml", "the heading moved");
    let file = last.trim_start_matches("EPUB/text/");
    assert!(
        text_of(&kindle, "EPUB/text/m-intro.xhtml").contains(&format!("href=\"{file}#the-end\""))
    );
    assert!(
        text_of(&kindle, "EPUB/text/m-next.xhtml").contains(&format!("href=\"{file}#the-end\""))
    );
    // The plain EPUB keeps it one page.
    assert!(!files(&out.path().join("test-book.epub")).contains_key("EPUB/text/m-next-2.xhtml"));
    assert_epubcheck_clean(&path);
}

/// `[build] formats` names the reader files as the flags do.
#[test]
fn book_toml_formats_name_the_kindle_and_kobo_files() {
    let toml = format!(
        "{}\n[build]\nformats = [\"kobo\", \"kindle\"]\n",
        common::BOOK_TOML
    );
    let dir = common::book(&[("book.toml", toml.as_str())]);
    let out = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), out.path(), &[]);
    let written: BTreeSet<String> = common::snapshot(out.path())
        .into_keys()
        .filter(|k| !k.starts_with(".cache"))
        .collect();
    assert_eq!(
        written,
        BTreeSet::from([
            "test-book.kepub.epub".to_string(),
            "test-book.kindle.epub".to_string()
        ])
    );
}
