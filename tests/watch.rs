//! `quire watch`: rebuilds on save, says what it rebuilt, survives a broken
//! edit (errors shown, last good books kept) and recovers on the next save.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

struct Watch {
    child: Child,
    lines: Receiver<String>,
}

impl Watch {
    /// The next stdout line that contains `what` (panics after a minute).
    fn expect(&self, what: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) if l.contains(what) => return l,
                Ok(_) => {}
                Err(e) => panic!("no line with {what:?} from quire watch: {e}"),
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pdf_text(pdf: &std::path::Path) -> Option<String> {
    let o = Command::new("pdftotext").arg(pdf).arg("-").output().ok()?;
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn watch_rebuilds_on_save_and_survives_a_broken_edit() {
    let dir = common::fixture_copy("mini");
    let content = dir.path().join("content");
    let out = dir.path().join("output");
    let mut child = Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(["--content", content.to_str().expect("utf-8")])
        .args(["--out", out.to_str().expect("utf-8"), "watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start quire watch");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let stderr = child.stderr.take().expect("stderr");
    let (etx, erx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = etx.send(line);
        }
    });
    let watch = Watch { child, lines: rx };
    watch.expect("built in");
    let epub = out.join("mini-book.epub");
    let part = out.join("pdf/01-basics.pdf");
    let good_epub = std::fs::read(&epub).expect("first build wrote the EPUB");

    // An edit: the EPUB and the edited module's part PDF are rewritten.
    let module = content.join("01-basics/02-queues.md");
    let original = std::fs::read_to_string(&module).expect("read");
    std::fs::write(&module, format!("{original}\nWatchword zebracorn.\n")).expect("write");
    let line = watch.expect("rebuilt in");
    assert!(line.contains("02-queues.md changed"), "{line}");
    assert!(line.contains("mini-book.epub"), "{line}");
    assert!(line.contains("01-basics.pdf"), "{line}");
    // Only the edited part is typeset and exported again; the EPUB and the
    // part PDFs are written before the whole book.
    assert!(line.contains("EPUB and part PDFs fresh after"), "{line}");
    assert!(
        line.contains("(1 unchanged)") && !line.contains("02-advanced.pdf"),
        "{line}"
    );
    let edited_epub = std::fs::read(&epub).expect("epub");
    assert_ne!(edited_epub, good_epub);
    if let Some(text) = pdf_text(&part) {
        assert!(text.contains("zebracorn"), "part PDF not rebuilt");
    } else {
        common::missing_tool("pdftotext");
    }

    // A broken edit: an error naming the file, the last good books stay.
    let before = common::snapshot(&out);
    std::fs::write(&module, "---\ntitle: [unclosed\n---\nBody.\n").expect("write");
    let line = watch.expect("build failed");
    assert!(line.contains("last good books are kept"), "{line}");
    let mut errors = Vec::new();
    while let Ok(l) = erx.recv_timeout(Duration::from_secs(10)) {
        let found = l.contains("02-queues.md") && l.contains("error");
        errors.push(l);
        if found {
            break;
        }
    }
    assert!(
        errors
            .iter()
            .any(|l| l.contains("02-queues.md") && l.contains("error")),
        "{errors:?}"
    );
    assert_eq!(
        common::snapshot(&out),
        before,
        "a failed rebuild touched output/"
    );

    // The next good save recovers.
    std::fs::write(&module, format!("{original}\nWatchword unicorn.\n")).expect("write");
    watch.expect("rebuilt in");
    if let Some(text) = pdf_text(&part) {
        assert!(text.contains("unicorn") && !text.contains("zebracorn"));
    }
}
