//! mdBook's MathJax math (`[output.html] mathjax-support = true`) as Quire's
//! `$…$` and `$$…$$`. In mdBook's Markdown, inline math is `\\( … \\)` and
//! display math `\\[ … \\]` (the doubled backslash survives Markdown as one),
//! and MathJax reads the text after Markdown unescaped it; so the formula is
//! unescaped here the same way (`\\{` → `\{`, `\_` → `_`). Code blocks and
//! code spans are left alone, and so is a formula that holds a `$` (no `$…$`
//! can say it). Lines are kept: diagnostics still point at the right line.

/// Rewrites mdBook's MathJax delimiters in `body` to `$` and `$$`.
pub fn to_dollars(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    // A paragraph-like run of prose lines: math may span lines, not paragraphs.
    let mut chunk = String::new();
    let mut fence: Option<(char, usize)> = None;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map_or(0, |m| trimmed.chars().take_while(|c| *c == m).count());
        match fence {
            Some((m, n)) => {
                out.push_str(line);
                let closes =
                    marker == Some(m) && run >= n && indent < 4 && trimmed[run..].trim().is_empty();
                if closes {
                    fence = None;
                }
            }
            None if run >= 3 && indent < 4 => {
                out.push_str(&convert(&std::mem::take(&mut chunk)));
                out.push_str(line);
                fence = marker.map(|m| (m, run));
            }
            None if line.trim().is_empty() => {
                out.push_str(&convert(&std::mem::take(&mut chunk)));
                out.push_str(line);
            }
            None => chunk.push_str(line),
        }
    }
    out.push_str(&convert(&chunk));
    out
}

/// One run of prose lines: code spans skipped, delimiters paired.
fn convert(text: &str) -> String {
    if !text.contains("\\\\(") && !text.contains("\\\\[") {
        return text.to_string();
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            // A code span runs to the next backtick run of the same length.
            let n = b[i..].iter().take_while(|c| **c == b'`').count();
            let ticks = &text[i..i + n];
            let mut j = i + n;
            let mut end = None;
            while let Some(k) = text[j..].find(ticks) {
                let at = j + k;
                let m = b[at..].iter().take_while(|c| **c == b'`').count();
                if m == n {
                    end = Some(at + n);
                    break;
                }
                j = at + m;
            }
            i = end.unwrap_or(i + n);
            continue;
        }
        let open = &text[i..];
        let pair = if open.starts_with("\\\\(") {
            Some(("\\\\)", "$"))
        } else if open.starts_with("\\\\[") {
            Some(("\\\\]", "$$"))
        } else {
            None
        };
        if let Some((close, dollars)) = pair
            && let Some(k) = text[i + 3..].find(close)
        {
            let inner = &text[i + 3..i + 3 + k];
            if !inner.contains('$') && !inner.trim().is_empty() && !inner.contains('`') {
                out.push_str(&text[done..i]);
                out.push_str(dollars);
                let tex = unescape(inner);
                out.push_str(if dollars == "$" { tex.trim() } else { &tex });
                out.push_str(dollars);
                i += 3 + k + 3;
                done = i;
                continue;
            }
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out.push_str(&text[done..]);
    out
}

/// Markdown's backslash escapes undone: `\` before ASCII punctuation goes.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && n.is_ascii_punctuation()
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Event, Parser};

    fn math_events(md: &str) -> Vec<String> {
        Parser::new_ext(md, crate::parse::markdown::options())
            .filter_map(|e| match e {
                Event::InlineMath(m) => Some(format!("inline {m}")),
                Event::DisplayMath(m) => Some(format!("display {m}")),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn inline_and_display_math_become_dollars() {
        let md = "Integrate \\\\( \\int x dx = \\frac{x^2}{2} + C \\\\) now.\n\n\\\\[ \\mu = \\frac{1}{N} \\sum_{i=0} x_i \\\\]\n";
        let out = to_dollars(md);
        assert_eq!(
            out,
            "Integrate $\\int x dx = \\frac{x^2}{2} + C$ now.\n\n$$ \\mu = \\frac{1}{N} \\sum_{i=0} x_i $$\n"
        );
        assert_eq!(
            math_events(&out),
            vec![
                "inline \\int x dx = \\frac{x^2}{2} + C",
                "display  \\mu = \\frac{1}{N} \\sum_{i=0} x_i "
            ]
        );
    }

    #[test]
    fn markdown_escapes_in_the_formula_are_undone() {
        assert_eq!(
            to_dollars("\\\\( \\\\{ x \\_1 \\\\} \\\\\\\\ y \\\\)"),
            "$\\{ x _1 \\} \\\\ y$"
        );
    }

    #[test]
    fn code_is_left_alone_and_lines_are_kept() {
        let md = "Write `\\\\( x \\\\)` for math.\n\n```\n\\\\( x \\\\)\n```\n\n    \n~~~~md\n\\\\[ y \\\\]\n~~~~\nA \\\\[\nx + 1\n\\\\] b\n";
        let out = to_dollars(md);
        assert_eq!(
            out,
            "Write `\\\\( x \\\\)` for math.\n\n```\n\\\\( x \\\\)\n```\n\n    \n~~~~md\n\\\\[ y \\\\]\n~~~~\nA $$\nx + 1\n$$ b\n"
        );
        assert_eq!(out.lines().count(), md.lines().count());
    }

    #[test]
    fn unpaired_across_paragraphs_or_with_dollars_stays() {
        for md in [
            "Open \\\\( here\n\nclosed \\\\) there\n",
            "Price \\\\( $5 \\\\)\n",
            "Empty \\\\(  \\\\)\n",
        ] {
            assert_eq!(to_dollars(md), md);
        }
    }
}
