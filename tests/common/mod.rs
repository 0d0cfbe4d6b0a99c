//! Shared helpers for end-to-end tests: fixture books in temp folders and
//! running the real `quire` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BOOK_TOML: &str = r#"title = "Test Book"
authors = ["Tester"]
language = "en"
identifier = "urn:uuid:00000000-0000-4000-8000-000000000001"
version = "0.1.0"
"#;

pub fn module(title: &str, difficulty: &str, tags: &str, body: &str) -> String {
    format!(
        "---\ntitle: \"{title}\"\nsummary: \"Summary of {title}.\"\ndifficulty: {difficulty}\nminutes: 10\ntags: [{tags}]\n---\n\nSummary of {title}.\n\n{body}\n"
    )
}

pub const PART: &str = "---\ntitle: \"Part\"\nsummary: \"A part.\"\n---\n\nOverview.\n";

/// A small valid book; `extra` files are added or replace defaults.
pub fn book(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let defaults: Vec<(String, String)> = vec![
        ("book.toml".into(), BOOK_TOML.into()),
        ("01-basics/_part.md".into(), PART.into()),
        (
            "01-basics/01-intro.md".into(),
            module(
                "Intro",
                "beginner",
                "Redis, Kafka",
                "## Setup {#setup}\n\nUse Redis here.",
            ),
        ),
        (
            "01-basics/02-next.md".into(),
            module(
                "Next",
                "intermediate",
                "redis",
                "## Details\n\nMore Kafka and Redis.\n\nBack to [setup](01-intro.md#setup).",
            ),
        ),
        ("02-more/_part.md".into(), PART.into()),
        (
            "02-more/01-deep.md".into(),
            module(
                "Deep",
                "advanced",
                "Kafka",
                "## Deep dive\n\nText, see [setup](../01-basics/01-intro.md#setup).",
            ),
        ),
    ];
    for (path, text) in defaults {
        if !extra.iter().any(|(p, _)| *p == path) {
            write(dir.path(), &path, text.as_bytes());
        }
    }
    for (path, text) in extra {
        write(dir.path(), path, text.as_bytes());
    }
    dir
}

pub fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, bytes).expect("write");
}

pub fn quire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run quire")
}

pub fn check(content: &Path) -> (i32, String, String) {
    check_with(content, &[])
}

/// `quire check` with extra arguments (`--strict`).
pub fn check_with(content: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["--content", content.to_str().expect("utf-8 path"), "check"];
    args.extend_from_slice(extra);
    let out = quire(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub mod epub;
pub mod pdf;

/// The text of each physical page of a PDF (pdftotext; in layout order when
/// `layout`), split at the form feeds: the last item is what follows the
/// last page's form feed.
pub fn pdf_pages(pdf: &Path, layout: bool) -> Vec<String> {
    let mut cmd = Command::new("pdftotext");
    if layout {
        cmd.arg("-layout");
    }
    let out = cmd.arg(pdf).arg("-").output().expect("pdftotext");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split('\u{c}')
        .map(str::to_string)
        .collect()
}

/// Whether the command-line tool `name` (which answers `-v`) is installed;
/// when not, the visible skip of `missing_tool` (a failure in CI), naming
/// the Debian package that has it.
pub fn tool(name: &str, package: &str) -> bool {
    let found = Command::new(name).arg("-v").output().is_ok();
    if !found {
        missing_tool(&format!("{name} (apt-get install {package})"));
    }
    found
}

/// A missing external tool skips a test locally but fails it in CI.
pub fn missing_tool(what: &str) {
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
        panic!("{what} is required in CI but is not installed");
    }
    eprintln!("SKIPPED: {what} is not installed; install it to run this check");
}

/// Builds `content` into `out` with the given extra args; panics on failure.
pub fn build(content: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--content",
        content.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "build",
    ];
    args.extend_from_slice(extra);
    let o = quire(&args);
    assert!(
        o.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Every file under `dir` (relative path → bytes); empty if `dir` is missing.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// Copies a folder tree (fixture books into temp folders).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("ls") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// A temp folder holding a copy of a fixture book as `content/` (the output
/// goes next to it), so a test can edit the book freely.
pub fn fixture_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &repo_root().join("tests/fixtures").join(name),
        &dir.path().join("content"),
    );
    dir
}

/// `mdbook build` in `book`, with the freshly built `mdbook-quire` first on PATH;
/// None (the test skipped, or failed in CI) when mdBook is not installed.
pub fn mdbook_build(book: &Path) -> Option<Output> {
    mdbook_build_with(book, &[])
}

/// `mdbook build` with extra environment variables (mdBook reads
/// `MDBOOK_OUTPUT__X__OPTIONAL=true` as `[output.x] optional = true`).
pub fn mdbook_build_with(book: &Path, envs: &[(&str, &str)]) -> Option<Output> {
    if Command::new("mdbook").arg("--version").output().is_err() {
        missing_tool(
            "mdbook (cargo install mdbook --version 0.4.52 --locked --no-default-features)",
        );
        return None;
    }
    let backend = PathBuf::from(env!("CARGO_BIN_EXE_mdbook-quire"));
    let mut path = vec![backend.parent().expect("bin folder").to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Some(
        Command::new("mdbook")
            .arg("build")
            .current_dir(book)
            .env("PATH", std::env::join_paths(path).expect("PATH"))
            .envs(envs.iter().copied())
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .expect("run mdbook"),
    )
}
