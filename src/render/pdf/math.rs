//! TeX math (as written in Markdown) → Typst math. Covers the commands a
//! technical book uses; anything else returns `None` and the caller shows the
//! TeX source instead of failing the build.

use std::fmt::Write as _;

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

/// TeX commands that are one Typst symbol (or shorthand, or spacing).
const SYMBOLS: &[(&str, &str)] = &[
    ("alpha", "alpha"),
    ("beta", "beta"),
    ("gamma", "gamma"),
    ("delta", "delta"),
    ("epsilon", "epsilon.alt"),
    ("varepsilon", "epsilon"),
    ("zeta", "zeta"),
    ("eta", "eta"),
    ("theta", "theta"),
    ("iota", "iota"),
    ("kappa", "kappa"),
    ("lambda", "lambda"),
    ("mu", "mu"),
    ("nu", "nu"),
    ("xi", "xi"),
    ("pi", "pi"),
    ("rho", "rho"),
    ("sigma", "sigma"),
    ("tau", "tau"),
    ("phi", "phi.alt"),
    ("varphi", "phi"),
    ("chi", "chi"),
    ("psi", "psi"),
    ("omega", "omega"),
    ("Gamma", "Gamma"),
    ("Delta", "Delta"),
    ("Theta", "Theta"),
    ("Lambda", "Lambda"),
    ("Pi", "Pi"),
    ("Sigma", "Sigma"),
    ("Phi", "Phi"),
    ("Psi", "Psi"),
    ("Omega", "Omega"),
    ("cdot", "dot.op"),
    ("times", "times"),
    ("div", "div"),
    ("pm", "plus.minus"),
    ("le", "<="),
    ("leq", "<="),
    ("ge", ">="),
    ("geq", ">="),
    ("ne", "!="),
    ("neq", "!="),
    ("approx", "approx"),
    ("sim", "tilde.op"),
    ("equiv", "equiv"),
    ("propto", "prop"),
    ("ll", "<<"),
    ("gg", ">>"),
    ("in", "in"),
    ("notin", "in.not"),
    ("subset", "subset"),
    ("subseteq", "subset.eq"),
    ("emptyset", "emptyset"),
    ("infty", "infinity"),
    ("to", "->"),
    ("rightarrow", "->"),
    ("leftarrow", "<-"),
    ("Rightarrow", "=>"),
    ("Leftrightarrow", "<=>"),
    ("mapsto", "|->"),
    ("sum", "sum"),
    ("prod", "product"),
    ("int", "integral"),
    ("partial", "partial"),
    ("nabla", "nabla"),
    ("forall", "forall"),
    ("exists", "exists"),
    ("neg", "not"),
    ("land", "and"),
    ("wedge", "and"),
    ("lor", "or"),
    ("vee", "or"),
    ("ldots", "..."),
    ("dots", "..."),
    ("cdots", "dots.c"),
    ("vdots", "dots.v"),
    ("lfloor", "floor.l"),
    ("rfloor", "floor.r"),
    ("lceil", "ceil.l"),
    ("rceil", "ceil.r"),
    ("mid", "divides"),
    ("log", "log"),
    ("ln", "ln"),
    ("exp", "exp"),
    ("min", "min"),
    ("max", "max"),
    ("lim", "lim"),
    ("sin", "sin"),
    ("cos", "cos"),
    ("tan", "tan"),
    ("det", "det"),
    ("arg", "arg"),
    ("Pr", "Pr"),
    ("gcd", "gcd"),
    ("deg", "deg"),
    ("{", "brace.l"),
    ("}", "brace.r"),
    ("%", "%"),
    ("$", "\\$"),
    ("#", "\\#"),
    ("&", "\\&"),
    ("_", "\\_"),
    (",", "thin"),
    (";", "thick"),
    (":", "med"),
    ("!", ""),
    (" ", "space"),
    ("quad", "quad"),
    ("qquad", "wide"),
    ("|", "||"),
    // Less common letters, operators, relations and arrows.
    ("vartheta", "theta.alt"),
    ("varrho", "rho.alt"),
    ("varsigma", "sigma.alt"),
    ("varpi", "pi.alt"),
    ("varkappa", "kappa.alt"),
    ("upsilon", "upsilon"),
    ("omicron", "omicron"),
    ("Upsilon", "Upsilon"),
    ("Xi", "Xi"),
    ("ell", "ell"),
    ("hbar", "planck"),
    ("aleph", "aleph"),
    ("Re", "Re"),
    ("Im", "Im"),
    ("wp", "pee"),
    ("ast", "ast.op"),
    ("star", "star.op"),
    ("circ", "compose"),
    ("bullet", "bullet"),
    ("oplus", "plus.o"),
    ("ominus", "minus.o"),
    ("otimes", "times.o"),
    ("odot", "dot.o"),
    ("mp", "minus.plus"),
    ("cap", "inter"),
    ("cup", "union"),
    ("bigcap", "inter.big"),
    ("bigcup", "union.big"),
    ("bigoplus", "plus.o.big"),
    ("bigotimes", "times.o.big"),
    ("bigwedge", "and.big"),
    ("bigvee", "or.big"),
    ("coprod", "product.co"),
    ("iint", "integral.double"),
    ("iiint", "integral.triple"),
    ("oint", "integral.cont"),
    ("setminus", "without"),
    ("smallsetminus", "without"),
    ("supset", "supset"),
    ("supseteq", "supset.eq"),
    ("subsetneq", "subset.neq"),
    ("supsetneq", "supset.neq"),
    ("varnothing", "emptyset"),
    ("nexists", "exists.not"),
    ("lnot", "not"),
    ("top", "top"),
    ("bot", "bot"),
    ("perp", "perp"),
    ("parallel", "parallel"),
    ("angle", "angle"),
    ("triangle", "triangle.t"),
    ("square", "square"),
    ("Box", "square"),
    ("cong", "tilde.equiv"),
    ("simeq", "tilde.eq"),
    ("approxeq", "approx.eq"),
    ("doteq", "eq.dot"),
    ("leqslant", "lt.eq.slant"),
    ("leqq", "lt.eq.slant"),
    ("geqslant", "gt.eq.slant"),
    ("geqq", "gt.eq.slant"),
    ("lesssim", "lt.tilde"),
    ("gtrsim", "gt.tilde"),
    ("nleq", "lt.eq.not"),
    ("ngeq", "gt.eq.not"),
    ("prec", "prec"),
    ("succ", "succ"),
    ("preceq", "prec.eq"),
    ("succeq", "succ.eq"),
    ("models", "models"),
    ("vdash", "tack.r"),
    ("dashv", "tack.l"),
    ("implies", "==>"),
    ("Longrightarrow", "==>"),
    ("impliedby", "<=="),
    ("Longleftarrow", "<=="),
    ("iff", "<==>"),
    ("Longleftrightarrow", "<==>"),
    ("Leftarrow", "arrow.l.double"),
    ("leftrightarrow", "<->"),
    ("longrightarrow", "-->"),
    ("longleftarrow", "<--"),
    ("longmapsto", "|-->"),
    ("gets", "<-"),
    ("uparrow", "arrow.t"),
    ("downarrow", "arrow.b"),
    ("Uparrow", "arrow.t.double"),
    ("Downarrow", "arrow.b.double"),
    ("updownarrow", "arrow.t.b"),
    ("nearrow", "arrow.tr"),
    ("searrow", "arrow.br"),
    ("hookrightarrow", "arrow.r.hook"),
    ("rightleftharpoons", "harpoons.rtlb"),
    ("leadsto", "arrow.r.squiggly"),
    ("rightsquigarrow", "arrow.r.squiggly"),
    ("therefore", "therefore"),
    ("because", "because"),
    ("prime", "prime"),
    ("dagger", "dagger"),
    ("ddagger", "dagger.double"),
    ("checkmark", "checkmark"),
    ("degree", "degree"),
    ("ddots", "dots.down"),
    ("dotsc", "dots.c"),
    ("dotsb", "dots.c"),
    ("dotsm", "dots.c"),
    ("dotso", "..."),
    ("dotsi", "..."),
    ("cdotp", "dot.c"),
    ("colon", "colon"),
    ("langle", "chevron.l"),
    ("rangle", "chevron.r"),
    ("lvert", "|"),
    ("rvert", "|"),
    ("vert", "|"),
    ("lVert", "||"),
    ("rVert", "||"),
    ("Vert", "||"),
    ("lbrace", "brace.l"),
    ("rbrace", "brace.r"),
    ("lbrack", "bracket.l"),
    ("rbrack", "bracket.r"),
    ("backslash", "backslash"),
    ("bmod", "mod"),
    ("mod", "mod"),
    ("sec", "sec"),
    ("csc", "csc"),
    ("cot", "cot"),
    ("sinh", "sinh"),
    ("cosh", "cosh"),
    ("tanh", "tanh"),
    ("coth", "coth"),
    ("arcsin", "arcsin"),
    ("arccos", "arccos"),
    ("arctan", "arctan"),
    ("inf", "inf"),
    ("sup", "sup"),
    ("liminf", "liminf"),
    ("limsup", "limsup"),
    ("dim", "dim"),
    ("ker", "ker"),
    ("hom", "hom"),
    ("lg", "lg"),
    ("enspace", "space.en"),
    ("thinspace", "thin"),
    (">", "med"),
];

fn symbol(cmd: &str) -> Option<&'static str> {
    SYMBOLS
        .iter()
        .find(|(tex, _)| *tex == cmd)
        .map(|(_, typst)| *typst)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    /// A sequence until `end` (a closing brace, or the end of input).
    fn seq(&mut self, end: Option<Tok>) -> Option<String> {
        self.seq_until(|t| Some(t) == end.as_ref())
    }

    /// A sequence until a token `stop` accepts (not consumed), or the end of
    /// input. A stray closing brace, `&` or `\\` outside its construct fails.
    fn seq_until(&mut self, stop: impl Fn(&Tok) -> bool) -> Option<String> {
        let mut out = String::new();
        while let Some(tok) = self.peek().cloned() {
            if stop(&tok) {
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

    /// An argument of a Typst function call (`frac(…, …)`): its own commas
    /// and semicolons escaped, or they would split it.
    fn farg(&mut self) -> Option<String> {
        Some(escape_args(&self.arg()?))
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

    /// A braced argument in text mode (`\text{…}`): braces dropped, TeX's
    /// escapes (`\%`, `\&`, `\_`, `\$`, `\{`, `\ `, `\,`) as the characters
    /// they print, text commands (`\textbf{…}`) as their text.
    fn text_arg(&mut self) -> Option<String> {
        let raw = self.raw_arg()?;
        Some(text_mode(&raw))
    }

    /// A Typst string of text-mode content (`\text`, `\mathrm`…), or `None`
    /// when it holds math (`\mathrm{x_1}`), to be converted instead.
    fn text_like(&mut self) -> Option<Result<String, String>> {
        let save = self.i;
        let raw = self.raw_arg()?;
        if raw.contains(['^', '_']) || has_math_cmd(&raw) {
            self.i = save;
            return Some(Err(self.farg()?));
        }
        Some(Ok(format!("\"{}\"", escape_str(&text_mode(&raw)))))
    }

    /// A delimiter after `\left`, `\right`, `\big`…: `None` for `.` (none).
    fn delimiter(&mut self) -> Option<Option<String>> {
        match self.peek()? {
            Tok::Char('.') => {
                self.i += 1;
                Some(None)
            }
            Tok::Char('<') => {
                self.i += 1;
                Some(Some("chevron.l".into()))
            }
            Tok::Char('>') => {
                self.i += 1;
                Some(Some("chevron.r".into()))
            }
            Tok::Char('(' | ')' | '[' | ']' | '|' | '/') | Tok::Cmd(_) => self.atom().map(Some),
            _ => None,
        }
    }

    /// `\left X … \right Y` as `lr(X … Y)`: Typst sizes the pair to what
    /// they enclose (`\middle |` too).
    fn left_right(&mut self) -> Option<String> {
        let open = self.delimiter()?;
        let right = Tok::Cmd("right".into());
        let mut body = String::new();
        loop {
            let part = self.seq_until(|t| *t == right || *t == Tok::Cmd("middle".into()))?;
            push_piece(&mut body, &part);
            match self.peek()? {
                Tok::Cmd(c) if c == "middle" => {
                    self.i += 1;
                    if let Some(d) = self.delimiter()? {
                        push_piece(&mut body, &format!("mid({d})"));
                    }
                }
                _ => break,
            }
        }
        self.i += 1; // \right
        let close = self.delimiter()?;
        let mut inner = String::new();
        for piece in [
            open.as_deref().unwrap_or(""),
            &body,
            close.as_deref().unwrap_or(""),
        ] {
            push_piece(&mut inner, piece);
        }
        Some(match (open, close) {
            (None, None) => body,
            _ => format!("lr({})", escape_args(&inner)),
        })
    }

    /// Attachments after a base that Typst would not take as one (a group,
    /// `\overbrace{…}`): `attach(base, t: …, b: …)`, or the base alone.
    fn attached(&mut self, base: String) -> Option<String> {
        let (mut t, mut b) = (None, None);
        loop {
            match self.peek() {
                Some(Tok::Sup) if t.is_none() => {
                    self.i += 1;
                    t = Some(self.farg()?);
                }
                Some(Tok::Sub) if b.is_none() => {
                    self.i += 1;
                    b = Some(self.farg()?);
                }
                _ => break,
            }
        }
        if t.is_none() && b.is_none() {
            return Some(base);
        }
        let base = if base.is_empty() {
            "\"\"".to_string()
        } else {
            escape_args(&base)
        };
        let mut out = format!("attach({base}");
        if let Some(b) = b {
            let _ = write!(out, ", b: {b}");
        }
        if let Some(t) = t {
            let _ = write!(out, ", t: {t}");
        }
        out.push(')');
        Some(out)
    }

    /// `\begin{env} … \end{env}`: matrices, cases and aligned equations.
    fn environment(&mut self) -> Option<String> {
        let name = self.raw_arg()?;
        let env = name.trim_end_matches('*');
        if env == "array" {
            self.raw_arg()?; // column spec: Typst aligns the cells itself
        }
        let mut rows: Vec<Vec<String>> = vec![Vec::new()];
        loop {
            let cell = self.seq_until(|t| is_cell_end(t) || *t == Tok::Cmd("end".into()))?;
            let row = rows.last_mut()?;
            row.push(cell);
            match self.peek()? {
                Tok::Char('&') => self.i += 1,
                Tok::Cmd(c) if c == "\\" => {
                    self.i += 1;
                    rows.push(Vec::new());
                }
                _ => break,
            }
        }
        self.i += 1; // \end
        (self.raw_arg()? == name).then_some(())?;
        // A trailing `\\` leaves an empty last row.
        if rows.len() > 1 && rows.last().is_some_and(|r| r.iter().all(String::is_empty)) {
            rows.pop();
        }
        let cells = |sep: &str| {
            rows.iter()
                .map(|r| {
                    r.iter()
                        .map(|c| escape_args(c))
                        .collect::<Vec<_>>()
                        .join(sep)
                })
                .collect::<Vec<_>>()
        };
        Some(match env {
            "matrix" | "pmatrix" | "bmatrix" | "Bmatrix" | "vmatrix" | "Vmatrix"
            | "smallmatrix" | "array" => {
                let delim = match env {
                    "pmatrix" => "\"(\"",
                    "bmatrix" => "\"[\"",
                    "Bmatrix" => "\"{\"",
                    "vmatrix" => "\"|\"",
                    "Vmatrix" => "bar.v.double",
                    _ => "#none",
                };
                format!("mat(delim: {delim}, {})", cells(", ").join("; "))
            }
            "cases" => format!("cases({})", cells(" &").join(", ")),
            "aligned" | "align" | "split" | "gathered" | "gather" | "eqnarray" | "alignat"
            | "multline" => rows
                .iter()
                .map(|r| r.join(" &").trim().to_string())
                .collect::<Vec<_>>()
                .join(" \\ "),
            _ => return None,
        })
    }

    fn atom(&mut self) -> Option<String> {
        let tok = self.peek()?.clone();
        self.i += 1;
        Some(match tok {
            Tok::Open => {
                // A TeX group is one ordinary atom, never parentheses:
                // `7{,}000` is seven thousand, a comma with no space after.
                let s = self.seq(Some(Tok::Close))?;
                (self.peek() == Some(&Tok::Close)).then_some(())?;
                self.i += 1;
                let s = ordinary(&s);
                if matches!(self.peek(), Some(Tok::Sup | Tok::Sub)) && !is_single(&s) {
                    return self.attached(s);
                }
                s
            }
            Tok::Close => return None,
            Tok::Sup => format!("^({})", self.arg()?),
            Tok::Sub => format!("_({})", self.arg()?),
            Tok::Char(c) => match c {
                c if c.is_ascii_alphabetic() => c.to_string(),
                c if c.is_ascii_digit() => c.to_string(),
                ' ' | '\n' | '\t' | '\r' => String::new(),
                '~' => "space".into(),
                '+' | '-' | '=' | '<' | '>' | '(' | ')' | '[' | ']' | ',' | '.' | '!' | '\''
                | '|' | ':' | ';' | '?' => c.to_string(),
                '/' => "\\/".into(),
                '*' => "\\*".into(),
                '"' => "\\\"".into(),
                // Alignment, as in an `aligned` environment.
                '&' => "&".into(),
                '#' | '$' | '@' | '`' | '\\' => format!("\\{c}"),
                c if !c.is_ascii() => format!("\"{c}\""),
                _ => return None,
            },
            Tok::Cmd(cmd) => match cmd.as_str() {
                "frac" | "dfrac" | "tfrac" | "cfrac" => {
                    let a = self.farg()?;
                    let b = self.farg()?;
                    format!("frac({a}, {b})")
                }
                "binom" | "dbinom" | "tbinom" | "choose" => {
                    let a = self.farg()?;
                    let b = self.farg()?;
                    format!("binom({a}, {b})")
                }
                "sqrt" => {
                    if self.peek() == Some(&Tok::Char('[')) {
                        self.i += 1;
                        let n = self.seq_until(|t| *t == Tok::Char(']'))?;
                        (self.peek() == Some(&Tok::Char(']'))).then_some(())?;
                        self.i += 1;
                        let a = self.farg()?;
                        format!("root({}, {a})", escape_args(&n))
                    } else {
                        format!("sqrt({})", self.farg()?)
                    }
                }
                "text" | "textrm" | "mbox" | "textnormal" | "hbox" => {
                    format!("\"{}\"", escape_str(&self.text_arg()?))
                }
                "textit" | "emph" => format!("italic(\"{}\")", escape_str(&self.text_arg()?)),
                "textbf" => format!("bold(\"{}\")", escape_str(&self.text_arg()?)),
                "texttt" => format!("mono(\"{}\")", escape_str(&self.text_arg()?)),
                "textsf" => format!("sans(\"{}\")", escape_str(&self.text_arg()?)),
                "mathrm" | "mathup" => match self.text_like()? {
                    Ok(s) => format!("upright({s})"),
                    Err(m) => format!("upright({m})"),
                },
                "operatorname" => {
                    let limits = self.peek() == Some(&Tok::Char('*'));
                    if limits {
                        self.i += 1;
                    }
                    let name = match self.text_like()? {
                        Ok(s) => s,
                        Err(m) => m,
                    };
                    if limits {
                        format!("op({name}, limits: #true)")
                    } else {
                        format!("op({name})")
                    }
                }
                "mathbf" | "boldsymbol" | "bm" | "mathbfit" => format!("bold({})", self.farg()?),
                "mathit" => format!("italic({})", self.farg()?),
                "mathcal" | "mathscr" => format!("cal({})", self.farg()?),
                "mathbb" => format!("bb({})", self.farg()?),
                "mathsf" => format!("sans({})", self.farg()?),
                "mathtt" => format!("mono({})", self.farg()?),
                "mathfrak" => format!("frak({})", self.farg()?),
                "hat" | "widehat" => format!("hat({})", self.farg()?),
                "bar" | "overline" => format!("overline({})", self.farg()?),
                "underline" => format!("underline({})", self.farg()?),
                "tilde" | "widetilde" => format!("tilde({})", self.farg()?),
                "vec" | "overrightarrow" => format!("arrow({})", self.farg()?),
                "overleftarrow" => format!("arrow.l({})", self.farg()?),
                "dot" => format!("dot({})", self.farg()?),
                "ddot" => format!("dot.double({})", self.farg()?),
                "check" => format!("caron({})", self.farg()?),
                "breve" => format!("breve({})", self.farg()?),
                "acute" => format!("acute({})", self.farg()?),
                "grave" => format!("grave({})", self.farg()?),
                "cancel" => format!("cancel({})", self.farg()?),
                "phantom" => format!("#hide[${}$]", self.arg()?),
                "boxed" => format!("#box(stroke: 0.5pt, inset: 3pt)[${}$]", self.arg()?),
                "overbrace" | "underbrace" => {
                    let body = self.farg()?;
                    let (want, key) = if cmd == "overbrace" {
                        (Tok::Sup, "overbrace")
                    } else {
                        (Tok::Sub, "underbrace")
                    };
                    if self.peek() == Some(&want) {
                        self.i += 1;
                        let note = self.farg()?;
                        format!("{key}({body}, {note})")
                    } else {
                        format!("{key}({body})")
                    }
                }
                "overset" | "stackrel" | "underset" => {
                    let over = self.arg()?;
                    let base = self.farg()?;
                    let side = if cmd == "underset" { '_' } else { '^' };
                    format!("limits({base}){side}({over})")
                }
                "pmod" => format!("quad (mod {})", self.arg()?),
                "left" => self.left_right()?,
                "big" | "Big" | "bigg" | "Bigg" | "bigl" | "Bigl" | "biggl" | "Biggl" | "bigr"
                | "Bigr" | "biggr" | "Biggr" | "bigm" | "Bigm" | "biggm" | "Biggm" | "middle"
                | "right" => {
                    // Delimiter sizing: Typst sizes delimiters itself.
                    self.delimiter()?.unwrap_or_default()
                }
                "begin" => self.environment()?,
                "\\" | "newline" => "\\ ".into(),
                "not" => match self.peek()? {
                    Tok::Char('=') => {
                        self.i += 1;
                        "!=".into()
                    }
                    Tok::Char('<') => {
                        self.i += 1;
                        "lt.not".into()
                    }
                    Tok::Char('>') => {
                        self.i += 1;
                        "gt.not".into()
                    }
                    Tok::Cmd(c) => {
                        let negated = match c.as_str() {
                            "in" => "in.not",
                            "subset" => "subset.not",
                            "equiv" => "equiv.not",
                            "le" | "leq" => "lt.eq.not",
                            "ge" | "geq" => "gt.eq.not",
                            "exists" => "exists.not",
                            "sim" => "tilde.not",
                            "approx" => "approx.not",
                            _ => return None,
                        };
                        self.i += 1;
                        negated.into()
                    }
                    _ => return None,
                },
                "hspace" | "hspace*" | "kern" | "mkern" => {
                    if self.peek() == Some(&Tok::Char('*')) {
                        self.i += 1;
                    }
                    self.raw_arg()?;
                    "space".into()
                }
                "label" | "tag" | "tag*" => {
                    self.raw_arg()?;
                    String::new()
                }
                "displaystyle" | "textstyle" | "scriptstyle" | "limits" | "nolimits"
                | "nonumber" | "notag" | "relax" | "mathstrut" | "strut" => String::new(),
                other => symbol(other)?.to_string(),
            },
        })
    }
}

/// Whether a token ends a cell of an environment (`&`, `\\`).
fn is_cell_end(t: &Tok) -> bool {
    matches!(t, Tok::Char('&')) || matches!(t, Tok::Cmd(c) if c == "\\")
}

/// A group's content as one ordinary atom: a lone punctuation or operator
/// character (`{,}`, `{-}`) as text, so Typst puts no space around it.
fn ordinary(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c @ (',' | '.' | ';' | ':' | '!' | '?')), None) => {
            format!("\"{}\"", escape_str(&c.to_string()))
        }
        _ => s.to_string(),
    }
}

/// Whether Typst takes `s` as one base for `^`/`_`: a number, a name
/// (`x`, `alpha`, `dot.op`), a string, or a call such as `frac(a, b)`.
fn is_single(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    if s.chars().all(|c| c.is_alphanumeric() || c == '.') {
        return true;
    }
    let bytes = s.as_bytes();
    if bytes[0] == b'"' && s.len() >= 2 && s.ends_with('"') {
        return !s[1..s.len() - 1].replace("\\\"", "").contains('"');
    }
    // name(...) with the parenthesis closing at the very end
    if let Some(open) = s.find('(')
        && s[..open].chars().all(|c| c.is_alphanumeric() || c == '.')
        && open > 0
        && s.ends_with(')')
    {
        let mut depth = 0i32;
        for (i, c) in s.char_indices().skip(open) {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return i == s.len() - 1;
                    }
                }
                _ => {}
            }
        }
    }
    false
}

/// Escapes the commas and semicolons of `s` that are outside any bracket or
/// string, so `s` stays one argument of a Typst call.
fn escape_args(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
            out.push(c);
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => depth -= 1,
            ',' | ';' if !in_str && depth <= 0 => out.push('\\'),
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Whether raw TeX holds math commands (not just text escapes like `\%`).
fn has_math_cmd(raw: &str) -> bool {
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' && it.peek().is_some_and(|n| n.is_ascii_alphabetic()) {
            let name: String =
                std::iter::from_fn(|| it.next_if(|n| n.is_ascii_alphabetic())).collect();
            if text_command(&name).is_none() {
                return true;
            }
        }
    }
    false
}

/// What a command prints in text mode: its text (`""` for a style command
/// such as `\textbf`, whose argument follows), or `None` if it is math.
fn text_command(name: &str) -> Option<&'static str> {
    Some(match name {
        "textbf" | "textit" | "textrm" | "texttt" | "textsf" | "emph" | "text" | "mathrm"
        | "textnormal" | "textup" | "mbox" => "",
        "ldots" | "dots" | "textellipsis" => "…",
        "textendash" => "–",
        "textemdash" => "—",
        "textbackslash" => "\\",
        "quad" => "\u{2003}",
        "qquad" => "\u{2003}\u{2003}",
        "enspace" => "\u{2002}",
        "thinspace" => "\u{2009}",
        "S" => "§",
        "P" => "¶",
        "dag" => "†",
        "copyright" => "©",
        "textdegree" => "°",
        "LaTeX" => "LaTeX",
        "TeX" => "TeX",
        _ => return None,
    })
}

/// Raw text-mode TeX (from [`Parser::raw_arg`]) as the text it prints.
fn text_mode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.peek().copied() {
                Some(n) if n.is_ascii_alphabetic() => {
                    let name: String =
                        std::iter::from_fn(|| it.next_if(|n| n.is_ascii_alphabetic())).collect();
                    out.push_str(text_command(&name).unwrap_or(""));
                    // A control word eats the spaces after it.
                    while it.next_if(|n| *n == ' ').is_some() {}
                }
                Some(',') => {
                    it.next();
                    out.push('\u{2009}');
                }
                Some(' ' | ';' | ':' | '>') => {
                    it.next();
                    out.push(' ');
                }
                Some('!' | '/') => {
                    it.next();
                }
                Some(n) => {
                    it.next();
                    out.push(n);
                }
                None => {}
            },
            '~' => out.push('\u{a0}'),
            _ => out.push(c),
        }
    }
    out
}

/// Appends a piece, keeping adjacent letters apart (`ab` in TeX is a times b,
/// in Typst an unknown variable `ab`) and attachments glued to their base.
/// No other space: Typst prints a space next to a string (`3 "s"`) or a
/// call (`upright("d") x`), where TeX would print none.
fn push_piece(out: &mut String, piece: &str) {
    if piece.is_empty() {
        return;
    }
    let last = out.chars().last();
    let first = piece.chars().next();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
    let digits = last.is_some_and(|c| c.is_ascii_digit())
        && first.is_some_and(|c| c.is_ascii_digit() || c == '.');
    let decimal = last == Some('.') && first.is_some_and(|c| c.is_ascii_digit());
    // Typst shorthands (`<=`, `->`, `!=`, `:=`, `||`, `...`) must not form
    // from two TeX tokens: `a <= b` in TeX is "<" then "=".
    let shorthand = |c: Option<char>| c.is_some_and(|c| "<>-=!:|.~[]*+".contains(c));
    let name_end = last.is_some_and(|c| c.is_alphanumeric());
    if (!digits && !decimal && name_end && word(first) && first != Some('_') && first != Some('.'))
        || (shorthand(last) && shorthand(first) && !decimal)
    {
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

    #[test]
    fn a_group_is_one_ordinary_atom_never_parentheses() {
        // The thousands separator: a comma with no space after it.
        assert_eq!(tex_to_typst(r"7{,}000").unwrap(), "7\",\"000");
        assert_eq!(tex_to_typst(r"{a+b}").unwrap(), "a+b");
        assert_eq!(tex_to_typst(r"{x}^2").unwrap(), "x^(2)");
        assert_eq!(tex_to_typst(r"{x+y}^2").unwrap(), "attach(x+y, t: 2)");
        assert_eq!(tex_to_typst(r"{}^{14}C").unwrap(), "attach(\"\", t: 14)C");
    }

    #[test]
    fn arguments_keep_their_commas() {
        assert_eq!(tex_to_typst(r"\frac{a,b}{c}").unwrap(), "frac(a\\,b, c)");
        assert_eq!(
            tex_to_typst(r"\frac{1{,}000}{f(a,b)}").unwrap(),
            "frac(1\",\"000, f(a,b))"
        );
        assert_eq!(tex_to_typst(r"\sqrt{a;b}").unwrap(), "sqrt(a\\;b)");
    }

    #[test]
    fn text_mode_prints_what_tex_prints() {
        assert_eq!(
            tex_to_typst(r"\text{50\% off \& more}").unwrap(),
            "\"50% off & more\""
        );
        // No space before a string: Typst would print it, TeX does not.
        assert_eq!(tex_to_typst(r"3\,\text{s}").unwrap(), "3 thin\"s\"");
        assert_eq!(tex_to_typst(r"\mathrm{d}x").unwrap(), "upright(\"d\")x");
        assert_eq!(tex_to_typst(r"\mathrm{x_1}").unwrap(), "upright(x_(1))");
        assert_eq!(
            tex_to_typst(r"\operatorname*{arg\,min}_x").unwrap(),
            "op(\"arg\u{2009}min\", limits: #true)_(x)"
        );
    }

    #[test]
    fn two_tex_tokens_never_make_a_typst_shorthand() {
        assert_eq!(tex_to_typst(r"a <= b").unwrap(), "a< =b");
        assert_eq!(tex_to_typst(r"a - > b").unwrap(), "a- >b");
        assert_eq!(tex_to_typst(r"a \le b").unwrap(), "a<=b");
    }

    #[test]
    fn delimiters_and_environments() {
        assert_eq!(
            tex_to_typst(r"\left( \frac{a}{b} \right)").unwrap(),
            "lr((frac(a, b)))"
        );
        assert_eq!(tex_to_typst(r"\left. x \right|_0").unwrap(), "lr(x|)_(0)");
        assert_eq!(
            tex_to_typst(r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}").unwrap(),
            "mat(delim: \"(\", a, b; c, d)"
        );
        assert_eq!(
            tex_to_typst(r"\begin{cases} 0 & x < 0 \\ x & \text{else} \end{cases}").unwrap(),
            "cases(0 &x<0, x &\"else\")"
        );
        assert_eq!(
            tex_to_typst(r"\begin{aligned} a &= b \\ &= c \\ \end{aligned}").unwrap(),
            "a &=b \\ &=c"
        );
        assert!(tex_to_typst(r"\begin{pmatrix} a \end{bmatrix}").is_none());
    }

    /// Every symbol the table gives, and every construct, is Typst that
    /// compiles (a misspelt or renamed symbol would fail the formula).
    #[test]
    fn every_conversion_compiles_in_typst() {
        let mut doc = String::from("#set page(width: 20cm, height: auto)\n");
        for (tex, typst) in SYMBOLS {
            doc.push_str(&format!("$a {typst} b$ // {tex}\n"));
        }
        for tex in [
            r"\not\in \not= \not\le \not\subset \not\exists \not\approx \not\sim \not\equiv",
            r"\overbrace{a+b}^{n} \underbrace{c}_{m} \overset{!}{=} \underset{x}{\max} \pmod{n}",
            r"\binom{n}{k} \sqrt[3]{x} \hat{x} \dot{x} \ddot{x} \vec{v} \phantom{x} \boxed{x}",
            r"\begin{Vmatrix} a \end{Vmatrix} \begin{array}{cc} a & b \end{array}",
            r"\left\langle u, v \middle| w \right\rangle \left\{ x \right. \big( y \big)",
            r"\textbf{b} \textit{i} \texttt{t} \textsf{s} \mathsf{A} \mathtt{B} \mathfrak{g}",
        ] {
            let typst = tex_to_typst(tex).unwrap_or_else(|| panic!("{tex}"));
            doc.push_str(&format!("$ {typst} $\n"));
        }
        if let Err(e) = crate::render::pdf::typeset_markup(&doc) {
            panic!("{e}\n{doc}");
        }
    }
}
