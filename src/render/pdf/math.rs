//! TeX math (as written in Markdown) → Typst math. Covers the commands a
//! technical book uses; anything else returns `None` and the caller shows the
//! TeX source instead of failing the build.

/// Converts TeX to the inside of a Typst `$…$`.
pub fn tex_to_typst(tex: &str) -> Option<String> {
    let tokens = tokenize(tex);
    let mut p = Parser { t: &tokens, i: 0 };
    let out = p.seq(None)?;
    (p.i == tokens.len()).then_some(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Cmd(String),
    Open,
    Close,
    Sup,
    Sub,
    Char(char),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                let mut name = String::new();
                while let Some(&n) = it.peek() {
                    if n.is_ascii_alphabetic() {
                        name.push(n);
                        it.next();
                    } else {
                        break;
                    }
                }
                if name.is_empty()
                    && let Some(n) = it.next()
                {
                    name.push(n);
                }
                out.push(Tok::Cmd(name));
            }
            '{' => out.push(Tok::Open),
            '}' => out.push(Tok::Close),
            '^' => out.push(Tok::Sup),
            '_' => out.push(Tok::Sub),
            c => out.push(Tok::Char(c)),
        }
    }
    out
}

struct Parser<'a> {
    t: &'a [Tok],
    i: usize,
}

fn symbol(cmd: &str) -> Option<&'static str> {
    Some(match cmd {
        "alpha" => "alpha",
        "beta" => "beta",
        "gamma" => "gamma",
        "delta" => "delta",
        "epsilon" => "epsilon.alt",
        "varepsilon" => "epsilon",
        "zeta" => "zeta",
        "eta" => "eta",
        "theta" => "theta",
        "iota" => "iota",
        "kappa" => "kappa",
        "lambda" => "lambda",
        "mu" => "mu",
        "nu" => "nu",
        "xi" => "xi",
        "pi" => "pi",
        "rho" => "rho",
        "sigma" => "sigma",
        "tau" => "tau",
        "phi" => "phi.alt",
        "varphi" => "phi",
        "chi" => "chi",
        "psi" => "psi",
        "omega" => "omega",
        "Gamma" => "Gamma",
        "Delta" => "Delta",
        "Theta" => "Theta",
        "Lambda" => "Lambda",
        "Pi" => "Pi",
        "Sigma" => "Sigma",
        "Phi" => "Phi",
        "Psi" => "Psi",
        "Omega" => "Omega",
        "cdot" => "dot.op",
        "times" => "times",
        "div" => "div",
        "pm" => "plus.minus",
        "le" | "leq" => "<=",
        "ge" | "geq" => ">=",
        "ne" | "neq" => "!=",
        "approx" => "approx",
        "sim" => "tilde.op",
        "equiv" => "equiv",
        "propto" => "prop",
        "ll" => "<<",
        "gg" => ">>",
        "in" => "in",
        "notin" => "in.not",
        "subset" => "subset",
        "subseteq" => "subset.eq",
        "emptyset" => "emptyset",
        "infty" => "infinity",
        "to" | "rightarrow" => "->",
        "leftarrow" => "<-",
        "Rightarrow" => "=>",
        "Leftrightarrow" => "<=>",
        "mapsto" => "|->",
        "sum" => "sum",
        "prod" => "product",
        "int" => "integral",
        "partial" => "diff",
        "nabla" => "nabla",
        "forall" => "forall",
        "exists" => "exists",
        "neg" => "not",
        "land" | "wedge" => "and",
        "lor" | "vee" => "or",
        "ldots" | "dots" => "...",
        "cdots" => "dots.c",
        "vdots" => "dots.v",
        "lfloor" => "floor.l",
        "rfloor" => "floor.r",
        "lceil" => "ceil.l",
        "rceil" => "ceil.r",
        "mid" => "divides",
        "log" => "log",
        "ln" => "ln",
        "exp" => "exp",
        "min" => "min",
        "max" => "max",
        "lim" => "lim",
        "sin" => "sin",
        "cos" => "cos",
        "tan" => "tan",
        "det" => "det",
        "arg" => "arg",
        "Pr" => "Pr",
        "gcd" => "gcd",
        "deg" => "deg",
        "{" => "brace.l",
        "}" => "brace.r",
        "%" => "%",
        "$" => "\\$",
        "#" => "\\#",
        "&" => "\\&",
        "_" => "\\_",
        "," => "thin",
        ";" => "med",
        ":" => "med",
        "!" => "",
        " " => "space",
        "quad" => "quad",
        "qquad" => "wide",
        "|" => "||",
        _ => return None,
    })
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    /// A sequence until `end` (a closing brace, or the end of input).
    fn seq(&mut self, end: Option<Tok>) -> Option<String> {
        let mut out = String::new();
        while let Some(tok) = self.peek().cloned() {
            if Some(&tok) == end.as_ref() {
                break;
            }
            if tok == Tok::Close {
                return None;
            }
            let piece = self.atom()?;
            push_piece(&mut out, &piece);
        }
        Some(out)
    }

    /// One argument: a braced group or a single token.
    fn arg(&mut self) -> Option<String> {
        match self.peek()? {
            Tok::Open => {
                self.i += 1;
                let s = self.seq(Some(Tok::Close))?;
                (self.peek() == Some(&Tok::Close)).then_some(())?;
                self.i += 1;
                Some(s)
            }
            _ => self.atom(),
        }
    }

    /// The raw text of a braced argument (for \text and friends).
    fn raw_arg(&mut self) -> Option<String> {
        (self.peek()? == &Tok::Open).then_some(())?;
        self.i += 1;
        let mut s = String::new();
        let mut depth = 0;
        loop {
            match self.t.get(self.i)? {
                Tok::Open => depth += 1,
                Tok::Close if depth == 0 => {
                    self.i += 1;
                    return Some(s);
                }
                Tok::Close => depth -= 1,
                Tok::Cmd(c) => {
                    s.push('\\');
                    s.push_str(c);
                }
                Tok::Char(c) => s.push(*c),
                Tok::Sup => s.push('^'),
                Tok::Sub => s.push('_'),
            }
            self.i += 1;
        }
    }

    fn atom(&mut self) -> Option<String> {
        let tok = self.peek()?.clone();
        self.i += 1;
        Some(match tok {
            Tok::Open => {
                let s = self.seq(Some(Tok::Close))?;
                (self.peek() == Some(&Tok::Close)).then_some(())?;
                self.i += 1;
                format!("({s})")
            }
            Tok::Close => return None,
            Tok::Sup => format!("^({})", self.arg()?),
            Tok::Sub => format!("_({})", self.arg()?),
            Tok::Char(c) => match c {
                c if c.is_ascii_alphabetic() => c.to_string(),
                c if c.is_ascii_digit() => c.to_string(),
                ' ' | '\n' | '\t' => String::new(),
                '~' => "space".into(),
                '+' | '-' | '=' | '<' | '>' | '(' | ')' | '[' | ']' | ',' | '.' | '!' | '\''
                | '|' | ':' | ';' | '?' => c.to_string(),
                '/' => "\\/".into(),
                '*' => "\\*".into(),
                '"' => "\\\"".into(),
                '#' | '$' | '&' | '@' | '`' | '\\' => format!("\\{c}"),
                c if !c.is_ascii() => format!("\"{c}\""),
                _ => return None,
            },
            Tok::Cmd(cmd) => match cmd.as_str() {
                "frac" | "dfrac" | "tfrac" => {
                    let a = self.arg()?;
                    let b = self.arg()?;
                    format!("frac({a}, {b})")
                }
                "sqrt" => {
                    if self.peek() == Some(&Tok::Char('[')) {
                        self.i += 1;
                        let mut n = String::new();
                        while let Some(t) = self.peek().cloned() {
                            self.i += 1;
                            match t {
                                Tok::Char(']') => break,
                                Tok::Char(c) => n.push(c),
                                _ => return None,
                            }
                        }
                        let a = self.arg()?;
                        format!("root({n}, {a})")
                    } else {
                        format!("sqrt({})", self.arg()?)
                    }
                }
                "text" | "textrm" | "mbox" | "textit" | "textbf" => {
                    format!("\"{}\"", escape_str(&self.raw_arg()?))
                }
                "mathrm" | "operatorname" => {
                    format!("upright(\"{}\")", escape_str(&self.raw_arg()?))
                }
                "mathbf" | "boldsymbol" => format!("bold({})", self.arg()?),
                "mathit" => format!("italic({})", self.arg()?),
                "mathcal" => format!("cal({})", self.arg()?),
                "mathbb" => format!("bb({})", self.arg()?),
                "hat" => format!("hat({})", self.arg()?),
                "bar" | "overline" => format!("overline({})", self.arg()?),
                "tilde" => format!("tilde({})", self.arg()?),
                "vec" => format!("arrow({})", self.arg()?),
                "left" | "right" | "big" | "Big" | "bigl" | "bigr" => {
                    // Delimiter sizing: Typst sizes delimiters itself.
                    match self.peek() {
                        Some(Tok::Char('.')) => {
                            self.i += 1;
                            String::new()
                        }
                        _ => String::new(),
                    }
                }
                "displaystyle" | "textstyle" | "limits" | "nolimits" => String::new(),
                other => symbol(other)?.to_string(),
            },
        })
    }
}

/// Appends a piece, keeping adjacent letters apart (`ab` in TeX is a times b,
/// in Typst an unknown variable `ab`) and attachments glued to their base.
fn push_piece(out: &mut String, piece: &str) {
    if piece.is_empty() {
        return;
    }
    let starts_attach = piece.starts_with('^') || piece.starts_with('_');
    let last = out.chars().last();
    let first = piece.chars().next();
    let wordy_end =
        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '"' || c == ')');
    let wordy_start = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '"');
    let digits = last.is_some_and(|c| c.is_ascii_digit())
        && first.is_some_and(|c| c.is_ascii_digit() || c == '.');
    let decimal = last == Some('.') && first.is_some_and(|c| c.is_ascii_digit());
    if !starts_attach && !digits && !decimal && wordy_end(last) && wordy_start(first) {
        out.push(' ');
    }
    out.push_str(piece);
}

fn escape_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_common_tex() {
        assert_eq!(tex_to_typst(r"\frac{a}{b}").unwrap(), "frac(a, b)");
        assert_eq!(tex_to_typst(r"T_{avg}").unwrap(), "T_(a v g)");
        assert_eq!(tex_to_typst(r"x^2 \le y").unwrap(), "x^(2)<=y");
        assert_eq!(tex_to_typst(r"\text{QPS} = 10").unwrap(), "\"QPS\"=10");
        assert_eq!(tex_to_typst(r"O(n \log n)").unwrap(), "O(n log n)");
        assert_eq!(
            tex_to_typst(r"\lfloor n/2 \rfloor + 1").unwrap(),
            "floor.l n\\/2 floor.r+1"
        );
        assert!(tex_to_typst(r"\unknowncommand x").is_none());
        assert!(tex_to_typst(r"\frac{a}{").is_none());
    }
}
