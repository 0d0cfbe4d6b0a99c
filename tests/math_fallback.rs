//! Math where MathML is not rendered (issue 13, defect 2): every formula of
//! the shipped book carries a text form beside its MathML, and calibre's
//! Kindle conversion (EPUB → AZW3 → TXT) reads `10^5` as "10⁵", never "105".

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::epub::entries;

/// One formula as the EPUB has it: its TeX (alttext), what a reading system
/// without MathML would show of the MathML alone (its text content), and
/// the text form written beside it.
struct Formula {
    page: String,
    tex: String,
    bare: String,
    alt: String,
}

fn shipped_epub(out: &Path) -> PathBuf {
    let content = common::repo_root().join("content");
    common::build(&content, out, &["--epub"]);
    let loaded = quire::load(&content).expect("content loads");
    out.join(format!("{}.epub", loaded.book.meta.slug))
}

fn text_of(n: roxmltree::Node<'_, '_>) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

/// Collapses every kind of white space (no-break and em spaces too) to one space.
fn squash(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every formula in the EPUB; panics if one lacks its text form.
fn formulas(epub: &Path) -> Vec<Formula> {
    let mut found = Vec::new();
    for e in entries(epub) {
        if !e.name.ends_with(".xhtml") {
            continue;
        }
        let text = String::from_utf8(e.bytes).expect("utf-8");
        let opts = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        let doc = roxmltree::Document::parse_with_options(&text, opts).expect("well-formed XHTML");
        for math in doc.descendants().filter(|n| n.has_tag_name("math")) {
            let tex = math.attribute("alttext").expect("alttext").to_string();
            let wrap = math.parent_element().expect("parent");
            assert_eq!(
                wrap.attribute("class"),
                Some("math-ml"),
                "{}: <math> for {tex:?} is not in span.math-ml",
                e.name
            );
            let alt = wrap
                .next_sibling_element()
                .filter(|s| s.attribute("class") == Some("math-alt"))
                .unwrap_or_else(|| panic!("{}: no span.math-alt after {tex:?}", e.name));
            assert!(
                !alt.descendants().any(|n| n.has_tag_name("math")),
                "{}: the text form of {tex:?} holds MathML",
                e.name
            );
            found.push(Formula {
                page: e.name.clone(),
                bare: squash(&text_of(math)),
                alt: squash(&text_of(alt)),
                tex,
            });
        }
    }
    found
}

#[test]
fn every_formula_of_the_shipped_book_has_a_text_form() {
    let out = tempfile::tempdir().expect("tempdir");
    let all = formulas(&shipped_epub(out.path()));
    assert!(all.len() >= 140, "only {} formulas found", all.len());
    let alt_of = |tex: &str| -> &str {
        &all.iter()
            .find(|f| f.tex == tex)
            .unwrap_or_else(|| panic!("no formula {tex:?}"))
            .alt
    };
    // The cases the issue saw misread, and a fraction and subscripts.
    assert_eq!(alt_of("10^5"), "10⁵");
    assert_eq!(
        alt_of(r"62^7 \approx 3.5 \times 10^{12}"),
        "62⁷ ≈ 3.5 × 10¹²"
    );
    assert_eq!(alt_of(r"2^{64} - 1"), "2⁶⁴ − 1");
    assert_eq!(alt_of(r"1/\sqrt{V}"), "1/√V");
    assert_eq!(
        alt_of(r"T_{\text{eff}} = T_{\text{hit}} + (1 - h) \times T_{\text{miss}}"),
        "Teff = Thit + (1 − h) × Tmiss"
    );
    for f in &all {
        assert!(
            !f.alt.is_empty(),
            "{}: empty text form for {:?}",
            f.page,
            f.tex
        );
        // A power or a fraction must never come out as its bare digits.
        if f.tex.contains('^') || f.tex.contains(r"\frac") {
            assert_ne!(
                f.alt, f.bare,
                "{}: {:?} reads as bare MathML text",
                f.page, f.tex
            );
        }
        if f.tex.contains(r"\frac") {
            assert!(f.alt.contains('/'), "{}: {:?} → {:?}", f.page, f.tex, f.alt);
        }
    }
}

fn ebook_convert() -> Option<&'static str> {
    let ok = Command::new("ebook-convert")
        .arg("--version")
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some("ebook-convert")
    } else {
        common::missing_tool("calibre's ebook-convert (apt-get install calibre)");
        None
    }
}

fn convert(tool: &str, from: &Path, to: &Path) {
    let o = Command::new(tool)
        .arg(from)
        .arg(to)
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .expect("run ebook-convert");
    assert!(
        o.status.success(),
        "ebook-convert {} {} failed:\n{}{}",
        from.display(),
        to.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn calibre_kindle_conversion_keeps_math_readable() {
    let Some(tool) = ebook_convert() else { return };
    let out = tempfile::tempdir().expect("tempdir");
    let epub = shipped_epub(out.path());
    let azw3 = out.path().join("book.azw3");
    let txt = out.path().join("book.txt");
    convert(tool, &epub, &azw3);
    convert(tool, &azw3, &txt);
    let text = squash(&std::fs::read_to_string(&txt).expect("txt"));
    // Sentences of the shipped book around its powers of ten, as a reader sees them.
    for (right, wrong) in [
        ("Dividing by 10⁵ instead of 86,400", "Dividing by 105"),
        ("where 62⁷ ≈ 3.5 × 10¹²", "where 627"),
        ("a day of roughly 10⁵ seconds", "roughly 105 seconds"),
    ] {
        assert!(text.contains(right), "the AZW3's text lacks {right:?}");
        assert!(!text.contains(wrong), "the AZW3's text says {wrong:?}");
    }
    let all = formulas(&epub);
    // Every formula's text form reaches the Kindle book, and no power or
    // fraction shows as its bare MathML text.
    let mut missing = Vec::new();
    for f in &all {
        if !text.contains(&f.alt) {
            missing.push(format!("{}: {:?} → {:?}", f.page, f.tex, f.alt));
        }
    }
    assert!(
        missing.is_empty(),
        "not in the AZW3's text:\n{}",
        missing.join("\n")
    );
    let mut bare = Vec::new();
    for f in &all {
        let scripted = f.tex.contains('^') || f.tex.contains(r"\frac");
        if scripted && f.bare != f.alt && f.bare.chars().count() >= 5 && text.contains(&f.bare) {
            bare.push(format!("{}: {:?} reads {:?}", f.page, f.tex, f.bare));
        }
    }
    assert!(
        bare.is_empty(),
        "bare MathML text in the AZW3:\n{}",
        bare.join("\n")
    );
}
