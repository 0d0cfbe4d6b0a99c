//! The GitHub Actions workflows in docs/ (CI here cannot run Actions): they
//! parse, have the shape a release needs, and every shell step is valid bash.

mod common;

use serde_json::Value;

fn workflow(name: &str) -> Value {
    let path = common::repo_root().join("docs").join(name);
    let text = std::fs::read_to_string(&path).expect("read workflow");
    serde_saphyr::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every `run:` script of a workflow, with `${{ … }}` expressions replaced
/// by a word (GitHub substitutes them before the shell sees the script).
fn scripts(w: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (job, j) in w["jobs"].as_object().expect("jobs") {
        for (k, step) in j["steps"].as_array().expect("steps").iter().enumerate() {
            if let Some(run) = step["run"].as_str() {
                let mut s = String::new();
                let mut rest = run;
                while let Some(a) = rest.find("${{") {
                    s.push_str(&rest[..a]);
                    let b = rest[a..].find("}}").expect("closed expression") + a + 2;
                    s.push_str("EXPR");
                    rest = &rest[b..];
                }
                s.push_str(rest);
                out.push((format!("{job} step {}", k + 1), s));
            }
        }
    }
    out
}

fn assert_bash_parses(w: &Value, name: &str) {
    for (step, script) in scripts(w) {
        let o = std::process::Command::new("bash")
            .args(["-n", "-c", &script])
            .output()
            .expect("run bash");
        assert!(
            o.status.success(),
            "{name} {step}: {}\n{script}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

fn uses(job: &Value) -> Vec<String> {
    job["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["uses"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn quire_release_builds_every_platform_and_publishes_checksums() {
    let w = workflow("quire-release.yml");
    assert_eq!(w["on"]["push"]["tags"][0], "v*");
    let binary = &w["jobs"]["binary"];
    let targets: Vec<&str> = binary["strategy"]["matrix"]["include"]
        .as_array()
        .expect("matrix")
        .iter()
        .filter_map(|c| c["target"].as_str())
        .collect();
    for t in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(targets.contains(&t), "{t} missing from {targets:?}");
    }
    let runs: String = scripts(&w).into_iter().map(|(_, s)| s).collect();
    assert!(runs.contains("cargo build --release --locked --target"));
    assert!(runs.contains("--bin quire --bin mdbook-quire"));
    assert!(runs.contains("sha256sum quire-* > SHA256SUMS"));
    assert!(runs.contains("gh release upload"));
    let publish = &w["jobs"]["publish"];
    assert_eq!(publish["needs"], "binary");
    assert!(
        uses(binary)
            .iter()
            .any(|u| u.starts_with("actions/upload-artifact@"))
    );
    assert!(
        uses(publish)
            .iter()
            .any(|u| u.starts_with("actions/download-artifact@"))
    );
    assert_bash_parses(&w, "quire-release.yml");
}

/// `needs:` as a list (GitHub takes a string or a list).
fn needs(job: &Value) -> Vec<String> {
    match &job["needs"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn steps(job: &Value) -> Vec<Value> {
    job["steps"].as_array().cloned().unwrap_or_default()
}

/// The step of `job` that uses `action` (any version) and, if given, has
/// `with.<key>` equal to `value`.
fn uses_step(job: &Value, action: &str, with: Option<(&str, &str)>) -> Option<Value> {
    steps(job).into_iter().find(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.split('@').next() == Some(action))
            && with.is_none_or(|(k, v)| s["with"][k] == v)
    })
}

fn axis(matrix: &Value, name: &str) -> Vec<String> {
    matrix[name]
        .as_array()
        .unwrap_or_else(|| panic!("the matrix has no {name} axis: {matrix}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

/// The value after `flag` in a command line (`--books a,b`).
fn flag<'a>(script: &'a str, flag: &str) -> Option<&'a str> {
    let mut words = script.split_whitespace();
    words.find(|w| *w == flag)?;
    words.next()
}

#[test]
fn book_release_downloads_quire_when_a_version_is_set() {
    let w = workflow("release-workflow.yml");
    let quire = &w["jobs"]["quire"];
    let named = |n: &str| steps(quire).into_iter().find(|s| s["name"] == n);
    let download = named("Download Quire").expect("a download step");
    assert!(
        download["if"]
            .as_str()
            .unwrap_or("")
            .contains("vars.QUIRE_VERSION != ''")
    );
    let script = download["run"].as_str().expect("run");
    assert!(script.contains("sha256sum --check"), "{script}");
    assert!(script.contains("quire-bin/release-cells.py"), "{script}");
    let build = named("Build Quire").expect("a build step");
    let cond = build["if"].as_str().unwrap_or("");
    assert!(cond.contains("vars.QUIRE_VERSION == ''"), "{cond}");
    // Compiled only when the cached binary is stale.
    assert!(
        cond.contains("steps.bin.outputs.cache-hit != 'true'"),
        "{cond}"
    );
    let run = build["run"].as_str().expect("run");
    assert!(run.contains("cargo build --release --locked"), "{run}");
    assert!(
        run.contains("cp target/release/quire docs/release-cells.py quire-bin/"),
        "{run}"
    );
    assert_bash_parses(&w, "release-workflow.yml");
}

/// The release matrix: Quire built (or downloaded) once, one job per
/// (book, paper) cell that uploads its outputs with its report, and a publish
/// job that checks every report before anything reaches the release.
#[test]
fn book_release_is_a_matrix_checked_before_publishing() {
    let w = workflow("release-workflow.yml");
    assert_eq!(w["on"]["push"]["tags"][0], "v*");
    let jobs = w["jobs"].as_object().expect("jobs");
    let (quire, cell, publish) = (
        &w["jobs"]["quire"],
        &w["jobs"]["cell"],
        &w["jobs"]["publish"],
    );
    assert!(
        quire.is_object() && cell.is_object() && publish.is_object(),
        "{jobs:?}"
    );

    // Only well-known actions, pinned to a major version.
    for (name, job) in jobs {
        for u in uses(job) {
            let (action, version) = u.split_once('@').expect("a pinned action");
            assert!(
                [
                    "actions/checkout",
                    "actions/cache",
                    "actions/upload-artifact",
                    "actions/download-artifact"
                ]
                .contains(&action),
                "{name}: {u}"
            );
            assert!(
                version
                    .strip_prefix('v')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
                "{name}: {u} is not pinned to a major version"
            );
        }
    }

    // The graph: quire -> cell -> publish.
    assert!(needs(quire).is_empty());
    assert_eq!(needs(cell), ["quire"]);
    assert!(needs(publish).contains(&"cell".to_string()), "{publish}");

    // quire: a binary cached by its sources, uploaded once.
    let cache = steps(quire)
        .into_iter()
        .find(|s| s["id"] == "bin")
        .expect("the cached binary's step");
    assert!(
        cache["uses"]
            .as_str()
            .unwrap_or("")
            .starts_with("actions/cache@")
    );
    assert_eq!(cache["with"]["path"], "quire-bin");
    let key = cache["with"]["key"].as_str().expect("key");
    for src in [
        "Cargo.lock",
        "src/**",
        "layouts/**",
        "docs/release-cells.py",
    ] {
        assert!(key.contains(&format!("'{src}'")), "{key} misses {src}");
    }
    assert!(
        uses_step(
            quire,
            "actions/upload-artifact",
            Some(("name", "quire-bin"))
        )
        .is_some()
    );

    // cell: book x paper, every paper one Quire knows.
    let matrix = &cell["strategy"]["matrix"];
    let books = axis(matrix, "book");
    let papers = axis(matrix, "paper");
    assert!(!books.is_empty() && !papers.is_empty());
    for p in &papers {
        assert!(["a4", "letter", "a5", "6x9"].contains(&p.as_str()), "{p}");
    }
    assert_eq!(cell["strategy"]["fail-fast"], false);
    let cell_steps = steps(cell);
    let dl = cell_steps
        .iter()
        .position(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/download-artifact@"))
        })
        .expect("the cell downloads Quire");
    assert_eq!(cell_steps[dl]["with"]["name"], "quire-bin");
    let b = cell_steps
        .iter()
        .position(|s| s["id"] == "build")
        .expect("the cell's build step");
    assert!(dl < b);
    let build = &cell_steps[b];
    assert_eq!(build["env"]["BOOK"], "${{ matrix.book }}");
    assert_eq!(build["env"]["PAPER"], "${{ matrix.paper }}");
    let run = build["run"].as_str().expect("run");
    assert!(
        run.contains("release-cells.py build --quire quire-bin/quire --book \"$BOOK\" --paper \"$PAPER\" --dist dist"),
        "{run}"
    );
    let up = cell_steps
        .iter()
        .position(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("every cell uploads");
    assert!(b < up);
    // The whole cell folder: outputs, report.json and cell.json.
    assert_eq!(
        cell_steps[up]["with"]["path"],
        "dist/${{ steps.build.outputs.cell }}/"
    );
    assert_eq!(
        cell_steps[up]["with"]["name"],
        "book-${{ steps.build.outputs.cell }}"
    );
    assert_eq!(cell_steps[up]["with"]["if-no-files-found"], "error");

    // publish: every cell downloaded, every report checked, then released.
    let pub_steps = steps(publish);
    assert!(
        uses_step(
            publish,
            "actions/download-artifact",
            Some(("name", "quire-bin"))
        )
        .is_some()
    );
    assert!(
        uses_step(
            publish,
            "actions/download-artifact",
            Some(("pattern", "book-*"))
        )
        .is_some()
    );
    let check = pub_steps
        .iter()
        .position(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("release-cells.py check"))
        })
        .expect("a check step");
    let script = pub_steps[check]["run"].as_str().expect("run");
    assert_eq!(
        flag(script, "--books"),
        Some(books.join(",").as_str()),
        "{script}"
    );
    assert_eq!(
        flag(script, "--papers"),
        Some(papers.join(",").as_str()),
        "{script}"
    );
    assert_eq!(flag(script, "--stage"), Some("release"), "{script}");
    assert!(script.trim_end().ends_with(" dist"), "{script}");
    let release = pub_steps
        .iter()
        .position(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("gh release upload"))
        })
        .expect("a release step");
    assert!(check < release, "the release is published before the check");
    let upload = pub_steps[release]["run"].as_str().expect("run");
    assert!(upload.contains("release/* --clobber"), "{upload}");
    assert_bash_parses(&w, "release-workflow.yml");
}

/// python3 for docs/release-cells.py: skipped locally without it, a failure in CI.
fn python() -> bool {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::missing_tool("python3 (apt-get install python3)");
    }
    ok
}

fn cells(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    std::process::Command::new("python3")
        .arg(common::repo_root().join("docs/release-cells.py"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_OUTPUT")
        .output()
        .expect("run release-cells.py")
}

fn check_fails(dist: &std::path::Path, cwd: &std::path::Path, papers: &str, needle: &str) {
    let o = cells(
        &[
            "check",
            "--books",
            "book",
            "--papers",
            papers,
            dist.to_str().expect("utf-8"),
        ],
        cwd,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
}

/// The checker on real reports: two cells of a small book built by the real
/// binary pass and are staged with their SHA256SUMS; a changed byte, a
/// missing cell, a warning, a page count gone, a build without
/// --deny-warnings or a file the report does not list fail the check.
#[test]
fn release_cells_checks_real_reports() {
    if !python() {
        return;
    }
    // The shared small book, its one warning (a tag spelt two ways) mended.
    let next = common::module(
        "Next",
        "intermediate",
        "Redis",
        "## Details\n\nMore Kafka and Redis.\n\nBack to [setup](01-intro.md#setup).",
    );
    let tmp = common::book(&[("01-basics/02-next.md", next.as_str())]);
    let root = tmp.path();
    // The book as `book/` beside the cells, as in a checkout.
    let book = root.join("book");
    std::fs::create_dir_all(&book).expect("mkdir");
    for entry in ["book.toml", "01-basics", "02-more"] {
        std::fs::rename(root.join(entry), book.join(entry)).expect("move the book");
    }
    let quire = env!("CARGO_BIN_EXE_quire");
    // The A4 cell with booklets too (arguments after `--` go to `quire build`).
    for (paper, extra) in [("a4", &["--", "--booklet"][..]), ("a5", &[][..])] {
        let mut args = vec![
            "build", "--quire", quire, "--book", "book", "--paper", paper, "--dist", "dist",
        ];
        args.extend_from_slice(extra);
        let o = cells(&args, root);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = cells(
        &[
            "check", "--books", "book", "--papers", "a4,a5", "--stage", "release", "dist",
        ],
        root,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Staged: every output and report under its cell's name, with sums.
    let sums = std::fs::read_to_string(root.join("release/SHA256SUMS")).expect("SHA256SUMS");
    let names: Vec<&str> = sums.lines().filter_map(|l| l.split("  ").nth(1)).collect();
    for n in [
        "book-a4-test-book.epub",
        "book-a4-test-book.pdf",
        "book-a4-pdf-01-basics.pdf",
        "book-a4-pdf-02-more.pdf",
        "book-a4-report.json",
        "book-a4-booklets-01-basics-booklet.pdf",
        "book-a5-test-book.pdf",
        "book-a5-report.json",
    ] {
        assert!(names.contains(&n), "{n} not in\n{sums}");
        assert!(root.join("release").join(n).is_file(), "{n}");
    }
    let report: Value = serde_json::from_slice(
        &std::fs::read(root.join("dist/book-a5/report.json")).expect("report"),
    )
    .expect("json");
    let book_pdf = report["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .find(|o| o["kind"] == "pdf-book")
        .expect("the book PDF");
    let line = format!(
        "{}  book-a5-test-book.pdf",
        book_pdf["sha256"].as_str().expect("sha256")
    );
    assert!(sums.lines().any(|l| l == line), "{line} not in\n{sums}");

    // Each broken variant on its own copy of the cells.
    let variant = |name: &str, edit: &dyn Fn(&std::path::Path)| {
        let d = root.join(name);
        common::copy_dir(&root.join("dist"), &d);
        edit(&d);
        d
    };
    let edit_json = |p: std::path::PathBuf, f: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("json");
        f(&mut v);
        std::fs::write(&p, serde_json::to_vec(&v).expect("json")).expect("write");
    };

    let d = variant("byte", &|d| {
        let p = d.join("book-a4/pdf/01-basics.pdf");
        let mut bytes = std::fs::read(&p).expect("read");
        let i = bytes.len() / 2;
        bytes[i] ^= 1;
        std::fs::write(&p, bytes).expect("write");
    });
    check_fails(&d, root, "a4,a5", "pdf/01-basics.pdf: sha256");
    check_fails(
        &root.join("dist"),
        root,
        "a4,a5,letter",
        "no report for the cell (book, letter)",
    );
    check_fails(&root.join("dist"), root, "a4", "is not in the matrix");
    let d = variant("warned", &|d| {
        edit_json(d.join("book-a5/report.json"), &|v| {
            v["warnings"] = serde_json::json!([{"file": "book/01-basics/01-intro.md", "line": 3, "col": 1, "message": "a warning"}]);
        })
    });
    check_fails(&d, root, "a4,a5", "1 warning(s)");
    let d = variant("pages", &|d| {
        edit_json(d.join("book-a4/report.json"), &|v| {
            if let Some(o) = v["outputs"][1].as_object_mut() {
                o.remove("pages");
            }
        })
    });
    check_fails(&d, root, "a4,a5", "no page count");
    let d = variant("lenient", &|d| {
        edit_json(d.join("book-a4/cell.json"), &|v| {
            if let Some(c) = v["command"].as_array_mut() {
                c.retain(|a| a != "--deny-warnings");
            }
        })
    });
    check_fails(&d, root, "a4,a5", "not built with --deny-warnings");
    let d = variant("extra", &|d| {
        std::fs::copy(
            d.join("book-a4/test-book.pdf"),
            d.join("book-a4/pdf/99-extra.pdf"),
        )
        .expect("copy");
    });
    check_fails(
        &d,
        root,
        "a4,a5",
        "pdf/99-extra.pdf is in the cell but not in its report",
    );

    // A book with a warning never becomes a cell: --deny-warnings fails it.
    common::write(
        &book,
        "01-basics/02-next.md",
        common::module("Next", "beginner", "Redis", "An [empty link]().").as_bytes(),
    );
    let o = cells(
        &[
            "build", "--quire", quire, "--book", "book", "--paper", "letter", "--dist", "dist",
        ],
        root,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("link has an empty target"), "{err}");
    assert!(!root.join("dist/book-letter/cell.json").exists());
    assert!(!root.join("dist/book-letter/report.json").exists());
}
