//! `quire init`: a starter book that builds clean at once, and never
//! overwrites anything.

mod common;

#[test]
fn starter_book_builds_clean_and_init_never_overwrites() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let book = tmp.path().join("mybook");
    let book_s = book.to_str().expect("utf-8");
    let o = common::quire(&["init", book_s]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains(&format!("next: quire --content {book_s} build")),
        "{out}"
    );

    // Every front-matter field, two parts, three modules, a figure.
    let loaded = quire::load(&book).expect("the starter book loads");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let b = &loaded.book;
    assert_eq!((b.parts.len(), b.module_count()), (2, 3));
    assert!(
        b.modules()
            .all(|(_, m)| m.difficulty.is_some() && !m.tags.is_empty())
    );
    assert_eq!(b.images.len(), 1);
    assert!(b.meta.identifier.starts_with("urn:uuid:"));

    // It builds with no warning; the EPUB is valid.
    let built = tmp.path().join("output");
    let o = common::build(&book, &built, &["--deny-warnings"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning:"));
    let epub = built.join(format!("{}.epub", b.meta.slug));
    if let Some(report) = common::epub::epubcheck(&epub) {
        assert!(report.contains("0 errors / 0 warnings"), "{report}");
    }
    assert!(built.join(format!("{}.pdf", b.meta.slug)).exists());

    // A second init into the same folder is refused and changes nothing.
    let before = std::fs::read(book.join("book.toml")).expect("read");
    let o = common::quire(&["init", book_s]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    assert_eq!(std::fs::read(book.join("book.toml")).expect("read"), before);

    // Two books get two identifiers.
    let other = tmp.path().join("other");
    assert!(
        common::quire(&["init", other.to_str().expect("utf-8")])
            .status
            .success()
    );
    let id = |p: &std::path::Path| quire::load(p).expect("loads").book.meta.identifier;
    assert_ne!(id(&book), id(&other));
}
