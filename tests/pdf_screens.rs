//! The e-ink profiles (`--paper ereader`, `--paper tablet`): the page is the
//! screen's size, one-sided, with no blank page anywhere (no blank back to
//! the cover, nothing opening "on the right"), no text outside the page,
//! and a book.toml may choose them.

mod common;

use std::path::Path;
use std::process::Command;

/// A word's box: x0, y0, x1, y1 in pt.
type WordBox = (f64, f64, f64, f64);

/// (width, height) in pt and the words of each page, from `pdftotext -bbox`.
fn pages(pdf: &Path) -> Vec<((f64, f64), Vec<WordBox>)> {
    let out = Command::new("pdftotext")
        .arg("-bbox")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(out.status.success());
    let xml = String::from_utf8_lossy(&out.stdout);
    let num = |tag: &str, name: &str| -> f64 {
        let key = format!("{name}=\"");
        let at = tag.find(&key).expect("attribute") + key.len();
        let end = tag[at..].find('"').expect("quote") + at;
        tag[at..end].parse().expect("number")
    };
    xml.split("<page ")
        .skip(1)
        .map(|page| {
            let head = &page[..page.find('>').expect("page tag")];
            let words = page
                .split("<word ")
                .skip(1)
                .map(|w| {
                    let tag = &w[..w.find('>').expect("word tag")];
                    (
                        num(tag, "xMin"),
                        num(tag, "yMin"),
                        num(tag, "xMax"),
                        num(tag, "yMax"),
                    )
                })
                .collect();
            ((num(head, "width"), num(head, "height")), words)
        })
        .collect()
}

fn check_screen_pdf(pdf: &Path, mm: (f64, f64)) {
    let pages = pages(pdf);
    assert!(pages.len() > 1, "{}: {} pages", pdf.display(), pages.len());
    let pt = (mm.0 / 25.4 * 72.0, mm.1 / 25.4 * 72.0);
    for (n, ((w, h), words)) in pages.iter().enumerate() {
        let n = n + 1;
        assert!(
            (w - pt.0).abs() < 0.5 && (h - pt.1).abs() < 0.5,
            "{} page {n}: {w} x {h} pt, not {mm:?} mm",
            pdf.display()
        );
        assert!(!words.is_empty(), "{} page {n} is blank", pdf.display());
        for &(x0, y0, x1, y1) in words {
            assert!(
                x0 >= 0.0 && y0 >= 0.0 && x1 <= w + 0.5 && y1 <= h + 0.5,
                "{} page {n}: text outside the page at ({x0}, {y0})-({x1}, {y1})",
                pdf.display()
            );
        }
    }
}

#[test]
fn e_reader_and_tablet_pages_are_the_screen_with_no_blank_page() {
    if !common::tool("pdftotext", "poppler-utils") {
        return;
    }
    let content = common::repo_root().join("content");
    for (paper, mm) in [("ereader", (104.0, 139.0)), ("tablet", (157.0, 210.0))] {
        let out = tempfile::tempdir().expect("tempdir");
        common::build(&content, out.path(), &["--pdf", "--paper", paper]);
        let book = std::fs::read_dir(out.path())
            .expect("out")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "pdf"))
            .expect("book pdf");
        check_screen_pdf(&book, mm);
        // Every part PDF too: none starts with a blank page to keep sides.
        for part in std::fs::read_dir(out.path().join("pdf")).expect("parts") {
            check_screen_pdf(&part.expect("entry").path(), mm);
        }
    }
}

#[test]
fn book_toml_chooses_a_screen_profile() {
    if !common::tool("pdftotext", "poppler-utils") {
        return;
    }
    let toml = format!("{}\n[pdf]\npaper = \"tablet\"\n", common::BOOK_TOML);
    let dir = common::book(&[("book.toml", toml.as_str())]);
    let out = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), out.path(), &["--pdf"]);
    check_screen_pdf(&out.path().join("test-book.pdf"), (157.0, 210.0));
}
