//! Study booklets: the text of every imposed sheet side, left half and right
//! half, against the saddle-stitch formula; padding only at the end; long
//! parts in signatures; the CLI end to end.

mod common;

use std::path::Path;
use std::process::Command;

use quire::render::booklet::{BookletOptions, Sheet};

fn tool(name: &str) -> bool {
    common::tool(name, "qpdf poppler-utils")
}

/// An A5 PDF whose page i says only `P<i>Q`.
fn numbered(pages: usize) -> Vec<u8> {
    let mut src = String::from("#set page(paper: \"a5\")\n#set text(size: 30pt)\n");
    for i in 1..=pages {
        if i > 1 {
            src.push_str("#pagebreak()\n");
        }
        src.push_str(&format!("P{i}Q\n"));
    }
    let (pdf, n) = quire::render::pdf::typeset_markup(&src).expect("typesets");
    assert_eq!(n, pages);
    pdf
}

/// The page tokens in one half of one sheet side (None when blank).
fn half(pdf: &Path, side: usize, right: bool, sheet_w: f64, sheet_h: f64) -> Option<usize> {
    let w = sheet_w / 2.0;
    let o = Command::new("pdftotext")
        .args(["-f", &side.to_string(), "-l", &side.to_string()])
        .args(["-x", &format!("{}", if right { w.ceil() } else { 0.0 })])
        .args(["-y", "0", "-W", &format!("{}", w.floor()), "-H"])
        .arg(format!("{}", sheet_h.ceil()))
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&o.stdout);
    let tokens: Vec<usize> = text
        .split_whitespace()
        .filter_map(|t| t.strip_prefix('P')?.strip_suffix('Q')?.parse().ok())
        .collect();
    assert!(tokens.len() <= 1, "side {side}: {tokens:?}");
    tokens.first().copied()
}

/// Saddle stitch, stated independently of the implementation: a signature
/// of pages first..=last (a multiple of 4) folds its sheets so that the
/// outermost sheet carries last|first on the front and first+1|last-1 on the
/// back, and each inner sheet the next pages in.
fn expected(pages: usize, signatures: &[(usize, usize)]) -> Vec<(Option<usize>, Option<usize>)> {
    let real = |n: usize| (n <= pages).then_some(n);
    let mut out = Vec::new();
    for &(first, last) in signatures {
        assert_eq!((last - first + 1) % 4, 0);
        let sheets = (last - first + 1) / 4;
        for j in 0..sheets {
            out.push((real(last - 2 * j), real(first + 2 * j)));
            out.push((real(first + 2 * j + 1), real(last - 2 * j - 1)));
        }
    }
    out
}

fn impose_and_read(pages: usize, opts: &BookletOptions) -> Vec<(Option<usize>, Option<usize>)> {
    let (pdf, sides) =
        quire::render::pdf::impose(numbered(pages), pages, Sheet::A4, opts).expect("imposes");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("booklet.pdf");
    std::fs::write(&path, pdf).expect("write");
    let (w, h) = (841.89, 595.28);
    (1..=sides)
        .map(|s| (half(&path, s, false, w, h), half(&path, s, true, w, h)))
        .collect()
}

#[test]
fn saddle_stitch_order_for_4_8_12_40_and_odd_page_counts() {
    if !tool("pdftotext") {
        return;
    }
    let opts = BookletOptions::default();
    for (pages, signatures) in [
        (4, vec![(1, 4)]),
        (8, vec![(1, 8)]),
        (12, vec![(1, 12)]),
        // 10 sheets, at most 8 per signature: two signatures of 5 sheets.
        (40, vec![(1, 20), (21, 40)]),
        // Not a multiple of 4: padded with blank pages at the end only.
        (7, vec![(1, 8)]),
        (13, vec![(1, 16)]),
    ] {
        let got = impose_and_read(pages, &opts);
        assert_eq!(got, expected(pages, &signatures), "{pages} pages");
        // Every page exactly once; the blanks are the pages after the last.
        let mut seen: Vec<usize> = got.iter().flat_map(|(l, r)| [*l, *r]).flatten().collect();
        seen.sort_unstable();
        assert_eq!(seen, (1..=pages).collect::<Vec<_>>(), "{pages} pages");
    }
    // A smaller signature: 40 pages in signatures of at most 3 sheets (4 of 3,3,2,2).
    let small = BookletOptions {
        signature: 3,
        ..BookletOptions::default()
    };
    assert_eq!(
        impose_and_read(40, &small),
        expected(40, &[(1, 12), (13, 24), (25, 32), (33, 40)])
    );
}

fn page_size(pdf: &Path) -> String {
    let o = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.starts_with("Page size:"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn booklet_command_imposes_a_part_on_a4_or_letter() {
    if !tool("pdftotext") || !tool("pdfinfo") || !tool("qpdf") {
        return;
    }
    let dir = common::fixture_copy("mini");
    let content = dir.path().join("content");
    let out = dir.path().join("output");
    let run = |args: &[&str]| {
        let mut all = vec![
            "--content",
            content.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ];
        all.extend_from_slice(args);
        common::quire(&all)
    };
    let o = run(&["booklet", "basics", "--marks", "--creep", "0.2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let booklet = out.join("booklets/01-basics-booklet.pdf");
    assert!(
        page_size(&booklet).contains("841.89 x 595.276"),
        "A4 landscape"
    );
    let qpdf = Command::new("qpdf")
        .arg("--check")
        .arg(&booklet)
        .output()
        .expect("qpdf");
    assert!(qpdf.status.success());
    // Sheet 1 front, right half: the part's opening page.
    let (w, h): (f64, f64) = (841.89, 595.28);
    let o = Command::new("pdftotext")
        .args(["-f", "1", "-l", "1", "-x", &format!("{}", (w / 2.0).ceil())])
        .args(["-y", "0", "-W", "420", "-H", &format!("{}", h.ceil())])
        .arg(&booklet)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Part 1: Basics") && text.contains("In this part"),
        "{text}"
    );
    // Only the named part; the other part has no booklet.
    assert!(!out.join("booklets/02-advanced-booklet.pdf").exists());

    // Letter sheets carry half-letter pages.
    let o = run(&["booklet", "2", "--paper", "letter"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(page_size(&out.join("booklets/02-advanced-booklet.pdf")).contains("792 x 612"));

    // An unknown part is a usage error that lists the parts.
    let o = run(&["booklet", "99"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no part '99'") && err.contains("01-basics"),
        "{err}"
    );
}

#[test]
fn build_booklet_writes_one_per_part() {
    let dir = common::fixture_copy("mini");
    let content = dir.path().join("content");
    let out = dir.path().join("output");
    common::build(&content, &out, &["--pdf", "--booklet", "--signature", "2"]);
    for name in ["01-basics-booklet.pdf", "02-advanced-booklet.pdf"] {
        let pdf = std::fs::read(out.join("booklets").join(name)).expect(name);
        assert!(pdf.starts_with(b"%PDF-"), "{name}");
    }
}
