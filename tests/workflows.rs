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

#[test]
fn book_release_downloads_quire_when_a_version_is_set() {
    let w = workflow("release-workflow.yml");
    let steps = w["jobs"]
        .as_object()
        .expect("jobs")
        .values()
        .flat_map(|j| j["steps"].as_array().cloned().unwrap_or_default())
        .collect::<Vec<_>>();
    let named = |n: &str| steps.iter().find(|s| s["name"] == n).cloned();
    let download = named("Download Quire").expect("a download step");
    assert!(
        download["if"]
            .as_str()
            .unwrap_or("")
            .contains("vars.QUIRE_VERSION != ''")
    );
    let script = download["run"].as_str().expect("run");
    assert!(script.contains("sha256sum --check"), "{script}");
    let build = named("Build Quire").expect("a build step");
    assert!(
        build["if"]
            .as_str()
            .unwrap_or("")
            .contains("vars.QUIRE_VERSION == ''")
    );
    assert!(named("Build the books").is_some());
    assert_bash_parses(&w, "release-workflow.yml");
}
