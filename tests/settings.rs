//! book.toml settings: a setting changes the output, a flag overrides it, an
//! unknown key is an error naming the key and the accepted ones.

mod common;

use std::path::Path;

/// A starter book (`quire init`) with `extra` appended to its book.toml.
fn book_with(dir: &Path, extra: &str) -> std::path::PathBuf {
    let book = dir.join("book");
    let o = common::quire(&["init", book.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let toml = book.join("book.toml");
    let text = std::fs::read_to_string(&toml).expect("read");
    // The starter's own [pdf] table goes: the tests give theirs.
    let text = text.split("\n[pdf]").next().expect("text").to_string();
    std::fs::write(&toml, format!("{text}\n{extra}")).expect("write");
    book
}

fn outputs(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = walk(out)
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(out).ok()?.to_string_lossy().into_owned();
            (!rel.starts_with(".cache")).then_some(rel)
        })
        .collect();
    names.sort();
    names
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            found.extend(walk(&p));
        } else {
            found.push(p);
        }
    }
    found
}

#[test]
fn build_formats_from_book_toml_and_flags_override_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let book = book_with(tmp.path(), "[build]\nformats = [\"epub\"]\n");
    let out = tmp.path().join("out");
    common::build(&book, &out, &[]);
    assert_eq!(outputs(&out), ["my-book.epub"]);

    // A flag names the format: book.toml's list is not used.
    let out2 = tmp.path().join("out2");
    common::build(&book, &out2, &["--pdf"]);
    let names = outputs(&out2);
    assert!(names.contains(&"my-book.pdf".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with(".epub")), "{names:?}");

    // Booklets by book.toml.
    let book = book_with(&tmp.path().join("b"), "[build]\nformats = [\"booklets\"]\n");
    let out3 = tmp.path().join("out3");
    common::build(&book, &out3, &[]);
    let names = outputs(&out3);
    assert!(
        !names.is_empty() && names.iter().all(|n| n.starts_with("booklets/")),
        "{names:?}"
    );
}

/// Page width in points of page 1, from pdfinfo.
fn page_width(pdf: &Path) -> Option<f64> {
    let o = std::process::Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = text.lines().find(|l| l.starts_with("Page size:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[test]
fn paper_from_book_toml_and_the_flag_overrides_it() {
    if !common::tool("pdfinfo", "poppler-utils") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let book = book_with(tmp.path(), "[pdf]\npaper = \"a5\"\n");
    let out = tmp.path().join("out");
    common::build(&book, &out, &["--pdf"]);
    // A5 is 420 pt wide, A4 595.
    let w = page_width(&out.join("my-book.pdf")).expect("page size");
    assert!((w - 419.53).abs() < 1.0, "{w}");
    let out = tmp.path().join("out-a4");
    common::build(&book, &out, &["--pdf", "--paper", "a4"]);
    let w = page_width(&out.join("my-book.pdf")).expect("page size");
    assert!((w - 595.28).abs() < 1.0, "{w}");
}

#[test]
fn unknown_keys_and_values_are_clear_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, (extra, expect)) in [
        (
            "[build]\nformat = [\"pdf\"]\n",
            "unknown field `format`, expected `formats`",
        ),
        (
            "[build]\nformats = [\"mobi\"]\n",
            "unknown variant `mobi`, expected one of `epub`, `pdf`, `booklets`",
        ),
        (
            "[pdf]\npapper = \"a5\"\n",
            "unknown field `papper`, expected one of `paper`, `open`, `part-open`, `assembly`, `booklet`",
        ),
        (
            "[pdf]\npaper = \"half-letter\"\n",
            "unknown variant `half-letter`",
        ),
        ("[bild]\nformats = [\"pdf\"]\n", "unknown field `bild`"),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tmp.path().join(format!("b{i}"));
        let book = book_with(&dir, extra);
        let (code, _, err) = common::check(&book);
        assert_eq!(code, 1, "{extra}: {err}");
        assert!(
            err.contains("book.toml:") && err.contains(expect),
            "{extra}: {err}"
        );
    }
}
