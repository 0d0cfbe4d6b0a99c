//! A streamed book (`[pdf] assembly = "streamed"`: each module exported to
//! a PDF of its own as soon as it is laid out, the book and part PDFs
//! merged from those) prints what the whole layout prints: the same pages
//! with the same text, the same links landing at the same places, the same
//! bookmarks, page labels, tag tree and PDF/UA claim, in files qpdf accepts.

mod common;

use std::path::Path;
use std::process::Command;

use common::pdf::{pdf_links, pdf_words};

/// The book in `source` (under the repository) copied with `settings`
/// appended to its book.toml under `[table]`.
fn book_with(source: &str, table: &str, settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&common::repo_root().join(source), dir.path());
    let toml = dir.path().join("book.toml");
    let mut text = std::fs::read_to_string(&toml).expect("book.toml");
    text.push_str(&format!("\n[{table}]\n{settings}\n"));
    std::fs::write(&toml, text).expect("book.toml");
    dir
}

/// The PDFs of that book built whole and streamed: (their folder, whole's
/// output folder, streamed's).
fn build_both(
    source: &str,
    table: &str,
    settings: &str,
) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let out = tempfile::tempdir().expect("tempdir");
    let (wo, so) = (out.path().join("whole"), out.path().join("streamed"));
    for (assembly, to) in [("whole", &wo), ("streamed", &so)] {
        let book = book_with(
            source,
            table,
            &format!("{settings}\nassembly = \"{assembly}\""),
        );
        common::build(book.path(), to, &["--pdf"]);
    }
    (out, wo, so)
}

fn qpdf_json(pdf: &Path, key: &str) -> serde_json::Value {
    let out = Command::new("qpdf")
        .args(["--json=2", &format!("--json-key={key}")])
        .arg(pdf)
        .output()
        .expect("qpdf");
    assert!(out.status.success(), "qpdf --json {}", pdf.display());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json[key].clone()
}

/// Bookmarks as titles, target pages and children.
fn outline(items: &serde_json::Value) -> Vec<(String, i64, Vec<String>)> {
    let mut flat = Vec::new();
    fn walk(items: &serde_json::Value, path: &str, flat: &mut Vec<(String, i64, Vec<String>)>) {
        for item in items.as_array().into_iter().flatten() {
            let title = item["title"].as_str().unwrap_or_default().to_string();
            let kids: Vec<String> = item["kids"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| k["title"].as_str().unwrap_or_default().to_string())
                .collect();
            let page = item["destpageposfrom1"].as_i64().unwrap_or(0);
            flat.push((format!("{path}/{title}"), page, kids));
            walk(&item["kids"], &format!("{path}/{title}"), flat);
        }
    }
    walk(items, "", &mut flat);
    flat
}

/// The tag tree's elements, one a line (poppler's `pdfinfo -struct`),
/// without object numbers and element ids: each chunk numbers its own, and
/// the merge renames those another chunk has.
fn roles(pdf: &Path) -> Vec<String> {
    let out = Command::new("pdfinfo")
        .arg("-struct")
        .arg(pdf)
        .output()
        .expect("pdfinfo");
    assert!(out.status.success(), "pdfinfo -struct {}", pdf.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim_start().starts_with("Object "))
        .map(|l| match (l.find(" <"), l.find('>')) {
            (Some(a), Some(b)) if b > a => format!("{}{}", &l[..a], &l[b + 1..]),
            _ => l.to_string(),
        })
        .filter(|l| !l.contains("/Headers"))
        .collect()
}

/// The XMP packet's PDF/UA claim (`pdfuaid:part`), if any.
fn ua_claim(pdf: &Path) -> Option<String> {
    let out = Command::new("pdfinfo")
        .arg("-meta")
        .arg(pdf)
        .output()
        .expect("pdfinfo");
    assert!(out.status.success(), "pdfinfo -meta {}", pdf.display());
    let xmp = String::from_utf8_lossy(&out.stdout).into_owned();
    let at = xmp.find("pdfuaid:part")?;
    Some(xmp[at..].chars().take(40).collect())
}

fn assert_same_pdf(whole: &Path, streamed: &Path) {
    let name = whole
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(streamed)
        .output()
        .expect("qpdf");
    assert!(
        check.status.success(),
        "qpdf --check {name}: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    let (a, b) = (
        common::pdf_pages(whole, false),
        common::pdf_pages(streamed, false),
    );
    assert_eq!(a.len(), b.len(), "{name}: page count");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "{name}: the text of page {}", i + 1);
    }
    let (wa, wb) = (pdf_words(whole), pdf_words(streamed));
    let key = |l: &common::pdf::PdfLink| {
        (
            l.page,
            l.text.clone(),
            l.to_page,
            (l.to_top * 10.0).round() as i64,
        )
    };
    let la: Vec<_> = pdf_links(whole, &wa).iter().map(key).collect();
    let lb: Vec<_> = pdf_links(streamed, &wb).iter().map(key).collect();
    assert!(!la.is_empty(), "{name}: no internal links to compare");
    assert_eq!(
        la, lb,
        "{name}: internal links (page, text, target page, target height)"
    );
    let uris = |p: &Path| {
        let objects = common::pdf::qpdf_objects(p);
        let mut uris: Vec<String> = objects
            .values()
            .filter_map(|o| o["value"]["/A"]["/URI"].as_str().map(str::to_string))
            .collect();
        uris.sort();
        uris
    };
    assert_eq!(uris(whole), uris(streamed), "{name}: web links");
    assert_eq!(
        outline(&qpdf_json(whole, "outlines")),
        outline(&qpdf_json(streamed, "outlines")),
        "{name}: bookmarks"
    );
    assert_eq!(
        qpdf_json(whole, "pagelabels"),
        qpdf_json(streamed, "pagelabels"),
        "{name}: page labels"
    );
    let (ra, rb) = (roles(whole), roles(streamed));
    assert!(ra.len() > 10, "{name}: no tag tree");
    assert_eq!(ra, rb, "{name}: tag tree");
    assert_eq!(ua_claim(whole), ua_claim(streamed), "{name}: PDF/UA claim");
}

/// Builds the shipped book with these `[pdf]` settings both ways and
/// compares the book PDF and every part PDF.
fn compare(settings: &str) {
    if !common::tool("pdftotext", "poppler-utils") || !common::tool("qpdf", "qpdf") {
        return;
    }
    let (_out, wo, so) = build_both("content", "pdf", settings);
    let book = "system-design-the-full-curriculum.pdf";
    assert_same_pdf(&wo.join(book), &so.join(book));
    let mut parts: Vec<_> = std::fs::read_dir(wo.join("pdf"))
        .expect("part PDFs")
        .map(|e| e.expect("entry").file_name())
        .collect();
    parts.sort();
    assert_eq!(parts.len(), 12);
    for part in parts {
        assert_same_pdf(&wo.join("pdf").join(&part), &so.join("pdf").join(&part));
    }
}

#[test]
fn a_streamed_book_prints_what_a_whole_one_prints() {
    compare("");
}

/// Modules and parts opening on the right on duplex paper: blank pages,
/// pages moved to their side of the sheet, part PDFs that start with a
/// blank right-hand page.
#[test]
fn a_streamed_book_keeps_sides_and_blank_pages() {
    compare("paper = \"6x9\"\nopen = \"right\"\npart-open = \"any\"");
}

/// A real book whose whole PDF does not meet PDF/UA-1 (The Rust
/// Programming Language, excerpt in `tests/books/rust-book`): the streamed
/// one does not claim it either (each module's piece is checked after the
/// levels of the headings before it, not from a clean start).
#[test]
fn a_streamed_book_claims_pdf_ua_only_when_the_whole_one_does() {
    if !common::tool("pdfinfo", "poppler-utils") || !common::tool("pdftotext", "poppler-utils") {
        return;
    }
    let (_out, wo, so) = build_both("tests/books/rust-book", "output.quire.pdf", "");
    let book = "the-rust-programming-language.pdf";
    assert_eq!(
        ua_claim(&wo.join(book)),
        None,
        "the whole book does not meet PDF/UA-1"
    );
    assert_eq!(
        ua_claim(&so.join(book)),
        None,
        "so the streamed one does not claim it"
    );
    let (a, b) = (
        common::pdf_pages(&wo.join(book), false),
        common::pdf_pages(&so.join(book), false),
    );
    assert_eq!(a.len(), b.len(), "page count");
}
