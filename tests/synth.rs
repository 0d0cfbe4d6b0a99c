//! The full-size synthetic corpus: deterministic, and a valid book Quire can
//! check and turn into an EPUB that epubcheck accepts.

mod common;

use std::path::Path;
use std::process::Command;

fn generate(dir: &Path, seed: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_quire-synth"))
        .args([
            "--out",
            dir.to_str().expect("utf-8"),
            "--seed",
            seed,
            "--force",
        ])
        .output()
        .expect("run quire-synth");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_text() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let c = tempfile::tempdir().expect("tempdir");
    generate(a.path(), "7");
    generate(b.path(), "7");
    generate(c.path(), "8");
    let (ta, tb, tc) = (
        common::snapshot(a.path()),
        common::snapshot(b.path()),
        common::snapshot(c.path()),
    );
    assert!(ta == tb, "same seed must give identical trees");
    assert!(ta != tc, "another seed must give other text");
}

#[test]
fn full_size_corpus_checks_and_builds_a_valid_epub() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), "1");
    let loaded =
        quire::load(dir.path()).unwrap_or_else(|e| panic!("synthetic corpus fails to load: {e}"));
    let book = &loaded.book;
    assert_eq!(book.parts.len(), 12);
    assert_eq!(book.module_count(), 159);
    let words: usize = book.modules().map(|(_, m)| m.words).sum();
    assert!((690_000..=770_000).contains(&words), "words: {words}");
    assert!(
        loaded.stats.anchors_checked > 2_500,
        "cross-links: {}",
        loaded.stats.anchors_checked
    );
    assert!(book.images.len() >= 10);

    let out = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), out.path(), &["--epub"]);
    let epub = out.path().join(format!("{}.epub", book.meta.slug));
    common::epub::check_structure(&epub, &loaded);
    if let Some(report) = common::epub::epubcheck(&epub) {
        assert!(
            report.contains("Messages: 0 fatals / 0 errors / 0 warnings"),
            "epubcheck:\n{report}"
        );
    }
}
