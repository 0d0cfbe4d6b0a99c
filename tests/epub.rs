//! EPUB end to end: build real books, open the zip, check its structure
//! against the model, run epubcheck, and build twice for identical bytes.

mod common;

use std::path::Path;

use common::epub::{check_structure, entries, epubcheck};

fn fixture() -> std::path::PathBuf {
    common::repo_root().join("tests/fixtures/mini")
}

fn assert_epubcheck_clean(epub: &Path) {
    if let Some(report) = epubcheck(epub) {
        assert!(
            report.contains("Messages: 0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }
}

#[test]
fn fixture_book_structure_and_epubcheck() {
    let out = tempfile::tempdir().expect("tempdir");
    common::build(&fixture(), out.path(), &["--epub"]);
    let epub = out.path().join("mini-book.epub");
    let loaded = quire::load(&fixture()).expect("fixture loads");
    check_structure(&epub, &loaded);
    let nested = common::epub::nested_anchors(&epub);
    assert!(nested.is_empty(), "nested anchors:\n{}", nested.join("\n"));
    assert_epubcheck_clean(&epub);
}

#[test]
fn fixture_content_details() {
    let out = tempfile::tempdir().expect("tempdir");
    common::build(&fixture(), out.path(), &["--epub"]);
    let all = entries(&out.path().join("mini-book.epub"));
    let text = |name: &str| {
        let e = all
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name}"));
        String::from_utf8(e.bytes.clone()).expect("utf-8")
    };
    let caching = text("EPUB/text/m-caching.xhtml");
    // Cross-module links become EPUB-internal links, external ones are kept.
    assert!(caching.contains("href=\"m-queues.xhtml#delivery\""));
    assert!(caching.contains("href=\"m-consensus.xhtml\""));
    assert!(caching.contains("href=\"https://example.com/?a=1&amp;b=2\""));
    // Math as MathML with the TeX as alttext; the page declares it.
    assert!(caching.contains("<math alttext=\"h = \\frac{hits}{hits + misses}\""));
    let opf = text("EPUB/package.opf");
    assert!(opf.contains(
        "href=\"text/m-caching.xhtml\" media-type=\"application/xhtml+xml\" properties=\"mathml\""
    ));
    // Highlighted code by class, admonitions, task lists, remote image as a link.
    assert!(caching.contains("class=\"hl-"));
    assert!(caching.contains("admonition admonition-warning"));
    assert!(caching.contains("aria-label=\"Done\""));
    assert!(caching.contains("Image (online): <a href=\"https://example.com/logo.png\">"));
    assert!(
        !caching.contains("<img src=\"https://"),
        "remote images are never embedded"
    );
    // Large PNG downscaled to 1600 px, SVG kept as is.
    let png = all
        .iter()
        .find(|e| e.name.ends_with("-chart.png"))
        .expect("chart");
    let img = image::load_from_memory(&png.bytes).expect("png");
    assert_eq!((img.width(), img.height()), (1600, 480));
    let svg = all
        .iter()
        .find(|e| e.name.ends_with("-cache.svg"))
        .expect("svg");
    assert_eq!(
        svg.bytes,
        std::fs::read(fixture().join("images/cache.svg")).expect("svg")
    );
    // Cover at least 1600×2560.
    let cover = all
        .iter()
        .find(|e| e.name == "EPUB/images/cover.png")
        .expect("cover");
    let cover = image::load_from_memory(&cover.bytes).expect("cover png");
    assert!(cover.width() >= 1600 && cover.height() >= 2560);
    // Accessibility metadata and lang everywhere.
    for needle in [
        "schema:accessMode",
        "schema:accessModeSufficient",
        "schema:accessibilityFeature",
        "schema:accessibilityHazard",
        "schema:accessibilitySummary",
        "dcterms:conformsTo",
    ] {
        assert!(opf.contains(needle), "OPF lacks {needle}");
    }
    for e in all.iter().filter(|e| e.name.ends_with(".xhtml")) {
        let t = String::from_utf8_lossy(&e.bytes);
        assert!(
            t.contains(" lang=\"en\" xml:lang=\"en\""),
            "{} lacks lang",
            e.name
        );
    }
    // Landmarks and the legacy NCX.
    let nav = text("EPUB/nav.xhtml");
    for l in ["cover", "toc", "bodymatter", "index"] {
        assert!(nav.contains(&format!("epub:type=\"{l}\"")), "landmark {l}");
    }
    assert!(all.iter().any(|e| e.name == "EPUB/toc.ncx"));
}

#[test]
fn two_builds_are_byte_identical() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    common::build(&fixture(), a.path(), &["--epub"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    common::build(&fixture(), b.path(), &["--epub"]);
    let x = std::fs::read(a.path().join("mini-book.epub")).expect("a");
    let y = std::fs::read(b.path().join("mini-book.epub")).expect("b");
    assert!(x == y, "EPUB bytes differ between two builds");
}

#[test]
fn source_date_epoch_is_honoured() {
    let out = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(["--content", fixture().to_str().expect("utf-8"), "--out"])
        .arg(out.path())
        .args(["build", "--epub"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .status()
        .expect("run");
    assert!(status.success());
    let all = entries(&out.path().join("mini-book.epub"));
    let opf = all
        .iter()
        .find(|e| e.name == "EPUB/package.opf")
        .expect("opf");
    let opf = String::from_utf8_lossy(&opf.bytes);
    assert!(
        opf.contains("<meta property=\"dcterms:modified\">2023-11-14T22:13:20Z</meta>"),
        "{opf}"
    );
}

#[test]
fn failed_build_keeps_previous_output() {
    let out = tempfile::tempdir().expect("tempdir");
    common::build(&fixture(), out.path(), &["--epub"]);
    let epub = out.path().join("mini-book.epub");
    let before = std::fs::read(&epub).expect("epub");
    // The same book with a broken link: the build must fail and touch nothing.
    let broken = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&fixture(), broken.path());
    let m = broken.path().join("01-basics/02-queues.md");
    let text = std::fs::read_to_string(&m).expect("read") + "\n[dead](99-nowhere.md)\n";
    std::fs::write(&m, text).expect("write");
    let o = common::quire(&[
        "--content",
        broken.path().to_str().expect("utf-8"),
        "--out",
        out.path().to_str().expect("utf-8"),
        "build",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&epub).expect("epub"), before);
    let files: Vec<String> = std::fs::read_dir(out.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    // The EPUB and the build cache; no temporary files left behind.
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f == "mini-book.epub" || f == ".cache"));
}

#[test]
fn shipped_curriculum_epub() {
    let content = common::repo_root().join("content");
    let out = tempfile::tempdir().expect("tempdir");
    common::build(&content, out.path(), &["--epub"]);
    let loaded = quire::load(&content).expect("content loads");
    assert_eq!(loaded.book.module_count(), 159);
    let epub = out.path().join(format!("{}.epub", loaded.book.meta.slug));
    check_structure(&epub, &loaded);
    let nested = common::epub::nested_anchors(&epub);
    assert!(nested.is_empty(), "nested anchors:\n{}", nested.join("\n"));
    assert_epubcheck_clean(&epub);
}
