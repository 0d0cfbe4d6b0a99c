//! quire-synth: writes a deterministic, full-size synthetic curriculum for
//! benchmarks and scale tests. Same seed and arguments → byte-identical tree.
//!
//! Shape of the real curriculum: 12 parts (same folder names), 159 modules,
//! ~727,000 words, every Markdown feature Quire supports, PNG and SVG figures,
//! and ~2,580 cross-module links. Every module's headings and ids are planned
//! before any text is written, so every link resolves to an existing file and,
//! when it has one, to an explicit `{#id}` defined in that file.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// (folder slug, title, module count), as in the real curriculum.
const PARTS: [(&str, &str, usize); 12] = [
    ("prerequisites", "Prerequisites", 5),
    ("core-fundamentals", "Core Fundamentals", 7),
    ("building-blocks", "Building Blocks", 16),
    (
        "distributed-systems-theory",
        "Distributed Systems Theory",
        11,
    ),
    ("data-systems", "Data Systems", 10),
    ("architecture-patterns", "Architecture Patterns", 11),
    (
        "reliability-and-operations",
        "Reliability and Operations",
        11,
    ),
    ("security-at-scale", "Security at Scale", 10),
    ("case-studies", "Case Studies", 56),
    ("ai-ml-system-design", "AI/ML System Design", 15),
    ("emerging-patterns", "Emerging Patterns", 1),
    ("interview-framework", "Interview Framework", 6),
];
const REAL_WORDS: usize = 727_000;
const REAL_LINKS: usize = 2_580;

const TAGS: &str = "Redis|Kafka|PostgreSQL|Cassandra|gRPC|DynamoDB|MySQL|Elasticsearch|Nginx|Envoy|Kubernetes|Docker|etcd|ZooKeeper|Prometheus|Grafana|OpenTelemetry|S3|Memcached|RabbitMQ|Flink|Spark|ClickHouse|BigQuery|Spanner|CockroachDB|MongoDB|RocksDB|HAProxy|GraphQL|WebSockets|Terraform|Vault|Consul|Istio|Pulsar|Snowflake|FAISS|Ray|Neo4j";
const NOUNS: &str = "cache|queue|replica|shard|partition|leader|follower|quorum|index|log|snapshot|checkpoint|tombstone|lease|token|bucket|window|stream|batch|consumer|producer|broker|gateway|proxy|ring|node|cluster|region|zone|request|response|payload|schema|migration|rollout|budget|backlog|timeout|retry|heartbeat|epoch|vector|clock|counter|sketch|filter|tree|page|segment|manifest|watermark|offset|cursor|session|tenant|worker|job|event|message|record|key|entry|topic|pipeline|scheduler|ledger|replay|fence|hotspot";
const ADJS: &str = "consistent|eventual|durable|idempotent|stateless|sharded|replicated|bounded|adaptive|lazy|eager|optimistic|pessimistic|hierarchical|distributed|local|global|cold|hot|warm|monotonic|linearizable|causal|probabilistic|deterministic|elastic|tiered|regional|synchronous|asynchronous|append-only|immutable|bursty|skewed|read-heavy|write-heavy";
const VERBS: &str = "stores|replicates|partitions|routes|batches|compacts|acknowledges|retries|throttles|evicts|rebalances|serializes|streams|indexes|caches|shards|elects|fences|snapshots|observes|degrades|absorbs|buffers|coalesces|invalidates|persists|validates|schedules";
const MODS: &str = "Advanced|Practical|Applied|Distributed|Global|Adaptive|Hierarchical|Tiered|Regional|Cost-Aware|Multi-Region|Real-Time";
const SUBTITLES: &str = "Trade-offs at Scale|A Practical Guide|From First Principles|Failure Modes and Recovery|Patterns and Pitfalls|What Interviewers Look For|Design, Operate, Evolve|Numbers That Matter|Behaviour Under Load|Lessons from Production";
const CASE_EXTRAS: &str = "Interview Walkthrough|100M Daily Users|Global Scale|Read-Heavy Edition|Exactly-Once Billing|Mobile First|Five Nines";
const HEADS: [&str; 12] = [
    "Networking Fundamentals for System Design|Operating System Essentials|Data Structures for Distributed Systems|Database Fundamentals|API Design Basics|Concurrency Primitives|Storage Hardware|Linux Performance Tools|HTTP Semantics|Serialization Formats|Probability for Engineers|Big-O in Practice",
    "Scalability|Latency and Throughput|Availability and Reliability|Consistency Models|Back-of-the-Envelope Estimation|Trade-off Thinking|Capacity Planning|Load Characterization|Statelessness|Queueing Theory|Tail Latency|Cost Modeling",
    "Load Balancers|Reverse Proxies and API Gateways|Content Delivery Networks|Caching|SQL Databases|NoSQL Databases|Partitioning and Sharding|Database Replication|Message Queues and Streaming|Pub-Sub|Real-Time Communication|Object Storage|Search Indexes|Rate Limiters|Service Discovery|Blob Stores|Time-Series Databases|Unique ID Generation|Distributed Locks|Consistent Hashing",
    "Consensus|Raft|Paxos|Leader Election|Vector Clocks|Quorum Systems|Gossip Protocols|The CAP Theorem|PACELC|Failure Detectors|Distributed Transactions|Two-Phase Commit|CRDTs|Lamport Clocks|Linearizability|Byzantine Fault Tolerance",
    "Storage Engines|LSM Trees|B-Trees|Write-Ahead Logs|Change Data Capture|Stream Processing|Batch Processing|Data Lakes|Columnar Storage|Schema Evolution|Secondary Indexes|OLAP Cubes|Compaction Strategies|Exactly-Once Delivery",
    "Microservices|Event Sourcing|CQRS|Sagas|Service Meshes|Backends for Frontends|Cell-Based Architecture|Strangler Fig Migrations|Hexagonal Architecture|Event-Driven Architecture|Workflow Orchestration|Sidecars|Multi-Tenancy|Idempotent APIs",
    "Observability|SLI, SLO, SLA, and Error Budgets|Incident Response|Chaos Engineering|Load Shedding|Circuit Breakers|Retries and Backoff|Deployment Strategies|Disaster Recovery|Capacity Testing|On-Call Practices|Postmortems|Feature Flags|Alert Design",
    "Authentication|Authorization|OAuth 2.0 and OIDC|Secrets Management|Encryption at Rest|TLS Everywhere|Zero-Trust Networking|DDoS Mitigation|Audit Logging|Multi-Tenant Isolation|Supply-Chain Security|Key Rotation|Web Application Firewalls",
    "URL Shortener|News Feed|Chat Service|Ride-Hailing Dispatch|Video Streaming Platform|Payment Ledger|Search Autocomplete|Web Crawler|Notification Service|Job Scheduler|Rate Limiter|Key-Value Store|Photo Sharing App|Ticket Booking System|Leaderboard|Metrics Pipeline|Distributed Cache|Collaborative Editor|File Sync Service|Ad Click Aggregator|Hotel Reservation System|Stock Exchange|Food Delivery Platform|Email Service|Proximity Service|Code Deployment System|Online Judge|Live Comment System|Music Streaming Service|Digital Wallet|Recommendation Feed|Social Graph|Price Tracker|Flash Sale System|Package Tracker|Calendar Service|Voting System|Translation Service|Logging Platform|Inventory System|Subscription Billing|Short-Video Platform|Webhook Delivery|Status Page|Image Hosting Service|Game Matchmaking|Document Search|Parking Garage System|Map Tile Service|Fraud Detection Service|Content Moderation Pipeline|Sharded Counter|Distributed Message Queue|Pastebin|Feature Flag Service|Q and A Forum",
    "Feature Stores|Model Serving|Embedding Pipelines|Vector Search|Retrieval-Augmented Generation|Training Data Pipelines|Online Experimentation|Recommendation Systems|LLM Inference at Scale|Model Monitoring|GPU Scheduling|Ranking Systems|Prompt Caching|Evaluation Harnesses|Fine-Tuning Platforms|Agent Orchestration",
    "Edge Computing|Serverless Data Planes|WebAssembly at the Edge|Local-First Software",
    "How to Approach a System Design Question|Requirements Gathering|Estimation Drills|Drawing the High-Level Design|Deep Dives|Communicating Trade-offs|Mock Interview Rubrics|Common Pitfalls",
];
/// Difficulty weights (beginner, intermediate, advanced) per part.
const DIFFICULTY: [[usize; 3]; 12] = [
    [8, 2, 0],
    [5, 4, 1],
    [3, 5, 2],
    [1, 4, 5],
    [1, 5, 4],
    [1, 5, 4],
    [2, 5, 3],
    [2, 5, 3],
    [0, 5, 5],
    [1, 4, 5],
    [0, 3, 7],
    [6, 4, 0],
];
const SECTIONS: &str = "Why It Matters|Requirements|Core Concepts|Capacity Estimation|High-Level Design|Data Model|API Design|The Read Path|The Write Path|Scaling Out|Failure Modes|Consistency Trade-offs|Caching Strategy|Partitioning Scheme|Replication Strategy|Operational Concerns|Monitoring and Alerting|Security Considerations|Cost Analysis|Worked Example|Common Pitfalls|Interview Tips|Testing Strategy|Migration Plan|Benchmarks|Alternatives Considered|Hot Keys and Skew|Backpressure and Flow Control|Multi-Region Deployment|Recovery Procedures|Key Takeaways|Bottlenecks|Sizing the Fleet";
const SUBSECTIONS: &str = "Sizing the @N|When the @N fails|@T configuration|The @A @N|Handling @A @Ns|Edge cases|A concrete example|Choosing the @N size|@T versus @T|Step @K: the @N|Measuring the @N|Limits of the @A approach";
const PROSE: &str = "The @N @V every @N before the @A @N sees it.|@T @V the @N so that the @N stays @A even under @Kx load.|When a @N fails, the @A @N @V its @Ns within @U.|In practice, teams pair @T with @T because the @N path is @A while the @N path is not.|A @A @N costs roughly @U per request, which is why most designs keep it off the hot path.|Measure the @N first: without a baseline, any claim about @A @Ns is a guess.|The trade-off is familiar: a @A @N buys lower latency at the price of a @A @N.|Most incidents here start with a @N that nobody sized and end with a @A @N that @V too late.|@T exposes this as a setting, but the default @N is rarely right for a @A workload.|At @B requests per second a single @N is enough; beyond that, the @N @V across @K @Ns.|Each @N carries a @N and a @N, and the @N @V only the ones it owns.|Because the @N is @A, retries are safe and the @N can be replayed from any @N.|Keep the @N small: @P of the traffic touches a tiny fraction of the @Ns.|The @A variant @V the @N in the background, trading freshness for throughput.|Interviewers usually ask how the @N behaves when a @N is partitioned away from its @N.|This is where @T earns its place: it @V the @N without a central coordinator.|Operationally, the @N needs an alert on @N age and a dashboard of @A @Ns.|None of this matters until the @N is the bottleneck, so measure before you shard.|A common mistake is to treat the @N as @A; it is @A, and the difference shows up during failover.|The latency budget is @U at the 99th percentile, and the @N consumes most of it.|Under the hood, @T keeps a @A @N per @N and @V it on every write.|Think of the @N as a @A contract between the @N and the @N.|The ~~@A~~ @A @N turned out to be the simpler design, and it @V the @N just as well.|A @A @N with @K @Ns handles @B writes per day on modest hardware.|If the @N lags, the @N @V new work instead of queueing it without bound.|@T and @T solve overlapping problems, so pick one per @N and document why.|The first version can be @A; the second needs a @A @N and a plan for the @N.|Nothing here is free: every @N you add is another @N to page someone about.";
const ITEMS: &str = "@V the @N before the @A @N|Keep the @N @A|Alert when @N lag exceeds @U|Use @T for the @N tier|Budget @P of capacity for @Ns|Shard the @N by tenant|Cap each @N at @K @Ns|Prefer @A @Ns over @A ones|Replay the @N from the last @N|Test failover of the @N monthly";
const LINK_SENTENCES: &str = "See @L for the @A details.|This builds on @L.|@L covers the same @N from the other side.|Compare this with @L, where the @N is @A.|The @N here is the one introduced in @L.|For a worked example, read @L.|If the @N is new to you, start with @L.";
const SELF_SENTENCES: &str = "We return to this in @L.|As @L shows, the @N matters more than the @N.|The numbers behind this are in @L.";
const MATH_INLINE: &str = r"O(\log n)|O(n \log n)|W + R > N|p^{k}|\frac{1}{n}|\lambda = 120|2^{62}|\sqrt{n}|h \ge 0.9|10^{6}|k \cdot n|\rho = \lambda / \mu";
const MATH_DISPLAY: &str = r"T_{\text{avg}} = h \cdot T_{\text{hit}} + (1 - h) \cdot T_{\text{miss}}|\text{QPS} = \frac{\text{DAU} \times r}{86400}|L = \lambda W|P(\text{all } k \text{ fail}) = p^{k}|\text{storage} = N \times s \times r \times 365|W + R > N|\rho = \frac{\lambda}{\mu}, \quad W_q = \frac{\rho}{\mu (1 - \rho)}|A = \prod_{i=1}^{n} a_i|\text{budget} = (1 - \text{SLO}) \times T|p_{\text{fp}} \approx \left(1 - e^{-kn/m}\right)^{k}|\sum_{i=1}^{n} w_i = 1|d = \lceil \log_2 n \rceil";
const DOMAINS: &str =
    "docs.example.org|engineering.example.com|research.example.net|blog.example.io";
/// Code blocks: language, its display name, body. `@1` `@2` are nouns, `@F`
/// and `@G` function names, `@C` a type name, all fixed within one block.
const CODE: &[(&str, &str, &str)] = &[
    (
        "python",
        "Python",
        "def @F(@1_id: str, limit: int = @K) -> list[dict]:\n    \"\"\"Return up to `limit` @2 rows for one @1.\"\"\"\n    key = f\"@1:{@1_id}\"\n    rows = cache.get(key)\n    if rows is None:\n        rows = db.query(\"SELECT * FROM @2_rows WHERE @1_id = %s LIMIT %s\", (@1_id, limit))\n        cache.set(key, rows, ttl=@K0)\n    return [dict(r) for r in rows]\n",
    ),
    (
        "rust",
        "Rust",
        "pub fn @F(items: &[@C], budget: Duration) -> Result<Vec<@C>, Error> {\n    let deadline = Instant::now() + budget;\n    let mut out = Vec::with_capacity(items.len());\n    for @1 in items {\n        if Instant::now() > deadline {\n            return Err(Error::Timeout);\n        }\n        out.push(@1.clone());\n    }\n    Ok(out)\n}\n",
    ),
    (
        "go",
        "Go",
        "func (s *Server) @C(ctx context.Context, key string) ([]byte, error) {\n\tif v, ok := s.@1.Get(key); ok {\n\t\treturn v, nil\n\t}\n\tctx, cancel := context.WithTimeout(ctx, @K*time.Millisecond)\n\tdefer cancel()\n\treturn s.@2.Load(ctx, key)\n}\n",
    ),
    (
        "sql",
        "SQL",
        "SELECT @1_id, count(*) AS @2_count, max(updated_at) AS last_seen\nFROM @2_events\nWHERE tenant_id = $1\n  AND created_at > now() - interval '@K hours'\nGROUP BY @1_id\nORDER BY @2_count DESC\nLIMIT @K;\n",
    ),
    (
        "bash",
        "Bash",
        "#!/usr/bin/env bash\nset -euo pipefail\nfor pod in $(kubectl get pods -l app=@1 -o name); do\n  kubectl exec \"$pod\" -- curl -s localhost:9090/metrics | grep -c @2_lag\ndone\n",
    ),
    (
        "yaml",
        "YAML",
        "@1:\n  replicas: @K\n  strategy:\n    type: RollingUpdate\n    maxUnavailable: 1\n  @2:\n    timeoutMs: @K0\n    retries: 3\n",
    ),
    (
        "json",
        "JSON",
        "{\n  \"@1\": \"@2-@K\",\n  \"ttlSeconds\": @K0,\n  \"replicas\": [\"a\", \"b\", \"c\"],\n  \"consistency\": \"quorum\"\n}\n",
    ),
    (
        "java",
        "Java",
        "public final class @C {\n    private final long expiresAtMillis;\n\n    public @C(long expiresAtMillis) {\n        this.expiresAtMillis = expiresAtMillis;\n    }\n\n    public boolean isValid(long nowMillis) {\n        return nowMillis < expiresAtMillis - @K;\n    }\n}\n",
    ),
    (
        "typescript",
        "TypeScript",
        "export async function @G(@1Id: string): Promise<@C | undefined> {\n  const cached = await cache.get(`@1:${@1Id}`);\n  if (cached) return JSON.parse(cached) as @C;\n  const row = await db.@2.findUnique({ where: { id: @1Id } });\n  await cache.set(`@1:${@1Id}`, JSON.stringify(row), { ttl: @K0 });\n  return row ?? undefined;\n}\n",
    ),
];

/// SplitMix64: tiny, fast, and stable across platforms and versions.
struct Rng(u64);

impl Rng {
    /// An independent stream per (seed, purpose), so one part of the output
    /// never shifts another.
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xA24B_AED4_963E_E407) ^ 0x5157_4952_4553_594E);
        r.next();
        r
    }
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
    fn weighted(&mut self, w: &[usize]) -> usize {
        let mut r = self.below(w.iter().sum());
        for (i, &x) in w.iter().enumerate() {
            if r < x {
                return i;
            }
            r -= x;
        }
        w.len() - 1
    }
}

/// Word lists, split once.
struct Vocab {
    tags: Vec<&'static str>,
    nouns: Vec<&'static str>,
    adjs: Vec<&'static str>,
    verbs: Vec<&'static str>,
    sections: Vec<&'static str>,
    subsections: Vec<&'static str>,
    prose: Vec<&'static str>,
    items: Vec<&'static str>,
    link_sentences: Vec<&'static str>,
    self_sentences: Vec<&'static str>,
    math_inline: Vec<&'static str>,
    math_display: Vec<&'static str>,
    domains: Vec<&'static str>,
}

fn split(s: &'static str) -> Vec<&'static str> {
    s.split('|').collect()
}

impl Vocab {
    fn new() -> Vocab {
        Vocab {
            tags: split(TAGS),
            nouns: split(NOUNS),
            adjs: split(ADJS),
            verbs: split(VERBS),
            sections: split(SECTIONS),
            subsections: split(SUBSECTIONS),
            prose: split(PROSE),
            items: split(ITEMS),
            link_sentences: split(LINK_SENTENCES),
            self_sentences: split(SELF_SENTENCES),
            math_inline: split(MATH_INLINE),
            math_display: split(MATH_DISPLAY),
            domains: split(DOMAINS),
        }
    }
}

fn plural(n: &str) -> String {
    if n.ends_with('x') || n.ends_with('s') || n.ends_with("ch") || n.ends_with("sh") {
        format!("{n}es")
    } else if n.ends_with('y') && !n.ends_with("ey") && !n.ends_with("ay") {
        format!("{}ies", &n[..n.len() - 1])
    } else {
        format!("{n}s")
    }
}

fn cap_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Capitalises the first letter of a sentence unless it starts with markup
/// or a name spelled in lowercase (etcd, gRPC).
fn sentence_case(s: String) -> String {
    let first = s.split([' ', ',', ':']).next().unwrap_or("");
    if s.starts_with(|c: char| c.is_ascii_lowercase()) && !TAGS.split('|').any(|t| t == first) {
        cap_first(&s)
    } else {
        s
    }
}

/// "a idempotent" → "an idempotent" (markup before the word is skipped).
fn fix_articles(s: &str) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let vowel = words
            .get(i + 1)
            .and_then(|n| n.trim_start_matches(['*', '`', '~']).chars().next())
            .is_some_and(|c| "aeiouAEIOU".contains(c));
        match *w {
            "a" if vowel => out.push_str("an"),
            "A" if vowel => out.push_str("An"),
            _ => out.push_str(w),
        }
    }
    out
}

/// Module file slug per the conventions: title up to ": " or " (", slugified.
fn module_slug(title: &str) -> String {
    let cut = [title.find(": "), title.find(" (")]
        .into_iter()
        .flatten()
        .min();
    let mut out = String::new();
    for c in title[..cut.unwrap_or(title.len())].chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// GitHub-style heading slug: Quire's own, so generated ids match auto ids.
fn heading_slug(text: &str) -> String {
    quire::parse::ids::slugify(text)
}

fn commas(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Words as `wc -w` counts them.
fn count_words(s: &str) -> usize {
    s.split_ascii_whitespace().count()
}

/// Fills a template. Tokens: @N noun (@Ns plural), @A adjective, @V verb,
/// @T tag (mostly the module's own), @K small number, @B large number, @U
/// latency, @P percent, @1 @2 fixed nouns, @F snake_case and @G camelCase
/// function names, @C a type name. Unknown tokens (@L) are left for the
/// caller. `deco` sprinkles emphasis, strong and inline code over words.
fn fill(rng: &mut Rng, v: &Vocab, tags: &[&'static str], tpl: &str, deco: bool) -> String {
    let n1 = rng.pick(&v.nouns);
    let mut n2 = rng.pick(&v.nouns);
    if n2 == n1 {
        n2 = v.nouns[(v.nouns.iter().position(|&n| n == n1).unwrap_or(0) + 1) % v.nouns.len()];
    }
    let verb = rng.pick(&v.verbs);
    let stem = verb
        .strip_suffix("es")
        .filter(|s| s.ends_with("ch") || s.ends_with("sh") || s.ends_with('x'))
        .unwrap_or(verb.trim_end_matches('s'));
    let (s1, s2) = (n1.replace('-', "_"), n2.replace('-', "_"));
    let mut out = String::with_capacity(tpl.len() + 64);
    let mut it = tpl.chars().peekable();
    let decorate = |rng: &mut Rng, w: &str, out: &mut String| {
        let r = if deco { rng.below(100) } else { 99 };
        match r {
            0 | 1 => {
                let _ = write!(out, "*{w}*");
            }
            2 => {
                let _ = write!(out, "**{w}**");
            }
            3 | 4 if !w.contains('-') => {
                let _ = write!(out, "`{w}`");
            }
            _ => out.push_str(w),
        }
    };
    while let Some(c) = it.next() {
        if c != '@' {
            out.push(c);
            continue;
        }
        let Some(t) = it.next() else {
            out.push('@');
            break;
        };
        match t {
            'N' => {
                let n = rng.pick(&v.nouns);
                if it.peek() == Some(&'s') {
                    it.next();
                    decorate(rng, &plural(n), &mut out);
                } else {
                    decorate(rng, n, &mut out);
                }
            }
            'A' => {
                let a = rng.pick(&v.adjs);
                decorate(rng, a, &mut out);
            }
            'V' => out.push_str(rng.pick(&v.verbs)),
            'T' => {
                let t = if !tags.is_empty() && rng.chance(65) {
                    rng.pick(tags)
                } else {
                    rng.pick(&v.tags)
                };
                if deco && rng.chance(2) {
                    let _ = write!(out, "**{t}**");
                } else {
                    out.push_str(t);
                }
            }
            'K' => {
                let _ = write!(out, "{}", rng.range(2, 64));
            }
            'B' => out.push_str(&commas(rng.range(2, 900) * 1000)),
            'U' => {
                let _ = write!(
                    out,
                    "{} ms",
                    rng.pick(&[1, 2, 5, 8, 10, 20, 35, 50, 80, 120, 250])
                );
            }
            'P' => {
                let _ = write!(out, "{}%", rng.range(1, 99));
            }
            '1' => out.push_str(&s1),
            '2' => out.push_str(&s2),
            'F' => {
                let _ = write!(out, "{stem}_{s1}");
            }
            'G' => {
                let _ = write!(out, "{stem}{}", cap_first(&s1.replace('_', "")));
            }
            'C' => {
                let _ = write!(
                    out,
                    "{}{}",
                    cap_first(&s1.replace('_', "")),
                    cap_first(&s2.replace('_', ""))
                );
            }
            other => {
                out.push('@');
                out.push(other);
            }
        }
    }
    fix_articles(&out)
}

struct Heading {
    level: usize,
    text: String,
    /// Explicit `{#id}`; headings without one get an auto id (never linked to).
    id: Option<String>,
}

struct Module {
    part: usize,
    title: String,
    file: String,
    summary: String,
    difficulty: &'static str,
    minutes: usize,
    tags: Vec<&'static str>,
    weight: usize,
    headings: Vec<Heading>,
    /// Indices into `headings` of the headings with explicit ids.
    explicit: Vec<usize>,
}

struct Image {
    file: String,
    alt: String,
    caption: String,
}

/// Plans titles, files, front matter and every heading of every module.
fn plan(rng: &mut Rng, v: &Vocab, words: usize) -> Vec<Module> {
    let mut slugs = BTreeSet::new();
    let (mods, subtitles, extras) = (split(MODS), split(SUBTITLES), split(CASE_EXTRAS));
    let weights: Vec<usize> = (0..159).map(|_| rng.range(2500, 7500)).collect();
    let wsum: usize = weights.iter().sum();
    let mut out = Vec::new();
    for (p, &(_, _, count)) in PARTS.iter().enumerate() {
        let heads = split(HEADS[p]);
        for n in 1..=count {
            let title = loop {
                let head = rng.pick(&heads);
                let head = if rng.chance(55) {
                    head.to_string()
                } else {
                    format!("{} {head}", rng.pick(&mods))
                };
                let t = if p == 8 {
                    let article = if head.starts_with(['A', 'E', 'I', 'O', 'U']) {
                        "an"
                    } else {
                        "a"
                    };
                    match rng.below(10) {
                        0..=3 => format!("Design {article} {head} ({})", rng.pick(&extras)),
                        4..=5 => format!("Design {article} {head}: {}", rng.pick(&subtitles)),
                        _ => format!("Design {article} {head}"),
                    }
                } else {
                    match rng.below(10) {
                        0..=3 => format!("{head}: {}", rng.pick(&subtitles)),
                        4 => format!("{head} ({} and {})", rng.pick(&v.tags), rng.pick(&v.tags)),
                        _ => head,
                    }
                };
                // Module ids (slugs) must be unique across the whole book.
                if slugs.insert(module_slug(&t)) {
                    break t;
                }
            };
            let slug = module_slug(&title);
            let weight = weights[out.len()];
            let nominal = words * weight / wsum;
            let tags: Vec<&'static str> = if rng.chance(4) {
                Vec::new()
            } else {
                let mut t: Vec<&'static str> = Vec::new();
                let k = rng.range(1, 6);
                while t.len() < k {
                    let tag = rng.pick(&v.tags);
                    if !t.contains(&tag) {
                        t.push(tag);
                    }
                }
                t
            };
            let difficulty = ["beginner", "intermediate", "advanced"][rng.weighted(&DIFFICULTY[p])];
            let topic = title
                .split([':', '('])
                .next()
                .unwrap_or(&title)
                .trim()
                .to_string();
            let (a1, a2) = (rng.pick(&v.adjs), rng.pick(&v.adjs));
            let (n1, n2) = (rng.pick(&v.nouns), rng.pick(&v.nouns));
            let (tag, verb) = (rng.pick(&v.tags), rng.pick(&v.verbs));
            let summary = match rng.below(3) {
                0 => format!(
                    "{topic} from the ground up: the {a1} {n1} and the {a2} {}, how {tag} fits in, and the trade-offs interviewers probe.",
                    plural(n2)
                ),
                1 => format!(
                    "An interview-grade walkthrough of {}: requirements, estimates, a {a1} design, and what breaks first when the {n1} grows.",
                    topic.to_lowercase()
                ),
                _ => format!(
                    "How {a1} {} {} in real systems, why the {a2} {n2} matters, and when to reach for {tag} instead.",
                    plural(n1),
                    verb.trim_end_matches('s')
                ),
            };
            let summary = fix_articles(&summary);
            let (headings, explicit) = plan_headings(rng, v, &tags, nominal);
            out.push(Module {
                part: p,
                file: format!("{n:02}-{slug}.md"),
                title,
                summary,
                difficulty,
                minutes: (nominal / 220).max(3),
                tags,
                weight,
                headings,
                explicit,
            });
        }
    }
    out
}

/// Plans the headings of one module. Ids are unique within the module and
/// follow Quire's rules, so explicit ids never collide with auto ids.
fn plan_headings(
    rng: &mut Rng,
    v: &Vocab,
    tags: &[&'static str],
    nominal: usize,
) -> (Vec<Heading>, Vec<usize>) {
    let mut used = BTreeSet::new();
    let mut hs: Vec<Heading> = Vec::new();
    let add = |hs: &mut Vec<Heading>,
               used: &mut BTreeSet<String>,
               level,
               text: String,
               explicit: Option<String>| {
        let (base, first) = match &explicit {
            Some(b) => (b.clone(), 2),
            None => (heading_slug(&text), 1), // Quire's IdSet::unique: x, x-1, x-2
        };
        let mut id = base.clone();
        let mut k = first;
        while used.contains(&id) {
            id = format!("{base}-{k}");
            k += 1;
        }
        used.insert(id.clone());
        hs.push(Heading {
            level,
            text,
            id: explicit.map(|_| id),
        });
    };
    let n2 = (nominal / 650).clamp(1, 10) + rng.below(2);
    let subs: &[usize] = if nominal < 1500 {
        &[1, 0, 0, 0]
    } else {
        &[3, 4, 2, 1]
    };
    let mut pool = v.sections.clone();
    for _ in 0..n2 {
        let text = if rng.chance(20) || pool.is_empty() {
            let t = if tags.is_empty() {
                rng.pick(&v.tags)
            } else {
                rng.pick(tags)
            };
            match rng.below(3) {
                0 => format!("{t} on the {} Path", cap_first(rng.pick(&v.nouns))),
                1 => format!("Choosing Between {t} and {}", rng.pick(&v.tags)),
                _ => format!(
                    "{} {}",
                    cap_first(rng.pick(&v.adjs)),
                    cap_first(&plural(rng.pick(&v.nouns)))
                ),
            }
        } else {
            pool.remove(rng.below(pool.len())).to_string()
        };
        let explicit = match rng.below(10) {
            0..=4 => Some(heading_slug(&text)),
            5..=6 => Some(heading_slug(
                &text.split(' ').take(2).collect::<Vec<_>>().join(" "),
            )),
            _ => None,
        };
        add(&mut hs, &mut used, 2, text, explicit);
        for _ in 0..rng.weighted(subs) {
            let tpl = rng.pick(&v.subsections);
            let text = sentence_case(fill(rng, v, tags, tpl, false));
            let explicit = rng.chance(30).then(|| heading_slug(&text));
            add(&mut hs, &mut used, 3, text, explicit);
            if rng.chance(20) {
                let text = format!(
                    "{} {}",
                    cap_first(rng.pick(&v.adjs)),
                    plural(rng.pick(&v.nouns))
                );
                let explicit = rng.chance(25).then(|| heading_slug(&text));
                add(&mut hs, &mut used, 4, text, explicit);
            }
        }
    }
    add(
        &mut hs,
        &mut used,
        2,
        "Where to Go Next".into(),
        Some("where-to-go-next".into()),
    );
    let explicit = (0..hs.len()).filter(|&i| hs[i].id.is_some()).collect();
    (hs, explicit)
}

/// Relative link target from module `from` to module `to`.
fn href(plans: &[Module], from: usize, to: usize) -> String {
    let t = &plans[to];
    if t.part == plans[from].part {
        t.file.clone()
    } else {
        format!("../{:02}-{}/{}", t.part, PARTS[t.part].0, t.file)
    }
}

/// Heading text as link text: "Key Takeaways" → "key takeaways", keeping
/// names and acronyms (Redis, gRPC, API) as they are.
fn link_text(text: &str) -> String {
    let words: Vec<String> = text
        .split(' ')
        .map(|w| {
            let name = w.chars().skip(1).any(char::is_uppercase)
                || TAGS.split('|').any(|t| t == w.trim_end_matches([',', ':']));
            if name {
                w.to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect();
    words.join(" ")
}

/// Writes the text of one module.
struct Writer<'a> {
    rng: Rng,
    v: &'a Vocab,
    plans: &'a [Module],
    images: &'a [Image],
    me: usize,
    out: String,
    words: usize,
    notes: Vec<(String, String)>,
    /// Word positions (descending) at which a cross-module / in-module link is due.
    link_marks: Vec<usize>,
    self_marks: Vec<usize>,
    links: usize,
    self_links: usize,
    figures: usize,
}

impl Writer<'_> {
    fn push(&mut self, block: &str) {
        self.words += count_words(block);
        self.out.push_str(block);
    }

    fn fill(&mut self, tpl: &str, deco: bool) -> String {
        fill(&mut self.rng, self.v, &self.plans[self.me].tags, tpl, deco)
    }

    fn sentence(&mut self) -> String {
        let t = self.rng.pick(&self.v.prose);
        sentence_case(self.fill(t, true))
    }

    fn due(marks: &[usize], at: usize) -> bool {
        marks.last().is_some_and(|&m| m <= at)
    }

    fn cross_link(&mut self) -> String {
        let n = self.plans.len();
        let part = self.plans[self.me].part;
        let same: Vec<usize> = (0..n)
            .filter(|&i| i != self.me && self.plans[i].part == part)
            .collect();
        let to = if !same.is_empty() && self.rng.chance(40) {
            self.rng.pick(&same)
        } else {
            (self.me + 1 + self.rng.below(n - 1)) % n
        };
        self.links += 1;
        let t = &self.plans[to];
        let path = href(self.plans, self.me, to);
        if self.rng.chance(93) {
            let h = &t.headings[self.rng.pick(&t.explicit)];
            format!(
                "[{}]({path}#{})",
                link_text(&h.text),
                h.id.as_deref().unwrap_or_default()
            )
        } else {
            format!("[{}]({path})", t.title)
        }
    }

    fn self_link(&mut self) -> String {
        let m = &self.plans[self.me];
        let h = &m.headings[self.rng.pick(&m.explicit)];
        self.self_links += 1;
        format!(
            "[{}](#{})",
            link_text(&h.text),
            h.id.as_deref().unwrap_or_default()
        )
    }

    fn external(&mut self) -> String {
        let tag = self.rng.pick(&self.v.tags);
        let url = format!(
            "https://{}/{}/{}",
            self.rng.pick(&self.v.domains),
            heading_slug(tag),
            self.rng.pick(&self.v.nouns)
        );
        format!("[the {tag} documentation]({url})")
    }

    fn paragraph(&mut self, lead: Option<String>) {
        let n = self.rng.range(3, 6);
        let mut ss: Vec<String> = (0..n).map(|_| self.sentence()).collect();
        let at = self.words + 60;
        let mut extra = Vec::new();
        while extra.len() < 2 && Self::due(&self.link_marks, at) {
            self.link_marks.pop();
            let l = self.cross_link();
            let t = self.rng.pick(&self.v.link_sentences);
            extra.push(sentence_case(self.fill(t, false).replacen("@L", &l, 1)));
        }
        if Self::due(&self.self_marks, at) {
            self.self_marks.pop();
            let l = self.self_link();
            let t = self.rng.pick(&self.v.self_sentences);
            extra.push(self.fill(t, false).replacen("@L", &l, 1));
        }
        if self.rng.chance(4) {
            let m = self.rng.pick(&self.v.math_inline);
            extra.push(format!(
                "The cost grows as ${m}$, which is why the {} matters.",
                self.rng.pick(&self.v.nouns)
            ));
        }
        if self.rng.chance(3) {
            let l = self.external();
            extra.push(format!("For the knobs, see {l}."));
        }
        for e in extra {
            let at = self.rng.range(1, ss.len());
            ss.insert(at, e);
        }
        if self.rng.chance(7) {
            let label = if self.rng.chance(50) {
                format!("n{}", self.notes.len() + 1)
            } else {
                format!("{}-{}", self.rng.pick(&self.v.nouns), self.notes.len() + 1)
            };
            let i = self.rng.below(ss.len());
            let _ = write!(ss[i], "[^{label}]");
            let mut def = self.sentence();
            if self.rng.chance(40) {
                let l = self.external();
                let _ = write!(def, " See {l}.");
            }
            self.notes.push((label, def));
        }
        let mut p = ss.join(" ");
        if let Some(l) = lead {
            p = format!("{l} {p}");
        }
        p.push_str("\n\n");
        self.push(&p);
    }

    fn list(&mut self, ordered: bool, depth: usize, indent: &str, out: &mut String) {
        for i in 0..self.rng.range(2, 5) {
            let marker = if ordered {
                format!("{}.", i + 1)
            } else {
                "-".to_string()
            };
            let text = if depth == 0 && Self::due(&self.link_marks, self.words + 30) {
                self.link_marks.pop();
                let l = self.cross_link();
                format!("Read {l} for the {} side", self.rng.pick(&self.v.nouns))
            } else {
                let t = self.rng.pick(&self.v.items);
                sentence_case(self.fill(t, true))
            };
            let _ = writeln!(out, "{indent}{marker} {text}");
            if depth < 2 && self.rng.chance(22) {
                let child = format!("{indent}{}", " ".repeat(marker.len() + 1));
                let o = self.rng.chance(40);
                self.list(o, depth + 1, &child, out);
            }
        }
    }

    fn block(&mut self) {
        match self.rng.below(100) {
            0..=6 => {
                let ordered = self.rng.chance(45);
                let mut s = String::new();
                self.list(ordered, 0, "", &mut s);
                s.push('\n');
                self.push(&s);
            }
            7..=11 => {
                let (lang, name, tpl) = self.rng.pick(CODE);
                let code = self.fill(tpl, false);
                let s = self.sentence();
                self.push(&format!(
                    "{s} A minimal sketch in {name}:\n\n```{lang}\n{code}```\n\n"
                ));
            }
            12..=14 => self.table(),
            17..=21 => {
                let kind = ["NOTE", "TIP", "WARNING", "IMPORTANT", "CAUTION"]
                    [self.rng.weighted(&[35, 30, 25, 5, 5])];
                let mut body: Vec<String> =
                    (0..self.rng.range(1, 3)).map(|_| self.sentence()).collect();
                if Self::due(&self.link_marks, self.words + 40) {
                    self.link_marks.pop();
                    let l = self.cross_link();
                    body.push(format!("The details are in {l}."));
                }
                self.push(&format!("> [!{kind}]\n> {}\n\n", body.join(" ")));
            }
            22..=23 => {
                let body: Vec<String> =
                    (0..self.rng.range(1, 3)).map(|_| self.sentence()).collect();
                let who = self.rng.pick(&[
                    "a staff engineer, in a design review",
                    "an on-call runbook",
                    "a postmortem summary",
                    "an interviewer's rubric",
                ]);
                self.push(&format!("> {}\n>\n> — {who}\n\n", body.join(" ")));
            }
            24..=25 => {
                let m = self.rng.pick(&self.v.math_display);
                let s = self.sentence();
                self.push(&format!("{s} In symbols:\n\n$$\n{m}\n$$\n\n"));
            }
            26..=27 => {
                let mut s = format!(
                    "A checklist for the {} tier:\n\n",
                    self.rng.pick(&self.v.nouns)
                );
                for _ in 0..self.rng.range(3, 5) {
                    let done = if self.rng.chance(40) { "x" } else { " " };
                    let t = self.rng.pick(&self.v.items);
                    let _ = writeln!(s, "- [{done}] {}", sentence_case(self.fill(t, false)));
                }
                s.push('\n');
                self.push(&s);
            }
            28..=29 if !self.images.is_empty() => {
                let img = &self.images[self.rng.below(self.images.len())];
                let s = format!(
                    "![{}](../images/{} \"{}\")\n\n",
                    img.alt, img.file, img.caption
                );
                self.figures += 1;
                self.push(&s);
            }
            30..=33 => {
                let lead = format!(
                    "**{} {}.**",
                    cap_first(self.rng.pick(&self.v.adjs)),
                    plural(self.rng.pick(&self.v.nouns))
                );
                self.paragraph(Some(lead));
            }
            _ => self.paragraph(None),
        }
    }

    fn table(&mut self) {
        let mut s = self.fill("How the options compare for a @A @N:\n\n", false);
        let rows = self.rng.range(3, 6);
        let (head, row) = match self.rng.below(3) {
            0 => (
                "| Option | p99 latency | Throughput | Best for |\n|:---|---:|---:|:---|\n",
                "| @T | @U | @B req/s | @A @Ns |",
            ),
            1 => (
                "| Component | Responsibility | Scales with | Notes |\n|:---|:---|:---:|:---:|\n",
                "| `@F` | @V @Ns | @Ns | keep it @A |",
            ),
            _ => (
                "| Metric | Target | Alert at | Owner |\n|:---|---:|---:|:---:|\n",
                "| @N lag | @U | @U | @N team |",
            ),
        };
        s.push_str(head);
        for _ in 0..rows {
            let r = self.fill(row, false);
            let _ = writeln!(s, "{r}");
        }
        s.push('\n');
        self.push(&s);
    }
}

struct ModuleOut {
    text: String,
    words: usize,
    links: usize,
    self_links: usize,
    figures: usize,
}

/// Writes module `i`, aiming at `target` words for the whole file, with
/// exactly `quota` cross-module links.
fn write_module(
    seed: u64,
    v: &Vocab,
    plans: &[Module],
    images: &[Image],
    i: usize,
    target: usize,
    quota: usize,
) -> ModuleOut {
    let m = &plans[i];
    let mut rng = Rng::new(seed, 1000 + i as u64);
    let next_n = quota.min(rng.range(2, 4));
    let tail = next_n * 14 + 60;
    let body = target.saturating_sub(tail).max(50);
    let mut link_marks: Vec<usize> = (0..quota - next_n).map(|_| rng.below(body)).collect();
    link_marks.sort_unstable_by(|a, b| b.cmp(a));
    let mut self_marks: Vec<usize> = (0..rng.range(1, 3)).map(|_| rng.below(body)).collect();
    self_marks.sort_unstable_by(|a, b| b.cmp(a));
    let mut w = Writer {
        rng,
        v,
        plans,
        images,
        me: i,
        out: String::with_capacity(target * 8),
        words: 0,
        notes: Vec::new(),
        link_marks,
        self_marks,
        links: 0,
        self_links: 0,
        figures: 0,
    };
    let front = format!(
        "---\ntitle: \"{}\"\nsummary: \"{}\"\ndifficulty: {}\nminutes: {}\ntags: [{}]\n---\n\n{}\n\n",
        m.title,
        m.summary,
        m.difficulty,
        m.minutes,
        m.tags.join(", "),
        m.summary
    );
    w.push(&front);
    w.paragraph(None);
    // One slot of text per heading, except the closing "Where to Go Next".
    let slots = m.headings.len() - 1;
    let weights: Vec<usize> = (0..slots).map(|_| w.rng.range(6, 14)).collect();
    let wsum: usize = weights.iter().sum();
    let mut acc = 0;
    for (k, h) in m.headings[..slots].iter().enumerate() {
        acc += weights[k];
        let goal = body * acc / wsum;
        let mut s = format!("{} {}", "#".repeat(h.level), h.text);
        if let Some(id) = &h.id {
            let _ = write!(s, " {{#{id}}}");
        }
        s.push_str("\n\n");
        w.push(&s);
        w.paragraph(None);
        while w.words < goal {
            w.block();
        }
    }
    let last = &m.headings[slots];
    let mut s = format!(
        "## {} {{#{}}}\n\n",
        last.text,
        last.id.as_deref().unwrap_or_default()
    );
    for _ in 0..next_n + w.link_marks.len() {
        let l = w.cross_link();
        let why = w.fill("the @A @N in more depth", false);
        let _ = writeln!(s, "- {l}: {why}");
    }
    w.link_marks.clear();
    s.push('\n');
    for (label, def) in std::mem::take(&mut w.notes) {
        let _ = writeln!(s, "[^{label}]: {def}");
    }
    w.push(&s);
    let text = w.out.trim_end().to_string() + "\n";
    ModuleOut {
        words: count_words(&text),
        text,
        links: w.links,
        self_links: w.self_links,
        figures: w.figures,
    }
}

fn part_text(rng: &mut Rng, v: &Vocab, plans: &[Module], p: usize) -> String {
    let (_, title, count) = PARTS[p];
    let mods: Vec<usize> = (0..plans.len()).filter(|&i| plans[i].part == p).collect();
    let (first, last) = (&plans[mods[0]], &plans[mods[mods.len() - 1]]);
    let summary = if count == 1 {
        format!("One module on {}.", title.to_lowercase())
    } else {
        let topic = |m: &Module| {
            m.title
                .split([':', '('])
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        };
        format!("{count} modules, from {} to {}.", topic(first), topic(last))
    };
    let minutes: usize = mods.iter().map(|&i| plans[i].minutes).sum();
    let mut s = format!("---\ntitle: \"{title}\"\nsummary: \"{summary}\"\n---\n\n{summary}\n\n");
    let tags: Vec<&'static str> = mods
        .iter()
        .flat_map(|&i| plans[i].tags.iter().copied())
        .collect();
    for k in 0..3 {
        let ss: Vec<String> = (0..rng.range(3, 5))
            .map(|_| {
                let t = rng.pick(&v.prose);
                sentence_case(fill(rng, v, &tags, t, k > 0))
            })
            .collect();
        let _ = write!(s, "{}\n\n", ss.join(" "));
    }
    let what = if count == 1 {
        "The module takes".to_string()
    } else {
        format!("The {count} modules take")
    };
    let _ = write!(s, "{what} about {minutes} minutes to read:\n\n");
    for &i in &mods {
        let m = &plans[i];
        let _ = writeln!(
            s,
            "- [{}]({}) ({}, {} min)",
            m.title, m.file, m.difficulty, m.minutes
        );
    }
    s.push_str("\nRead them in order the first time; each one leans on the ones before it.\n");
    s
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

const PALETTE: [[u8; 3]; 6] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
];

fn rect(img: &mut image::RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            img.put_pixel(x as u32, y as u32, image::Rgb(c));
        }
    }
}

fn line(img: &mut image::RgbImage, (x0, y0): (i64, i64), (x1, y1): (i64, i64), t: i64, c: [u8; 3]) {
    let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
    for i in 0..=steps {
        let (x, y) = (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps);
        rect(img, x - t / 2, y - t / 2, x + t / 2 + 1, y + t / 2 + 1, c);
    }
}

/// A chart as PNG bytes: 0 bars, 1 lines, 2 heat map.
fn png(rng: &mut Rng, w: u32, h: u32, kind: usize) -> Result<Vec<u8>, String> {
    let mut img = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    let (w, h) = (w as i64, h as i64);
    let m = w.min(h) / 10;
    let (l, r, t, b) = (m, w - m / 2, m / 2, h - m);
    for k in 0..=4 {
        let y = t + (b - t) * k / 4;
        rect(&mut img, l, y, r, y + 1, [225, 225, 225]);
    }
    match kind {
        0 => {
            let n = rng.range(4, 10) as i64;
            let slot = (r - l) / n;
            for i in 0..n {
                let hg = (b - t) * rng.range(10, 95) as i64 / 100;
                rect(
                    &mut img,
                    l + slot * i + slot / 6,
                    b - hg,
                    l + slot * (i + 1) - slot / 6,
                    b,
                    PALETTE[i as usize % 6],
                );
            }
        }
        1 => {
            let pts = rng.range(8, 16) as i64;
            for &colour in &PALETTE[..rng.range(2, 3)] {
                let mut val = rng.range(20, 80) as i64;
                let mut prev = None;
                for i in 0..pts {
                    val = (val + rng.range(0, 30) as i64 - 15).clamp(5, 95);
                    let p = (l + (r - l) * i / (pts - 1), b - (b - t) * val / 100);
                    if let Some(q) = prev {
                        line(&mut img, q, p, w / 400 + 2, colour);
                    }
                    prev = Some(p);
                }
            }
        }
        _ => {
            let (cols, rows) = (rng.range(12, 24) as i64, rng.range(6, 12) as i64);
            for y in 0..rows {
                for x in 0..cols {
                    let v = rng.below(256) as u8;
                    let c = [255 - v / 2 - v / 4, 255 - v / 2, 255 - v / 8];
                    let (x0, x1) = (l + (r - l) * x / cols + 1, l + (r - l) * (x + 1) / cols - 1);
                    let (y0, y1) = (t + (b - t) * y / rows + 1, t + (b - t) * (y + 1) / rows - 1);
                    rect(&mut img, x0, y0, x1, y1, c);
                }
            }
        }
    }
    rect(&mut img, l, t, l + 2, b, [60, 60, 60]);
    rect(&mut img, l, b - 1, r, b + 1, [60, 60, 60]);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// An SVG diagram: 0 pipeline, 1 hash ring, 2 layered architecture, 3 sequence.
fn svg(rng: &mut Rng, v: &Vocab, w: usize, h: usize, kind: usize) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n"
    );
    let label = |rng: &mut Rng| {
        if rng.chance(50) {
            rng.pick(&v.tags).to_string()
        } else {
            cap_first(rng.pick(&v.nouns))
        }
    };
    let boxed = |s: &mut String,
                 x: usize,
                 y: usize,
                 bw: usize,
                 bh: usize,
                 text: &str,
                 c: [u8; 3]| {
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{bw}\" height=\"{bh}\" rx=\"6\" fill=\"rgb({},{},{})\" fill-opacity=\"0.15\" stroke=\"#333\" stroke-width=\"2\"/>\n<text x=\"{}\" y=\"{}\" font-size=\"15\" text-anchor=\"middle\">{text}</text>",
            c[0],
            c[1],
            c[2],
            x + bw / 2,
            y + bh / 2 + 5
        );
    };
    let arrow = |s: &mut String, x1: usize, y1: usize, x2: usize, y2: usize| {
        let _ = writeln!(
            s,
            "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#333\" stroke-width=\"2\" marker-end=\"url(#arrow)\"/>"
        );
    };
    match kind {
        0 => {
            let n = rng.range(3, 5);
            let slot = (w - 40) / n;
            for i in 0..n {
                let x = 20 + slot * i;
                boxed(
                    &mut s,
                    x + 10,
                    h / 2 - 35,
                    slot - 40,
                    70,
                    &label(rng),
                    PALETTE[i % 6],
                );
                if i + 1 < n {
                    arrow(&mut s, x + slot - 30, h / 2, x + slot + 10, h / 2);
                }
            }
        }
        1 => {
            let (cx, cy, rad) = (w as f64 / 2.0, h as f64 / 2.0, (w.min(h) / 2 - 80) as f64);
            let _ = writeln!(
                s,
                "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{rad}\" fill=\"none\" stroke=\"#333\" stroke-width=\"3\"/>"
            );
            let n = rng.range(5, 9);
            for i in 0..n {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                let c = PALETTE[i % 6];
                let _ = writeln!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"14\" fill=\"rgb({},{},{})\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"middle\">node {}</text>",
                    cx + rad * a.cos(),
                    cy + rad * a.sin(),
                    c[0],
                    c[1],
                    c[2],
                    cx + (rad + 45.0) * a.cos(),
                    cy + (rad + 45.0) * a.sin() + 5.0,
                    i + 1
                );
            }
        }
        2 => {
            for (ri, name) in ["Clients", "Services", "Storage"].iter().enumerate() {
                let y = 30 + ri * (h - 60) / 3;
                let _ = writeln!(
                    s,
                    "<text x=\"20\" y=\"{}\" font-size=\"16\" font-weight=\"bold\">{name}</text>",
                    y + 40
                );
                let n = rng.range(2, 4);
                let slot = (w - 160) / n;
                for i in 0..n {
                    boxed(
                        &mut s,
                        140 + slot * i,
                        y + 10,
                        slot - 30,
                        55,
                        &label(rng),
                        PALETTE[(ri + i) % 6],
                    );
                    if ri < 2 {
                        let x = 140 + slot * i + (slot - 30) / 2;
                        arrow(&mut s, x, y + 65, x, y + (h - 60) / 3 + 8);
                    }
                }
            }
        }
        _ => {
            let n = rng.range(3, 4);
            let slot = (w - 40) / n;
            for i in 0..n {
                let x = 20 + slot * i + slot / 2;
                boxed(&mut s, x - 70, 20, 140, 44, &label(rng), PALETTE[i % 6]);
                let _ = writeln!(
                    s,
                    "<line x1=\"{x}\" y1=\"64\" x2=\"{x}\" y2=\"{}\" stroke=\"#999\" stroke-dasharray=\"6 4\"/>",
                    h - 20
                );
            }
            let steps = rng.range(4, 7);
            for k in 0..steps {
                let a = rng.below(n);
                let b = (a + 1 + rng.below(n - 1)) % n;
                let y = 95 + k * (h - 130) / steps;
                let (xa, xb) = (20 + slot * a + slot / 2, 20 + slot * b + slot / 2);
                arrow(&mut s, xa, y, xb, y);
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"middle\">{} {}</text>",
                    (xa + xb) / 2,
                    y - 6,
                    rng.pick(&v.verbs),
                    rng.pick(&v.nouns)
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// 8 PNG charts (600 to 2400 px wide) and 4 SVG diagrams in DIR/images.
fn make_images(out: &Path, seed: u64, v: &Vocab) -> Result<Vec<Image>, String> {
    let mut rng = Rng::new(seed, 1);
    let mut images = Vec::new();
    let pngs: [(u32, u32, usize); 8] = [
        (600, 400, 0),
        (800, 500, 1),
        (960, 540, 2),
        (1200, 675, 0),
        (1400, 800, 1),
        (2400, 1350, 2),
        (1000, 1000, 0),
        (1600, 900, 1),
    ];
    for (k, &(w, h, kind)) in pngs.iter().enumerate() {
        let file = format!(
            "{}-{:02}.png",
            ["bar-chart", "line-chart", "heat-map"][kind],
            k + 1
        );
        write(&out.join("images").join(&file), &png(&mut rng, w, h, kind)?)?;
        let (noun, adj) = (rng.pick(&v.nouns), rng.pick(&v.adjs));
        let (alt, caption) = match kind {
            0 => (
                format!("Bar chart of p99 latency across {adj} {noun} tiers"),
                format!("Synthetic data: p99 latency per {noun} tier"),
            ),
            1 => (
                format!("Line chart of {noun} throughput over a day for a {adj} deployment"),
                format!("Synthetic data: {noun} throughput over 24 hours"),
            ),
            _ => (
                format!("Heat map of {noun} load by hour and shard"),
                format!("Synthetic data: {noun} load per shard and hour"),
            ),
        };
        images.push(Image {
            file,
            alt: fix_articles(&alt),
            caption,
        });
    }
    let svgs: [(usize, usize, usize); 4] =
        [(720, 240, 0), (720, 720, 1), (800, 480, 2), (760, 420, 3)];
    for (k, &(w, h, kind)) in svgs.iter().enumerate() {
        let file = format!(
            "{}-{:02}.svg",
            ["pipeline", "hash-ring", "architecture", "sequence"][kind],
            k + 9
        );
        write(
            &out.join("images").join(&file),
            svg(&mut rng, v, w, h, kind).as_bytes(),
        )?;
        let noun = rng.pick(&v.nouns);
        let (alt, caption) = match kind {
            0 => (
                format!("Pipeline diagram: one box per {noun} stage, joined by arrows"),
                format!("The {noun} pipeline, stage by stage"),
            ),
            1 => (
                "Hash ring diagram with nodes placed around a circle".to_string(),
                format!("Nodes on a consistent-hashing ring, keyed by {noun}"),
            ),
            2 => (
                "Layered architecture: clients, services and storage, with arrows between layers"
                    .to_string(),
                format!("Three tiers of the {noun} service"),
            ),
            _ => (
                format!("Sequence diagram of messages between the components handling a {noun}"),
                format!("One {noun} request, message by message"),
            ),
        };
        images.push(Image {
            file,
            alt: fix_articles(&alt),
            caption,
        });
    }
    Ok(images)
}

struct Args {
    out: PathBuf,
    seed: u64,
    words: usize,
    force: bool,
}

const USAGE: &str = "usage: quire-synth --out DIR [--seed N] [--words N] [--force]

Writes a deterministic synthetic curriculum to DIR: book.toml, images/, and the
12 part folders with 159 modules. Same seed and arguments give identical bytes.

  --out DIR    folder to create (must be missing or empty)
  --seed N     generator seed (default 1)
  --words N    book size in words (default 727000); `wc -w` over all .md files
               lands 1.5% above N, Quire's count (text only) a few % below
  --force      write into a non-empty DIR; first removes DIR/book.toml, DIR/images
               and the 12 part folders, leaving anything else alone
  -h, --help   print this help";

enum Cli {
    Run(Args),
    Help,
}

fn parse_args() -> Result<Cli, String> {
    let mut out = None;
    let (mut seed, mut words, mut force) = (1u64, 727_000usize, false);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n\n{USAGE}"));
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--seed" => {
                seed = value("--seed")?
                    .parse()
                    .map_err(|_| "--seed takes a whole number".to_string())?
            }
            "--words" => {
                words = value("--words")?
                    .parse()
                    .map_err(|_| "--words takes a whole number".to_string())?
            }
            "--force" => force = true,
            "-h" | "--help" => return Ok(Cli::Help),
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    let out = out.ok_or_else(|| format!("--out is required\n\n{USAGE}"))?;
    Ok(Cli::Run(Args {
        out,
        seed,
        words,
        force,
    }))
}

/// Creates DIR, or with --force clears what an earlier run wrote there.
fn prepare(args: &Args) -> Result<(), String> {
    let dir = &args.out;
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    if !dir.exists() {
        return std::fs::create_dir_all(dir).map_err(|e| err(dir, e));
    }
    if std::fs::read_dir(dir)
        .map_err(|e| err(dir, e))?
        .next()
        .is_none()
    {
        return Ok(());
    }
    if !args.force {
        return Err(format!(
            "{} exists and is not empty (use --force to overwrite it)",
            dir.display()
        ));
    }
    let book = dir.join("book.toml");
    if book.is_file() {
        std::fs::remove_file(&book).map_err(|e| err(&book, e))?;
    }
    let owned = PARTS
        .iter()
        .enumerate()
        .map(|(p, part)| format!("{p:02}-{}", part.0));
    for name in owned.chain(["images".to_string()]) {
        let d = dir.join(name);
        if d.is_dir() {
            std::fs::remove_dir_all(&d).map_err(|e| err(&d, e))?;
        }
    }
    Ok(())
}

fn run(args: Args) -> Result<String, String> {
    prepare(&args)?;
    let v = Vocab::new();
    let seed = args.seed;
    let plans = plan(&mut Rng::new(seed, 0), &v, args.words);
    let images = make_images(&args.out, seed, &v)?;

    let mut ids = Rng::new(seed, 3);
    let (a, b) = (ids.next(), ids.next());
    let uuid = format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        0x8000 | ((b >> 48) & 0x3FFF),
        b & 0xFFFF_FFFF_FFFF
    );
    let book = format!(
        "title = \"Systems at Scale: A Synthetic Curriculum\"\nsubtitle = \"Generated by quire-synth, seed {seed}\"\nauthors = [\"Ada Example\", \"Quire Synth\"]\nlanguage = \"en\"\nidentifier = \"urn:uuid:{uuid}\"\nversion = \"1.0.{seed}\"\ncopyright = \"Generated text (seed {seed}); no rights reserved.\"\ndate = \"2026-01-01\"\n"
    );
    write(&args.out.join("book.toml"), book.as_bytes())?;

    let mut total_words = 0;
    let mut part_rng = Rng::new(seed, 2);
    for (p, part) in PARTS.iter().enumerate() {
        let text = part_text(&mut part_rng, &v, &plans, p);
        total_words += count_words(&text);
        write(
            &args.out.join(format!("{p:02}-{}", part.0)).join("_part.md"),
            text.as_bytes(),
        )?;
    }

    // Cross-module links: ~2,580 at full size, shared out by module length
    // (largest remainder, so the total is exact).
    let total_links = (REAL_LINKS * args.words + REAL_WORDS / 2) / REAL_WORDS;
    let wsum: usize = plans.iter().map(|m| m.weight).sum();
    let mut quota: Vec<usize> = plans
        .iter()
        .map(|m| total_links * m.weight / wsum)
        .collect();
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(total_links * plans[i].weight % wsum), i));
    let short = total_links - quota.iter().sum::<usize>();
    for &i in order.iter().take(short) {
        quota[i] += 1;
    }

    // Word targets are cumulative, so one module's overshoot shortens the next.
    // `wc -w` also counts front matter, code, math and markup, which Quire's
    // word count skips (about 5 % of the tokens here). Aiming 1.5 % above N by
    // `wc -w` puts it within 2 % of N and Quire's count within 4 % below.
    let wc_target = args.words + args.words * 15 / 1000;
    let module_words = wc_target.saturating_sub(total_words);
    let (mut links, mut self_links, mut figures, mut cum, mut written) = (0, 0, 0, 0, 0);
    for i in 0..plans.len() {
        cum += plans[i].weight;
        let target = (module_words * cum / wsum).saturating_sub(written);
        let m = write_module(seed, &v, &plans, &images, i, target, quota[i]);
        written += m.words;
        links += m.links;
        self_links += m.self_links;
        figures += m.figures;
        let dir = format!("{:02}-{}", plans[i].part, PARTS[plans[i].part].0);
        write(&args.out.join(dir).join(&plans[i].file), m.text.as_bytes())?;
    }
    total_words += written;
    Ok(format!(
        "quire-synth: {} parts, {} modules, {} words, {} cross-module links (+{} in-module, +{} in part overviews), {} images ({} figures) in {}",
        PARTS.len(),
        plans.len(),
        commas(total_words),
        commas(links),
        self_links,
        plans.len(),
        images.len(),
        figures,
        args.out.display()
    ))
}

fn main() -> ExitCode {
    match parse_args() {
        Ok(Cli::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Cli::Run(args)) => match run(args) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("quire-synth: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("quire-synth: {e}");
            ExitCode::from(2)
        }
    }
}
