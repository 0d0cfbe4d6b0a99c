//! Shell completions and the man page come from the clap definitions, so they
//! know every subcommand and option.

mod common;

fn stdout(args: &[&str]) -> String {
    let o = common::quire(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn completions_know_every_subcommand_and_option() {
    let bash = stdout(&["completions", "bash"]);
    for word in [
        "build",
        "booklet",
        "init",
        "check",
        "--paper",
        "--deny-warnings",
        "6x9",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    // The script is valid bash.
    let o = std::process::Command::new("bash")
        .args(["-n", "-c", &bash])
        .output()
        .expect("bash");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&["completions", "zsh"]).contains("#compdef quire"));
    assert!(stdout(&["completions", "fish"]).contains("complete -c quire"));
    let bad = common::quire(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_page_lists_the_commands() {
    let man = stdout(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH quire"),
        "{}",
        &man[..200.min(man.len())]
    );
    for word in ["build", "booklet", "init", "completions", "Exit codes"] {
        assert!(man.contains(word), "man page lacks {word}");
    }
}
