//! Same input, same bytes: two clean clones of this repository, built in
//! different folders, give byte-identical EPUB and PDFs.

mod common;

use std::process::Command;

#[test]
fn two_clean_clones_build_identical_books() {
    let repo = common::repo_root();
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let mut outputs = Vec::new();
    for (i, dir) in [a.path(), b.path()].into_iter().enumerate() {
        // Different depths too, so no path can leak into the output unnoticed.
        let clone = dir.join(if i == 0 { "x" } else { "deeper/clone" });
        let git = Command::new("git")
            .args(["clone", "--quiet", "--no-hardlinks"])
            .arg(&repo)
            .arg(&clone)
            .status();
        if !git.is_ok_and(|s| s.success()) {
            common::missing_tool("git (and a git checkout of the repository)");
            return;
        }
        let out = clone.join("output");
        common::build(&clone.join("content"), &out, &[]);
        let built = common::snapshot(&out);
        assert!(
            built.keys().filter(|k| k.ends_with(".pdf")).count() == 13,
            "{:?}",
            built.keys()
        );
        outputs.push(built);
    }
    assert_eq!(
        outputs[0].keys().collect::<Vec<_>>(),
        outputs[1].keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &outputs[0] {
        // The build cache records where and how long a build ran, not the books.
        if name.ends_with("README.md") || name.starts_with(".cache/") {
            continue;
        }
        assert!(bytes == &outputs[1][name], "{name} differs between clones");
    }
}
