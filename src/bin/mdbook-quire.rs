//! `mdbook-quire`: the mdBook backend. mdBook runs it for `[output.quire]`
//! with the `RenderContext` JSON on stdin; it writes the EPUB and PDFs into
//! the destination mdBook gives. The work is in `quire::mdbook_backend`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use quire::Error;
use quire::mdbook_backend::{read_context, relative_to, render, version_note};

quire::allocator!();

const USAGE: &str = "mdbook-quire: Quire's EPUB and PDFs as an mdBook backend.
Add to book.toml:

    [output.quire]
    # optional: formats = [\"epub\", \"pdf\"], paper = \"a5\", open = \"right\", ...

then run `mdbook build`: the books are written to book/quire/ (book/ when
[output.quire] is the only output). mdBook sends the book on stdin.";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("--version" | "-V") => {
            println!("mdbook-quire {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("mdbook-quire: unexpected argument '{other}'\n\n{USAGE}");
            return ExitCode::from(2);
        }
        None => {}
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let mut err = std::io::stderr().lock();
    let ctx = match read_context(stdin.lock()) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "mdbook-quire: error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    if let Some(note) = version_note(&ctx) {
        let _ = writeln!(err, "mdbook-quire: warning: {note}");
    }
    // The environment is read here, at the edge: the library reads none.
    let sde = std::env::var("SOURCE_DATE_EPOCH").ok();
    let sde = match quire::time::source_date_epoch(sde.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "mdbook-quire: error: {e}");
            return ExitCode::from(2);
        }
    };
    match render(&ctx, sde) {
        Ok((report, warnings)) => {
            for w in warnings {
                let _ = writeln!(err, "{}", relative_to(w, &ctx.root));
            }
            for o in &report.outputs {
                let shown = o.path.strip_prefix(&ctx.root).unwrap_or(&o.path);
                let pages = o.pages.map(|p| format!(", {p} pages")).unwrap_or_default();
                let _ = writeln!(err, "mdbook-quire: wrote {}{pages}", shown.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if let Error::Content(diags) = &e {
                for d in diags {
                    let _ = writeln!(err, "{}", relative_to(d.clone(), &ctx.root));
                }
            }
            let _ = writeln!(err, "mdbook-quire: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
