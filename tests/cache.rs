//! No-op rebuilds (`output/.cache/build.json`): a second build with nothing
//! changed touches no file; any change, a corrupt manifest, another Quire or
//! an edited output falls back to a real build, never to stale output.

mod common;

use std::path::Path;
use std::time::SystemTime;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn mtimes(out: &Path) -> Vec<(String, SystemTime)> {
    common::snapshot(out)
        .keys()
        .map(|k| {
            let t = std::fs::metadata(out.join(k))
                .and_then(|m| m.modified())
                .expect("mtime");
            (k.clone(), t)
        })
        .collect()
}

const EPUB: &str = "mini-book.epub";

#[test]
fn second_build_is_a_no_op_that_touches_nothing() {
    let dir = common::fixture_copy("mini");
    let (content, out) = (dir.path().join("content"), dir.path().join("output"));
    let first = common::build(&content, &out, &["--epub"]);
    assert!(stdout(&first).contains("wrote"), "{}", stdout(&first));
    let files = common::snapshot(&out);
    let times = mtimes(&out);
    // Same file contents, new mtimes: still nothing to do.
    let module = content.join("01-basics/01-caching.md");
    std::fs::write(&module, std::fs::read(&module).expect("read")).expect("rewrite");
    let report = dir.path().join("report.json");
    let second = common::build(
        &content,
        &out,
        &["--epub", "--report", report.to_str().expect("utf-8")],
    );
    assert!(
        stdout(&second).contains("up to date"),
        "{}",
        stdout(&second)
    );
    assert_eq!(common::snapshot(&out), files);
    assert_eq!(mtimes(&out), times, "a no-op build rewrote a file");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    assert_eq!(json["up_to_date"], true);
    assert_eq!(json["outputs"][0]["written"], false);
    // --force always builds.
    let forced = common::build(&content, &out, &["--epub", "--force"]);
    assert!(!stdout(&forced).contains("up to date"));
}

#[test]
fn any_change_to_content_or_options_rebuilds() {
    let dir = common::fixture_copy("mini");
    let (content, out) = (dir.path().join("content"), dir.path().join("output"));
    common::build(&content, &out, &["--epub"]);
    let before = std::fs::read(out.join(EPUB)).expect("epub");
    let module = content.join("01-basics/02-queues.md");
    let mut text = std::fs::read_to_string(&module).expect("read");
    text.push_str("\nA sentence about zebras.\n");
    std::fs::write(&module, text).expect("write");
    let o = common::build(&content, &out, &["--epub"]);
    assert!(!stdout(&o).contains("up to date"));
    let after = std::fs::read(out.join(EPUB)).expect("epub");
    assert_ne!(before, after);
    // Other options are another build: all formats instead of the EPUB only.
    let o = common::build(&content, &out, &[]);
    assert!(!stdout(&o).contains("up to date"), "{}", stdout(&o));
    let o = common::build(&content, &out, &[]);
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));
    // Another build date changes the bytes: it must rebuild.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(["--content", content.to_str().expect("utf-8")])
        .args(["--out", out.to_str().expect("utf-8"), "build"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("quire");
    assert!(o.status.success());
    assert!(!stdout(&o).contains("up to date"), "{}", stdout(&o));
}

#[test]
fn corrupt_or_foreign_cache_means_a_clean_build() {
    let dir = common::fixture_copy("mini");
    let (content, out) = (dir.path().join("content"), dir.path().join("output"));
    common::build(&content, &out, &["--epub"]);
    let good = std::fs::read(out.join(EPUB)).expect("epub");
    let manifest = out.join(".cache/build.json");
    // Truncated JSON.
    std::fs::write(&manifest, b"{\"format\": 1, \"fingerpr").expect("write");
    let o = common::build(&content, &out, &["--epub"]);
    assert!(!stdout(&o).contains("up to date"));
    assert_eq!(std::fs::read(out.join(EPUB)).expect("epub"), good);
    // A manifest from another Quire (another fingerprint): rebuild, and the
    // manifest is rewritten so the next build is a no-op again.
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let fp = v["fingerprint"].as_str().expect("fingerprint").to_string();
    std::fs::write(&manifest, text.replace(&fp, &"0".repeat(fp.len()))).expect("write");
    let o = common::build(&content, &out, &["--epub"]);
    assert!(!stdout(&o).contains("up to date"));
    let o = common::build(&content, &out, &["--epub"]);
    assert!(stdout(&o).contains("up to date"));
}

#[test]
fn an_edited_or_deleted_output_is_rebuilt() {
    let dir = common::fixture_copy("mini");
    let (content, out) = (dir.path().join("content"), dir.path().join("output"));
    common::build(&content, &out, &["--epub"]);
    let good = std::fs::read(out.join(EPUB)).expect("epub");
    std::fs::write(out.join(EPUB), b"not an epub").expect("write");
    let o = common::build(&content, &out, &["--epub"]);
    assert!(!stdout(&o).contains("up to date"));
    assert_eq!(std::fs::read(out.join(EPUB)).expect("epub"), good);
    std::fs::remove_file(out.join(EPUB)).expect("rm");
    common::build(&content, &out, &["--epub"]);
    assert_eq!(std::fs::read(out.join(EPUB)).expect("epub"), good);
}
