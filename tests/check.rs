//! `quire check` end to end: a good book passes, each kind of bad input is
//! reported with its file, line and column, and every problem is listed.

mod common;

use common::{PART, book, check, module, write};

fn assert_error(stderr: &str, file_line: &str, phrase: &str) {
    let hit = stderr
        .lines()
        .any(|l| l.contains(file_line) && l.contains(": error: ") && l.contains(phrase));
    assert!(
        hit,
        "expected an error at '{file_line}' mentioning '{phrase}', got:\n{stderr}"
    );
}

#[test]
fn good_book_passes_with_summary() {
    let dir = book(&[]);
    let (code, out, err) = check(dir.path());
    assert_eq!(code, 0, "stderr:\n{err}");
    assert!(out.contains("parts          2"), "{out}");
    assert!(
        out.contains("modules        3 (1 beginner, 1 intermediate, 1 advanced)"),
        "{out}"
    );
    assert!(out.contains("2 internal (2 heading anchors)"), "{out}");
    // 'redis' merged into 'Redis': 2 tags, not 3, and a warning says so.
    assert!(out.contains("tags           2"), "{out}");
    assert!(
        err.contains("tag 'redis' is spelled 'Redis' elsewhere"),
        "{err}"
    );
}

#[test]
fn front_matter_is_optional() {
    // Title from the leading heading (taken out of the body: the link's line
    // numbers stay those of the file), or from the file name; minutes estimated.
    let dir = book(&[
        (
            "01-basics/02-next.md",
            "<!-- a comment -->\n# Next\n\nNo front matter. [gone](nope.md)\n",
        ),
        ("01-basics/03-from-the-name.md", "Just text.\n"),
    ]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1, "{err}");
    assert_error(&err, "01-basics/02-next.md:4:18", "not a module");
    assert_eq!(err.matches(": error: ").count(), 1, "{err}");
    // An untagged module is normal: no warning, unless an author asks for
    // the strict lints (the book uses tags, so it is missing from the index).
    assert!(!err.contains("no tags"), "{err}");
    let good = book(&[("01-basics/02-next.md", "# Next\n\nNo front matter.\n")]);
    let (code, _, strict) = common::check_with(good.path(), &["--strict"]);
    assert_eq!(code, 0, "{strict}");
    assert!(
        strict.contains("02-next.md:1:1: warning: module has no tags"),
        "{strict}"
    );
    let (code, out, err) = check(good.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "modules        3 (1 beginner, 0 intermediate, 1 advanced, 1 without difficulty)"
        ),
        "{out}"
    );
}

#[test]
fn untagged_book_has_no_tag_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "book.toml", common::BOOK_TOML.as_bytes());
    write(dir.path(), "01-only/01-a.md", b"# A\n\nText.\n");
    write(
        dir.path(),
        "01-only/02-b.md",
        b"---\nsummary: S\n---\n\nText.\n",
    );
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("no tags"), "{err}");
}

#[test]
fn unterminated_front_matter() {
    let dir = book(&[("01-basics/02-next.md", "---\ntitle: Next\n\nBody\n")]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "01-basics/02-next.md:1:1", "not closed");
}

#[test]
fn invalid_yaml_points_at_the_line() {
    let dir = book(&[(
        "01-basics/02-next.md",
        "---\ntitle: Next\nsummary: [unclosed\ndifficulty: beginner\n---\n\nBody\n",
    )]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "01-basics/02-next.md:", "invalid front matter");
}

#[test]
fn wrong_type_for_minutes() {
    let text = "---\ntitle: Next\nsummary: S.\ndifficulty: beginner\nminutes: \"ten\"\ntags: [Redis]\n---\n\nS.\n";
    let dir = book(&[("01-basics/02-next.md", text)]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "01-basics/02-next.md:5:", "invalid front matter");
}

#[test]
fn unknown_difficulty_and_missing_fields() {
    let text = "---\ntitle: Next\ndifficulty: expert\ndescription: extra keys are fine\ndraft: false\n---\n\nBody.\n";
    let dir = book(&[("01-basics/02-next.md", text)]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(
        &err,
        "01-basics/02-next.md:3:13",
        "unknown difficulty 'expert'",
    );
    // summary and minutes are optional: no errors for them.
    assert_eq!(err.matches(": error: ").count(), 1, "{err}");
    assert!(
        !err.contains("description"),
        "unknown keys are ignored:\n{err}"
    );
}

#[test]
fn duplicate_module_numbers_and_ids() {
    let dir = book(&[
        (
            "01-basics/02-other.md",
            &module("Other", "beginner", "Redis", "Text."),
        ),
        (
            "02-more/02-intro.md",
            &module("Intro again", "beginner", "Redis", "Text."),
        ),
    ]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(
        &err,
        "01-basics/02-other.md:1:1",
        "duplicate module number 02",
    );
    assert_error(
        &err,
        "02-more/02-intro.md:1:1",
        "duplicate module id 'intro'",
    );
}

#[test]
fn link_to_missing_module_and_heading() {
    let body = "## A {#a}\n\nSee [gone](03-gone.md), [bad anchor](01-intro.md#nowhere) and [ok](01-intro.md#setup).";
    let dir = book(&[(
        "01-basics/02-next.md",
        &module("Next", "beginner", "Redis", body),
    )]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(
        &err,
        "01-basics/02-next.md:13:5",
        "'03-gone.md', which is not a module",
    );
    assert_error(
        &err,
        "01-basics/02-next.md:13:",
        "missing heading '#nowhere'",
    );
    assert_eq!(err.matches(": error: ").count(), 2, "{err}");
}

#[test]
fn cross_part_heading_link_resolves() {
    let body = "Go [deep](../02-more/01-deep.md#deep-dive).";
    let dir = book(&[(
        "01-basics/02-next.md",
        &module("Next", "beginner", "Redis", body),
    )]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
}

#[test]
fn missing_image_and_escaping_paths() {
    let body =
        "![A chart](../images/none.png)\n\n![Secret](../../../etc/passwd)\n\n![Abs](/etc/passwd)\n";
    let dir = book(&[(
        "01-basics/02-next.md",
        &module("Next", "beginner", "Redis", body),
    )]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "01-basics/02-next.md:11:1", "file not found");
    assert_error(
        &err,
        "01-basics/02-next.md:13:1",
        "escapes the content folder",
    );
    assert_error(&err, "01-basics/02-next.md:15:1", "absolute");
}

#[cfg(unix)]
#[test]
fn symlink_out_of_the_tree_is_refused() {
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "x.png", b"not really");
    let body = "![Linked](../images/x.png)\n";
    let dir = book(&[(
        "01-basics/02-next.md",
        &module("Next", "beginner", "Redis", body),
    )]);
    std::fs::create_dir_all(dir.path().join("images")).expect("mkdir");
    std::os::unix::fs::symlink(
        outside.path().join("x.png"),
        dir.path().join("images/x.png"),
    )
    .expect("symlink");
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(
        &err,
        "01-basics/02-next.md:11:1",
        "outside the content folder",
    );
}

#[test]
fn corrupt_png_is_an_error() {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0u8; 40]);
    let dir = book(&[(
        "01-basics/02-next.md",
        &module(
            "Next",
            "beginner",
            "Redis",
            "![Broken](../images/broken.png)",
        ),
    )]);
    write(dir.path(), "images/broken.png", &bytes);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "01-basics/02-next.md:11:1", "not a valid PNG");
}

#[test]
fn non_utf8_file() {
    let mut bytes = module("Next", "beginner", "Redis", "Caf").into_bytes();
    bytes.pop(); // the trailing newline: the bad byte goes right after "Caf"
    bytes.extend_from_slice(b"\xE9 au lait\n");
    let dir = book(&[]);
    write(dir.path(), "01-basics/02-next.md", &bytes);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "01-basics/02-next.md:11:4", "not valid UTF-8");
}

#[test]
fn bom_and_crlf_just_work() {
    let text = format!(
        "\u{FEFF}{}",
        module("Next", "beginner", "Redis", "## Details\n\nText.").replace('\n', "\r\n")
    );
    let dir = book(&[("01-basics/02-next.md", &text)]);
    let (code, out, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("modules        3"), "{out}");
}

#[test]
fn empty_module() {
    let text = "---\ntitle: Next\nsummary: S.\ndifficulty: beginner\nminutes: 5\ntags: [Redis]\n---\n\n   \n";
    let dir = book(&[("01-basics/02-next.md", text)]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "01-basics/02-next.md:8:1", "module is empty");
}

#[test]
fn every_problem_is_listed_not_just_the_first() {
    let dir = book(&[
        ("01-basics/02-next.md", "---\nminutes: -3\n---\n\nText.\n"),
        (
            "02-more/01-deep.md",
            &module("Deep", "wizard", "Kafka", "Text."),
        ),
        (
            "01-basics/01-intro.md",
            &module("Intro", "beginner", "Redis", "Text."),
        ),
        (
            "02-more/02-x.md",
            &module("X", "beginner", "Kafka", "[x](nope.md)"),
        ),
    ]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "01-basics/02-next.md:2:", "invalid front matter");
    assert_error(&err, "02-more/01-deep.md:4:13", "unknown difficulty");
    assert_error(&err, "02-more/02-x.md:11:1", "not a module");
    assert!(err.contains("error: 3 error(s) in the content"), "{err}");
}

#[test]
fn warnings_do_not_fail() {
    let body = "![](../images/pic.svg)\n\nSome <custom-el>html</custom-el>.";
    let dir = book(&[(
        "01-basics/02-next.md",
        &module("Next", "beginner", "", body),
    )]);
    write(
        dir.path(),
        "images/pic.svg",
        br#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>"#,
    );
    let (code, out, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("02-next.md:11:1: warning: image '../images/pic.svg' has no alt text"),
        "{err}"
    );
    assert!(
        err.contains("02-next.md:13:6: warning: HTML <custom-el> is not rendered"),
        "{err}"
    );
    assert!(out.contains("images         1 local"), "{out}");
}

#[test]
fn remote_images_are_noted_not_fetched() {
    let body = "![Logo](https://example.com/logo.png \"The logo\")";
    let dir = book(&[(
        "01-basics/02-next.md",
        &module("Next", "beginner", "Redis", body),
    )]);
    let (code, out, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 local, 1 remote (not fetched"), "{out}");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let body = format!("{}deep\n", "> ".repeat(10_000));
    let dir = book(&[(
        "01-basics/02-next.md",
        &module("Next", "beginner", "Redis", &body),
    )]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1, "{err}");
    assert_error(&err, "01-basics/02-next.md:11:", "nested more than");
}

#[test]
fn part_without_part_file() {
    // _part.md is optional: the part is titled after its folder.
    let dir = book(&[("03-orphan/01-x.md", &module("X", "beginner", "Redis", "T."))]);
    let (code, out, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("parts          3"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = check(std::path::Path::new("/nonexistent/book"));
    assert_eq!(code, 2, "{err}");
    let out = common::quire(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    // A paper Quire has no profile for, and a booklet sheet that is not one:
    // refused with the accepted values, never quietly another paper.
    for (args, accepted) in [
        (
            &["build", "--paper", "half-letter"][..],
            "[possible values: a4, letter, a5, 6x9, ereader, tablet]",
        ),
        (
            &["booklet", "3", "--paper", "6x9"][..],
            "[possible values: a4, letter]",
        ),
        (
            &["booklet", "3", "--paper", "a5"][..],
            "[possible values: a4, letter]",
        ),
    ] {
        let out = common::quire(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(accepted), "{args:?}: {err}");
    }
}

#[test]
fn part_title_comes_from_its_heading_or_folder() {
    let dir = book(&[("02-more/_part.md", "---\nsummary: x\n---\n")]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    let dir = book(&[("02-more/_part.md", "# More things\n\nOverview.\n")]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    // An empty title is still an error.
    let dir = book(&[("02-more/_part.md", "---\ntitle: \"\"\n---\n")]);
    let (code, _, err) = check(dir.path());
    assert_eq!(code, 1);
    assert_error(&err, "02-more/_part.md:2:", "'title' is empty");
    let _ = PART;
}

/// The shipped book is clean: no warning, so `--deny-warnings` (the README's
/// release advice) builds it. (Untagged modules are on purpose in its catalogue.)
#[test]
fn shipped_book_has_no_warnings() {
    let content = common::repo_root().join("content");
    let (code, _, err) = check(&content);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning:"), "{err}");
    let out = tempfile::tempdir().expect("tempdir");
    let o = common::build(&content, out.path(), &["--epub", "--deny-warnings"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("warning:"), "{err}");
}
