//! Never lose a release: broken input changes nothing in the output folder,
//! a killed or failing build leaves only whole files, and exit codes say what
//! went wrong (0 ok, 1 content, 2 usage, 3 I/O).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    common::repo_root().join("tests/fixtures/mini")
}

/// `quire --content C --out O build ARGS…`, output captured.
fn build_args(content: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "--content",
        content.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "build",
    ];
    all.extend_from_slice(args);
    common::quire(&all)
}

fn run_build(content: &Path, out: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quire"));
    cmd.args([
        "--content",
        content.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "build",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("run quire");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

type Breakage = (&'static str, fn(&Path), &'static str, &'static str);

fn replace(path: &Path, from: &str, to: &str) {
    let t = std::fs::read_to_string(path).expect("read");
    assert!(t.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, t.replacen(from, to, 1)).expect("write");
}

const QUEUES: &str = "01-basics/02-queues.md";

#[test]
fn broken_books_change_nothing_in_output() {
    let out = tempfile::tempdir().expect("tempdir");
    let (code, err) = run_build(&fixture(), out.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let before = common::snapshot(out.path());
    assert!(before.len() >= 4, "epub and 3 pdfs: {:?}", before.keys());

    let cases: Vec<Breakage> = vec![
        (
            "negative minutes",
            |d| replace(&d.join(QUEUES), "minutes: 25", "minutes: -3"),
            "02-queues.md:5:",
            "invalid front matter",
        ),
        (
            "unterminated front matter",
            |d| std::fs::write(d.join(QUEUES), "---\ntitle: Q\n\nBody\n").expect("w"),
            "02-queues.md:1:1: error:",
            "not closed",
        ),
        (
            "invalid YAML",
            |d| replace(&d.join(QUEUES), "minutes: 25", "minutes: [25"),
            "02-queues.md:",
            "invalid front matter",
        ),
        (
            "wrong type",
            |d| replace(&d.join(QUEUES), "minutes: 25", "minutes: \"ten\""),
            "02-queues.md:5:",
            "invalid front matter",
        ),
        (
            "unknown difficulty",
            |d| {
                replace(
                    &d.join(QUEUES),
                    "difficulty: intermediate",
                    "difficulty: expert",
                )
            },
            "02-queues.md:4:13: error:",
            "unknown difficulty",
        ),
        (
            "duplicate number",
            |d| {
                std::fs::copy(d.join(QUEUES), d.join("01-basics/02-copy.md")).expect("cp");
            },
            "02-queues.md:1:1: error:",
            "duplicate module number 02",
        ),
        (
            "duplicate id",
            |d| {
                std::fs::copy(d.join(QUEUES), d.join("02-advanced/05-queues.md")).expect("cp");
            },
            "05-queues.md:1:1: error:",
            "duplicate module id 'queues'",
        ),
        (
            "empty module",
            |d| {
                std::fs::write(d.join(QUEUES), "---\ntitle: Q\nsummary: S\ndifficulty: beginner\nminutes: 3\ntags: [Kafka]\n---\n\n").expect("w")
            },
            "02-queues.md:8:1: error:",
            "module is empty",
        ),
        (
            "non-UTF-8",
            |d| {
                let mut b = std::fs::read(d.join(QUEUES)).expect("r");
                b.extend_from_slice(b"\nbad \xFF byte\n");
                std::fs::write(d.join(QUEUES), b).expect("w");
            },
            "02-queues.md:",
            "not valid UTF-8",
        ),
        (
            "link to a missing module",
            |d| {
                replace(
                    &d.join(QUEUES),
                    "Kafka orders within a partition.",
                    "See [gone](07-gone.md).",
                )
            },
            "02-queues.md:",
            "not a module of this book",
        ),
        (
            "link to a missing heading",
            |d| replace(&d.join(QUEUES), "#write-patterns", "#no-such-heading"),
            "02-queues.md:",
            "missing heading '#no-such-heading'",
        ),
        (
            "missing image",
            |d| std::fs::remove_file(d.join("images/cache.svg")).expect("rm"),
            "01-caching.md:",
            "file not found",
        ),
        (
            "corrupt PNG",
            |d| {
                std::fs::write(
                    d.join("images/chart.png"),
                    b"\x89PNG\r\n\x1a\nnot really a png",
                )
                .expect("w")
            },
            "01-caching.md:",
            "not a valid PNG",
        ),
        (
            "image escaping the folder",
            |d| {
                replace(
                    &d.join("01-basics/01-caching.md"),
                    "../images/cache.svg",
                    "../../../etc/passwd",
                )
            },
            "01-caching.md:",
            "escapes the content folder",
        ),
        (
            "absolute image path",
            |d| {
                replace(
                    &d.join("01-basics/01-caching.md"),
                    "../images/cache.svg",
                    "/etc/passwd",
                )
            },
            "01-caching.md:",
            "absolute",
        ),
        (
            "deep nesting",
            |d| {
                let t = std::fs::read_to_string(d.join(QUEUES)).expect("r")
                    + "\n"
                    + &"> ".repeat(10_000)
                    + "deep\n";
                std::fs::write(d.join(QUEUES), t).expect("w");
            },
            "02-queues.md:",
            "nested more than",
        ),
        (
            "SVG with a script",
            |d| {
                std::fs::write(d.join("images/cache.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><script>alert(1)</script></svg>").expect("w")
            },
            "01-caching.md:",
            "SVG contains <script>",
        ),
    ];
    for (name, breakage, at, phrase) in cases {
        let content = tempfile::tempdir().expect("tempdir");
        common::copy_dir(&fixture(), content.path());
        breakage(content.path());
        let (code, err) = run_build(content.path(), out.path(), &[]);
        assert_eq!(code, 1, "{name}: exit code\n{err}");
        assert!(
            err.lines().any(|l| l.contains(at) && l.contains(phrase)),
            "{name}: expected '{at}…{phrase}' in:\n{err}"
        );
        assert!(
            common::snapshot(out.path()) == before,
            "{name}: output folder changed"
        );
    }
}

#[test]
fn injected_write_failure_leaves_whole_files_only() {
    let out = tempfile::tempdir().expect("tempdir");
    let (code, _) = run_build(&fixture(), out.path(), &[]);
    assert_eq!(code, 0);
    let before = common::snapshot(out.path());
    // A changed book, so new files differ from old ones.
    let content = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&fixture(), content.path());
    replace(
        &content.path().join(QUEUES),
        "Kafka orders within a partition.",
        "Kafka orders within a partition, always.",
    );
    let fresh = tempfile::tempdir().expect("tempdir");
    assert_eq!(run_build(content.path(), fresh.path(), &[]).0, 0);
    let after = common::snapshot(fresh.path());

    let (code, err) = run_build(
        content.path(),
        out.path(),
        &[("QUIRE_FAIL_WRITE_AFTER", "1")],
    );
    assert_eq!(code, 3, "an I/O failure exits 3:\n{err}");
    assert!(err.contains("injected write failure"), "{err}");
    // The build cache's manifest is dropped before the first write (a build
    // that dies half-way must not look up to date); every book file remains.
    let books = |m: std::collections::BTreeMap<String, Vec<u8>>| {
        m.into_iter()
            .filter(|(k, _)| !k.starts_with(".cache/"))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (before, after) = (books(before), books(after));
    let now = books(common::snapshot(out.path()));
    assert!(!out.path().join(".cache/build.json").exists());
    assert_eq!(
        now.len(),
        before.len(),
        "no temporary or half files: {:?}",
        now.keys()
    );
    for (name, bytes) in &now {
        assert!(
            Some(bytes) == before.get(name) || Some(bytes) == after.get(name),
            "{name} is neither the old nor the new file"
        );
    }
}

#[test]
fn killed_build_leaves_previous_outputs_whole() {
    let corpus = tempfile::tempdir().expect("tempdir");
    let generated = Command::new(env!("CARGO_BIN_EXE_quire-synth"))
        .args([
            "--out",
            corpus.path().to_str().expect("utf-8"),
            "--words",
            "12000",
            "--force",
        ])
        .output()
        .expect("quire-synth");
    assert!(generated.status.success());
    let out = tempfile::tempdir().expect("tempdir");
    assert_eq!(run_build(corpus.path(), out.path(), &[]).0, 0);
    let before = common::snapshot(out.path());
    for delay_ms in [50u64, 400, 1200] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_quire"))
            .args([
                "--content",
                corpus.path().to_str().expect("utf-8"),
                "--out",
                out.path().to_str().expect("utf-8"),
                "build",
            ])
            .env("SOURCE_DATE_EPOCH", "1234567890") // a different date: new bytes
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        for (name, bytes) in common::snapshot(out.path()) {
            if name.contains(".quire-tmp") {
                continue; // a killed writer's temp file; never a final name
            }
            let old = before
                .get(&name)
                .unwrap_or_else(|| panic!("unexpected {name}"));
            if &bytes != old {
                // Replaced: then it must be complete (renames are atomic).
                assert!(bytes.len() > 1000, "{name} looks truncated");
            }
        }
    }
    // The next build cleans up after the killed ones.
    assert_eq!(run_build(corpus.path(), out.path(), &[]).0, 0);
    assert!(
        common::snapshot(out.path())
            .keys()
            .all(|k| !k.contains(".quire-tmp"))
    );
}

#[test]
fn unwritable_output_exits_3() {
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let (code, err) = run_build(&fixture(), out.path(), &[]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn huge_image_is_downscaled_not_a_crash() {
    let content = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&fixture(), content.path());
    // 50 megapixels.
    let img = image::GrayImage::from_fn(7072, 7072, |x, y| image::Luma([((x ^ y) & 0xFF) as u8]));
    img.save(content.path().join("images/chart.png"))
        .expect("save");
    let out = tempfile::tempdir().expect("tempdir");
    let o = build_args(content.path(), out.path(), &["--epub"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let entries = common::epub::entries(&out.path().join("mini-book.epub"));
    let png = entries
        .iter()
        .find(|e| e.name.ends_with("-chart.png"))
        .expect("chart");
    let decoded = image::load_from_memory(&png.bytes).expect("png");
    assert_eq!((decoded.width(), decoded.height()), (1600, 1600));
}

#[test]
fn raw_html_and_scripts_never_reach_the_epub() {
    let content = common::repo_root().join("tests/fixtures/adversarial");
    let out = tempfile::tempdir().expect("tempdir");
    let o = build_args(&content, out.path(), &["--epub"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: HTML <script> is not allowed in a book"),
        "{err}"
    );
    let epub = std::fs::read_dir(out.path())
        .expect("ls")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "epub"))
        .expect("epub");
    for e in common::epub::entries(&epub) {
        if e.name.ends_with(".xhtml") {
            let t = String::from_utf8_lossy(&e.bytes);
            assert!(!t.contains("<script"), "{} has a script element", e.name);
            assert!(!t.contains("alert(1)"), "{}: script content shown", e.name);
        }
    }
}

#[test]
fn a_20_mb_module_is_handled() {
    let content = tempfile::tempdir().expect("tempdir");
    common::copy_dir(&fixture(), content.path());
    let mut text = std::fs::read_to_string(content.path().join(QUEUES)).expect("read");
    let para =
        "Kafka replicates partitions across brokers so that a follower can take over. ".repeat(12);
    let mut n = 0;
    while text.len() < 20 * 1024 * 1024 {
        if n % 40 == 0 {
            text.push_str(&format!("\n## Section {n}\n\n"));
        }
        text.push_str(&para);
        text.push_str("\n\n");
        n += 1;
    }
    std::fs::write(content.path().join(QUEUES), text).expect("write");
    let (code, out, err) = common::check(content.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("modules        3"), "{out}");
}

#[test]
fn report_lists_outputs_with_hashes_and_warnings() {
    let out = tempfile::tempdir().expect("tempdir");
    let report = out.path().join("report.json");
    let o = build_args(
        &fixture(),
        out.path(),
        &["--report", report.to_str().expect("utf-8")],
    );
    assert!(o.status.success());
    // Not a terminal: plain output, no escape sequences or progress bars.
    assert!(!String::from_utf8_lossy(&o.stderr).contains('\u{1b}'));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    let outputs = v["outputs"].as_array().expect("outputs");
    assert_eq!(outputs.len(), 4, "epub + 2 part pdfs + book pdf");
    for o in outputs {
        let path = PathBuf::from(o["path"].as_str().expect("path"));
        let bytes = std::fs::read(&path).expect("output exists");
        assert_eq!(o["bytes"].as_u64(), Some(bytes.len() as u64));
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(o["sha256"].as_str(), Some(hex.as_str()));
        if o["kind"].as_str().is_some_and(|k| k.starts_with("pdf")) {
            assert!(o["pages"].as_u64().is_some_and(|p| p > 0));
        }
    }
    let w = &v["warnings"][0];
    assert!(
        w["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("02-queues.md"))
            && w["line"].as_u64() == Some(1),
        "{w}"
    );
    assert!(v["timings"].as_array().is_some_and(|t| t.len() >= 3));
}

#[test]
fn deny_warnings_fails_and_writes_nothing() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = build_args(&fixture(), out.path(), &["--deny-warnings"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("02-queues.md:1:1: error: tag 'kafka'"),
        "{err}"
    );
    assert!(common::snapshot(out.path()).is_empty(), "nothing written");
}
