//! quire-synth: writes a deterministic, full-size synthetic curriculum for
//! benchmarks and scale tests. Same seed and arguments → byte-identical tree.
//!
//! Shape of the real curriculum: 12 parts, 159 modules, ~727,000 words, every
//! Markdown feature Quire supports, figures and ~2,600 cross-module links, all
//! of which resolve.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const MODULES_PER_PART: [usize; 12] = [5, 7, 16, 11, 10, 11, 11, 10, 56, 15, 1, 6];
const LINKS_PER_MODULE: usize = 16;

const TAGS: &[&str] = &[
    "Redis",
    "Kafka",
    "PostgreSQL",
    "Cassandra",
    "gRPC",
    "DynamoDB",
    "MySQL",
    "Elasticsearch",
    "Nginx",
    "Envoy",
    "Istio",
    "Consul",
    "etcd",
    "ZooKeeper",
    "Prometheus",
    "Grafana",
    "OpenTelemetry",
    "Jaeger",
    "S3",
    "Cloudflare",
    "CloudFront",
    "Memcached",
    "RabbitMQ",
    "SQS",
    "Flink",
    "Spark",
    "ClickHouse",
    "BigQuery",
    "Spanner",
    "CockroachDB",
    "ScyllaDB",
    "MongoDB",
    "Neo4j",
    "RocksDB",
    "HAProxy",
    "Kong",
    "WebSockets",
    "GraphQL",
    "Pinecone",
    "Milvus",
];

const NOUNS: &[&str] = &[
    "cache",
    "queue",
    "replica",
    "shard",
    "partition",
    "leader",
    "follower",
    "quorum",
    "index",
    "log",
    "snapshot",
    "checkpoint",
    "tombstone",
    "compaction",
    "lease",
    "token",
    "bucket",
    "window",
    "stream",
    "batch",
    "consumer",
    "producer",
    "broker",
    "gateway",
    "proxy",
    "ring",
    "node",
    "cluster",
    "region",
    "zone",
    "request",
    "response",
    "payload",
    "schema",
    "migration",
    "rollout",
    "budget",
    "latency",
    "throughput",
    "backlog",
    "timeout",
    "retry",
    "circuit",
    "bulkhead",
    "heartbeat",
    "election",
    "term",
    "epoch",
    "vector",
    "clock",
    "counter",
    "sketch",
    "filter",
    "tree",
    "page",
    "segment",
    "manifest",
    "watermark",
    "offset",
    "cursor",
];
const ADJS: &[&str] = &[
    "consistent",
    "eventual",
    "durable",
    "idempotent",
    "stateless",
    "sharded",
    "replicated",
    "bounded",
    "adaptive",
    "lazy",
    "eager",
    "optimistic",
    "pessimistic",
    "hierarchical",
    "distributed",
    "local",
    "global",
    "cold",
    "hot",
    "warm",
    "monotonic",
    "linearizable",
    "causal",
    "probabilistic",
    "deterministic",
    "elastic",
    "tiered",
    "regional",
    "synchronous",
    "asynchronous",
];
const VERBS: &[&str] = &[
    "stores",
    "replicates",
    "partitions",
    "routes",
    "batches",
    "compacts",
    "acknowledges",
    "retries",
    "throttles",
    "evicts",
    "rebalances",
    "serializes",
    "streams",
    "indexes",
    "caches",
    "shards",
    "elects",
    "fences",
    "snapshots",
    "observes",
    "degrades",
    "absorbs",
];
const GLUE: &[&str] = &[
    "the", "a", "each", "every", "when", "while", "because", "so", "and", "but", "which", "under",
    "after", "before", "within", "across", "without", "for", "with", "per",
];
const TOPICS: &[&str] = &[
    "Storage",
    "Replication",
    "Consensus",
    "Caching",
    "Streaming",
    "Indexing",
    "Routing",
    "Scheduling",
    "Observability",
    "Security",
    "Search",
    "Messaging",
    "Partitioning",
    "Rate Limiting",
    "Load Balancing",
    "Compaction",
    "Failover",
    "Backpressure",
    "Sharding",
    "Telemetry",
    "Admission Control",
    "Leader Election",
    "Change Data Capture",
    "Tiering",
];
const LANGS: &[(&str, &str)] = &[
    (
        "python",
        "def handle(request):\n    key = request.key\n    value = cache.get(key)\n    if value is None:\n        value = store.load(key)  # a < b && c > d\n        cache.set(key, value, ttl=300)\n    return value\n",
    ),
    (
        "rust",
        "fn route(key: &[u8], nodes: &[Node]) -> Option<&Node> {\n    let h = fxhash(key);\n    nodes.iter().max_by_key(|n| score(h, n.id))\n}\n",
    ),
    (
        "go",
        "func (s *Server) Get(ctx context.Context, k string) ([]byte, error) {\n\tif v, ok := s.cache.Get(k); ok {\n\t\treturn v, nil\n\t}\n\treturn s.store.Load(ctx, k)\n}\n",
    ),
    (
        "sql",
        "SELECT shard, count(*) AS rows, max(updated_at)\nFROM events\nWHERE tenant_id = $1 AND created_at > now() - interval '1 day'\nGROUP BY shard\nORDER BY rows DESC;\n",
    ),
    (
        "bash",
        "for node in $(kubectl get pods -l app=store -o name); do\n  kubectl exec \"$node\" -- nodetool status | grep -c UN\ndone\n",
    ),
    (
        "yaml",
        "replicas: 3\nstrategy:\n  type: RollingUpdate\n  maxUnavailable: 1\nresources:\n  limits: { cpu: \"2\", memory: 4Gi }\n",
    ),
    (
        "json",
        "{\n  \"key\": \"user:42\",\n  \"ttl\": 300,\n  \"replicas\": [\"a\", \"b\", \"c\"],\n  \"consistency\": \"quorum\"\n}\n",
    ),
    (
        "java",
        "public final class Lease {\n    private final long expiresAt;\n    public boolean valid(long now) { return now < expiresAt; }\n}\n",
    ),
];
const MATH_INLINE: &[&str] = &[
    r"O(n \log n)",
    r"\frac{r + w}{n} > 1",
    r"p^{k}",
    r"\lambda = \frac{L}{W}",
    r"2^{32}",
    r"\sqrt{n}",
    r"x_i \le x_{i+1}",
    r"\alpha \cdot \beta",
];
const MATH_DISPLAY: &[&str] = &[
    r"T_{avg} = h \cdot T_{hit} + (1 - h) \cdot T_{miss}",
    r"\text{QPS} = \frac{\text{DAU} \times a}{86400}",
    r"\sum_{i=1}^{n} w_i = 1",
    r"P(\text{loss}) = \prod_{i=1}^{r} p_i",
    r"L = \lambda \times W",
];
const ADMONITIONS: &[&str] = &["NOTE", "TIP", "WARNING", "IMPORTANT", "CAUTION"];

/// SplitMix64: tiny, fast, and stable across platforms and versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

struct Heading {
    text: String,
    id: String,
}

struct ModulePlan {
    part: usize,
    title: String,
    file: String,
    words: usize,
    tags: Vec<&'static str>,
    sections: Vec<Heading>,
}

struct Args {
    out: PathBuf,
    seed: u64,
    words: usize,
    force: bool,
}

fn usage() -> &'static str {
    "usage: quire-synth --out DIR [--seed N] [--words N] [--force]\n\n\
     Writes a deterministic synthetic curriculum (12 parts, 159 modules) to DIR.\n\
     --seed N    seed for the generator (default 1)\n\
     --words N   total words to aim for (default 727000)\n\
     --force     write into DIR even if it is not empty"
}

fn parse_args() -> Result<Args, String> {
    let mut out = None;
    let mut seed = 1;
    let mut words = 727_000;
    let mut force = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = it.next().map(PathBuf::from),
            "--seed" => {
                seed = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seed takes a number")?
            }
            "--words" => {
                words = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--words takes a number")?
            }
            "--force" => force = true,
            "-h" | "--help" => return Err(usage().into()),
            other => return Err(format!("unknown argument '{other}'\n\n{}", usage())),
        }
    }
    let out = out.ok_or_else(|| format!("--out is required\n\n{}", usage()))?;
    Ok(Args {
        out,
        seed,
        words,
        force,
    })
}

fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn part_dir(p: usize) -> String {
    format!("{:02}-{}", p, slugify(TOPICS[p * 2 % TOPICS.len()]))
}

fn plan(rng: &mut Rng, total_words: usize) -> Vec<ModulePlan> {
    let mut plans = Vec::new();
    let mut used_titles = std::collections::BTreeSet::new();
    let weights: Vec<usize> = (0..159).map(|_| rng.range(50, 150)).collect();
    let weight_sum: usize = weights.iter().sum();
    let mut k = 0;
    for (p, &count) in MODULES_PER_PART.iter().enumerate() {
        for n in 1..=count {
            let mut title;
            loop {
                title = format!(
                    "{} {}: {} {}s",
                    rng.pick(TOPICS),
                    title_case(rng.pick(NOUNS)),
                    title_case(rng.pick(ADJS)),
                    title_case(rng.pick(NOUNS))
                );
                if used_titles.insert(slugify(&title)) {
                    break;
                }
            }
            let words = total_words * weights[k] / weight_sum;
            k += 1;
            let tags: Vec<&'static str> = if rng.chance(6) {
                Vec::new()
            } else {
                let mut t: Vec<&'static str> = Vec::new();
                for _ in 0..rng.range(1, 6) {
                    let tag = rng.pick(TAGS);
                    if !t.contains(&tag) {
                        t.push(tag);
                    }
                }
                t
            };
            let n_sections = (words / 420).max(2);
            let mut ids = std::collections::BTreeSet::new();
            let sections = (0..n_sections)
                .map(|_| {
                    let text = format!(
                        "{} {} and {} {}s",
                        title_case(rng.pick(ADJS)),
                        rng.pick(NOUNS),
                        rng.pick(ADJS),
                        rng.pick(NOUNS)
                    );
                    let mut id = slugify(&text);
                    let base = id.clone();
                    let mut i = 1;
                    while !ids.insert(id.clone()) {
                        id = format!("{base}-{i}");
                        i += 1;
                    }
                    Heading { text, id }
                })
                .collect();
            let file = format!("{:02}-{}.md", n, slugify(&title));
            plans.push(ModulePlan {
                part: p,
                title,
                file,
                words,
                tags,
                sections,
            });
        }
    }
    plans
}

/// A link from module `from` to a heading of another module.
fn cross_link(rng: &mut Rng, plans: &[ModulePlan], from: usize) -> String {
    let mut to = rng.below(plans.len());
    if to == from {
        to = (to + 1) % plans.len();
    }
    let t = &plans[to];
    let h = &t.sections[rng.below(t.sections.len())];
    let path = if t.part == plans[from].part {
        t.file.clone()
    } else {
        format!("../{}/{}", part_dir(t.part), t.file)
    };
    format!("[{}]({path}#{})", h.text.to_lowercase(), h.id)
}

struct Writer<'a> {
    rng: &'a mut Rng,
    out: String,
    words: usize,
    tags: &'a [&'static str],
}

impl Writer<'_> {
    fn sentence(&mut self, link: Option<String>, note: Option<usize>) {
        let n = self.rng.range(9, 20);
        let mut parts: Vec<String> = Vec::with_capacity(n + 4);
        for i in 0..n {
            let w = match self.rng.below(10) {
                0..=2 => self.rng.pick(NOUNS).to_string(),
                3 => self.rng.pick(ADJS).to_string(),
                4 => self.rng.pick(VERBS).to_string(),
                5 if !self.tags.is_empty() && self.rng.chance(40) => {
                    self.rng.pick(self.tags).to_string()
                }
                5 => self.rng.pick(TAGS).to_string(),
                _ => self.rng.pick(GLUE).to_string(),
            };
            let w = match self.rng.below(60) {
                0 => format!("*{w}*"),
                1 => format!("**{w}**"),
                2 => format!("`{w}`"),
                3 => format!("~~{w}~~"),
                _ => w,
            };
            parts.push(if i == 0 { title_case(&w) } else { w });
        }
        self.words += n;
        if self.rng.chance(4) {
            parts.push(format!("with ${}$", self.rng.pick(MATH_INLINE)));
        }
        if let Some(l) = link {
            parts.push(format!("(see {l})"));
            self.words += 2;
        }
        if self.rng.chance(3) {
            parts.push("per the [reference](https://example.com/docs/reference)".into());
            self.words += 3;
        }
        let mut s = parts.join(" ");
        s.push('.');
        if let Some(k) = note {
            let _ = write!(s, "[^n{k}]");
        }
        self.out.push_str(&s);
        self.out.push(' ');
    }

    fn paragraph(&mut self, link: Option<String>, note: Option<usize>) {
        let n = self.rng.range(3, 6);
        let link_at = self.rng.below(n);
        let mut link = link;
        for i in 0..n {
            let l = if i == link_at { link.take() } else { None };
            let f = if i == n - 1 { note } else { None };
            self.sentence(l, f);
        }
        self.out.push_str("\n\n");
    }

    fn list(&mut self, ordered: bool, depth: usize) {
        let indent = "   ".repeat(depth);
        for i in 0..self.rng.range(2, 5) {
            let marker = if ordered {
                format!("{}.", i + 1)
            } else {
                "-".into()
            };
            let text = format!(
                "{} {} {} {}",
                title_case(self.rng.pick(ADJS)),
                self.rng.pick(NOUNS),
                self.rng.pick(VERBS),
                self.rng.pick(NOUNS)
            );
            self.words += 4;
            let _ = writeln!(self.out, "{indent}{marker} {text}");
            if depth < 2 && self.rng.chance(25) {
                self.list(!ordered, depth + 1);
            }
        }
        if depth == 0 {
            self.out.push('\n');
        }
    }

    fn block(&mut self, images: &[(String, String)], note: &mut usize, notes: &mut Vec<usize>) {
        match self.rng.below(20) {
            0 | 1 => {
                let ordered = self.rng.chance(50);
                self.list(ordered, 0)
            }
            2 => {
                for _ in 0..self.rng.range(2, 4) {
                    let done = if self.rng.chance(50) { "x" } else { " " };
                    let _ = writeln!(
                        self.out,
                        "- [{done}] {} the {}",
                        title_case(self.rng.pick(VERBS)),
                        self.rng.pick(NOUNS)
                    );
                    self.words += 3;
                }
                self.out.push('\n');
            }
            3 => {
                let (lang, code) = self.rng.pick(LANGS);
                let _ = write!(self.out, "```{lang}\n{code}```\n\n");
            }
            4 => {
                let cols = self.rng.range(2, 4);
                let aligns = [":---", "---:", ":---:", "---"];
                let head: Vec<String> = (0..cols)
                    .map(|_| title_case(self.rng.pick(NOUNS)))
                    .collect();
                let _ = writeln!(self.out, "| {} |", head.join(" | "));
                let al: Vec<&str> = (0..cols).map(|_| self.rng.pick(&aligns)).collect();
                let _ = writeln!(self.out, "|{}|", al.join("|"));
                for _ in 0..self.rng.range(2, 6) {
                    let row: Vec<String> = (0..cols)
                        .map(|c| {
                            if c == 0 {
                                self.rng.pick(ADJS).to_string()
                            } else {
                                format!("{} ms", self.rng.range(1, 900))
                            }
                        })
                        .collect();
                    let _ = writeln!(self.out, "| {} |", row.join(" | "));
                    self.words += cols;
                }
                self.out.push('\n');
            }
            5 => {
                let _ = write!(self.out, "$$\n{}\n$$\n\n", self.rng.pick(MATH_DISPLAY));
            }
            6 => {
                let kind = self.rng.pick(ADMONITIONS);
                let _ = write!(self.out, "> [!{kind}]\n> ");
                self.sentence(None, None);
                self.out.push_str("\n\n");
            }
            7 => {
                self.out.push_str("> ");
                self.sentence(None, None);
                self.out.push_str("\n>\n> — a practitioner\n\n");
            }
            8 if !images.is_empty() => {
                let (file, alt) = &images[self.rng.below(images.len())];
                let _ = write!(self.out, "![{alt}](../images/{file} \"Figure: {alt}\")\n\n");
            }
            9 => {
                *note += 1;
                notes.push(*note);
                self.paragraph(None, Some(*note));
            }
            _ => self.paragraph(None, None),
        }
    }
}

fn module_text(
    rng: &mut Rng,
    plans: &[ModulePlan],
    i: usize,
    images: &[(String, String)],
) -> (String, usize, usize) {
    let m = &plans[i];
    let summary = format!(
        "How {} {} {} {}, and when {} {} beat the alternatives.",
        rng.pick(ADJS),
        rng.pick(NOUNS),
        rng.pick(VERBS),
        rng.pick(NOUNS),
        rng.pick(ADJS),
        rng.pick(NOUNS)
    );
    let difficulty = ["beginner", "intermediate", "advanced"][rng.below(3)];
    let mut head = format!(
        "---\ntitle: \"{}\"\nsummary: \"{summary}\"\ndifficulty: {difficulty}\nminutes: {}\ntags: [{}]\ncreatedAt: 2026-01-01\n---\n\n{summary}\n\n",
        m.title,
        (m.words / 200).max(5),
        m.tags.join(", ")
    );
    let mut w = Writer {
        rng,
        out: String::new(),
        words: summary.split_whitespace().count(),
        tags: &m.tags,
    };
    let mut note = 0;
    let mut notes = Vec::new();
    let per_section = m.words / m.sections.len();
    // Links are spread over the sections; the remainder goes into "Related".
    let mut links_left = LINKS_PER_MODULE;
    for (s, h) in m.sections.iter().enumerate() {
        let _ = write!(w.out, "## {} {{#{}}}\n\n", title_case(&h.text), h.id);
        let target = per_section * (s + 1);
        let mut sub = 0;
        while w.words < target {
            if w.rng.chance(6) {
                sub += 1;
                let level = if w.rng.chance(70) { "###" } else { "####" };
                let _ = write!(
                    w.out,
                    "{level} {} {} {sub}\n\n",
                    title_case(w.rng.pick(ADJS)),
                    w.rng.pick(NOUNS)
                );
            }
            if links_left > 1 && w.rng.chance(12) {
                links_left -= 1;
                let l = cross_link(w.rng, plans, i);
                w.paragraph(Some(l), None);
            } else {
                w.block(images, &mut note, &mut notes);
            }
        }
        if s == 0 && m.sections.len() > 1 {
            let _ = write!(
                w.out,
                "Jump ahead to [the next section](#{}).\n\n",
                m.sections[1].id
            );
        }
    }
    w.out.push_str("## Related modules\n\n");
    for _ in 0..links_left {
        let l = cross_link(w.rng, plans, i);
        let _ = writeln!(w.out, "- {l}");
    }
    w.out.push('\n');
    for k in notes {
        let _ = writeln!(
            w.out,
            "[^n{k}]: A note on {} {}, kept short.",
            w.rng.pick(ADJS),
            w.rng.pick(NOUNS)
        );
    }
    let words = w.words;
    head.push_str(&w.out);
    (head, words, LINKS_PER_MODULE)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn png(rng: &mut Rng, w: u32, h: u32) -> Result<Vec<u8>, String> {
    let bars = rng.range(3, 9) as u32;
    let heights: Vec<u32> = (0..bars).map(|_| rng.range(10, 95) as u32).collect();
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        let slot = x * bars / w;
        let inside = x % (w / bars) > (w / bars) / 6;
        let top = h - h * heights[slot as usize] / 100;
        if y == h - 1 || x == 0 || (inside && y >= top) {
            image::Luma([(40 + slot * 20).min(200) as u8])
        } else {
            image::Luma([255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

fn svg(rng: &mut Rng, label: &str) -> String {
    let mut s = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"240\" viewBox=\"0 0 640 240\">\n<rect width=\"640\" height=\"240\" fill=\"white\"/>\n",
    );
    let boxes = rng.range(2, 4);
    for b in 0..boxes {
        let x = 20 + b * 620 / boxes;
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"80\" width=\"{}\" height=\"70\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/>\n<text x=\"{}\" y=\"120\" font-size=\"16\" text-anchor=\"middle\">{} {}</text>",
            620 / boxes - 40,
            x + (620 / boxes - 40) / 2,
            label,
            b + 1
        );
    }
    s.push_str("</svg>\n");
    s
}

fn run(args: Args) -> Result<String, String> {
    if args.out.exists()
        && std::fs::read_dir(&args.out)
            .map_err(|e| e.to_string())?
            .next()
            .is_some()
        && !args.force
    {
        return Err(format!("{} is not empty (use --force)", args.out.display()));
    }
    let mut rng = Rng(args.seed ^ 0x5157_4952_4551_5549);
    // The writer tracks prose words only; headings, captions, tables and link
    // lists add about 7 % more as Quire counts them. Aim low to land on target.
    let plans = plan(&mut rng, args.words * 93 / 100);

    // Images: PNGs of several sizes (one wider than 1600 px) and SVG diagrams.
    let mut images = Vec::new();
    for (k, &(w, h)) in [
        (640u32, 360u32),
        (900, 500),
        (1200, 700),
        (2400, 1200),
        (800, 800),
        (1600, 900),
        (700, 420),
        (1000, 600),
    ]
    .iter()
    .enumerate()
    {
        let name = format!("chart-{:02}.png", k + 1);
        write(&args.out.join("images").join(&name), &png(&mut rng, w, h)?)?;
        images.push((
            name,
            format!("A bar chart of {} {}", rng.pick(ADJS), rng.pick(NOUNS)),
        ));
    }
    for k in 0..4 {
        let label = title_case(rng.pick(NOUNS));
        let name = format!("diagram-{:02}.svg", k + 1);
        write(
            &args.out.join("images").join(&name),
            svg(&mut rng, &label).as_bytes(),
        )?;
        images.push((name, format!("A diagram of {label} components")));
    }

    let book = format!(
        "title = \"Synthetic Curriculum (seed {seed})\"\nsubtitle = \"A generated book for benchmarks\"\nauthors = [\"quire-synth\"]\nlanguage = \"en\"\nidentifier = \"urn:uuid:00000000-0000-4000-8000-{seed:012x}\"\nversion = \"1.0.0\"\ncopyright = \"Generated text; no rights reserved.\"\ndate = \"2026-01-01\"\n",
        seed = args.seed & 0xFFFF_FFFF_FFFF
    );
    write(&args.out.join("book.toml"), book.as_bytes())?;
    for p in 0..MODULES_PER_PART.len() {
        let first = plans
            .iter()
            .find(|m| m.part == p)
            .map(|m| m.file.clone())
            .unwrap_or_default();
        let text = format!(
            "---\ntitle: \"{} Systems\"\nsummary: \"Part {p} of the synthetic curriculum.\"\n---\n\nThis part starts with [its first module]({first}).\n",
            TOPICS[p * 2 % TOPICS.len()]
        );
        write(
            &args.out.join(part_dir(p)).join("_part.md"),
            text.as_bytes(),
        )?;
    }
    let (mut words, mut links) = (0, 0);
    for i in 0..plans.len() {
        let (text, w, l) = module_text(&mut rng, &plans, i, &images);
        words += w;
        links += l;
        write(
            &args.out.join(part_dir(plans[i].part)).join(&plans[i].file),
            text.as_bytes(),
        )?;
    }
    Ok(format!(
        "wrote {}: 12 parts, {} modules, ~{words} words, {links} cross-module links, {} images",
        args.out.display(),
        plans.len(),
        images.len()
    ))
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
