//! Word lists for names, descriptions and tags, and the unique-name helper.

#[rustfmt::skip]
pub const AREAS: &[&str] = &[
    "payments", "billing", "checkout", "orders", "inventory", "shipping", "catalog", "search",
    "pricing", "identity", "auth", "accounts", "profile", "notifications", "messaging",
    "analytics", "reporting", "marketing", "loyalty", "reviews", "recommendations", "fraud",
    "risk", "compliance", "ledger", "invoicing", "subscriptions", "onboarding", "support",
    "content", "media", "storefront", "warehouse", "fulfillment", "logistics", "partner", "vendor",
    "supplier", "customer", "employee", "payroll", "scheduling", "booking", "travel", "maps",
    "telemetry", "audit", "tracking",
];

#[rustfmt::skip]
pub const COMPONENT_NOUNS: &[&str] = &[
    "ledger", "processor", "engine", "gateway", "router", "scheduler", "worker", "indexer",
    "aggregator", "exporter", "importer", "sync", "adapter", "broker", "bridge", "cache",
    "collector", "composer", "dispatcher", "emitter", "evaluator", "fetcher", "handler",
    "listener", "manager", "monitor", "notifier", "orchestrator", "parser", "planner", "publisher",
    "reconciler", "registry", "renderer", "resolver", "scanner", "store", "streamer", "tracker",
    "transformer", "validator", "web", "ui", "portal", "frontend", "dashboard", "sdk", "client",
];

#[rustfmt::skip]
pub const SYSTEM_NOUNS: &[&str] = &[
    "platform", "suite", "hub", "core", "services", "stack", "engine", "network",
];

#[rustfmt::skip]
pub const DOMAINS: &[&str] = &[
    "commerce", "finance", "identity", "logistics", "marketing", "data", "platform", "security",
    "customer-experience", "operations", "developer-productivity", "people", "partners", "media",
    "mobile", "risk", "payments", "growth", "infrastructure", "analytics", "support", "sales",
    "legal", "content",
];

#[rustfmt::skip]
pub const TEAM_NOUNS: &[&str] = &[
    "team", "squad", "core", "platform", "devs", "sre", "data", "web", "mobile", "infra", "qa",
    "ops", "ml", "growth", "enablement", "guild",
];

#[rustfmt::skip]
pub const REPO_NOUNS: &[&str] = &[
    "monorepo", "services", "apps", "platform", "backend", "catalog",
];

pub const TEMPLATES: &[(&str, &str, &str)] = &[
    ("nodejs-service", "Node.js Service", "nodejs"),
    ("spring-boot-service", "Spring Boot Service", "java"),
    ("go-grpc-service", "Go gRPC Service", "go"),
    ("python-fastapi-service", "Python FastAPI Service", "python"),
    ("react-frontend", "React Frontend", "react"),
    ("nextjs-website", "Next.js Website", "typescript"),
    ("kotlin-android-app", "Kotlin Android App", "kotlin"),
    ("swift-ios-app", "Swift iOS App", "swift"),
    ("terraform-module", "Terraform Module", "terraform"),
    ("helm-chart", "Helm Chart", "kubernetes"),
    ("kafka-topic", "Kafka Topic", "kafka"),
    ("postgres-database", "PostgreSQL Database", "postgres"),
    ("docs-site", "Documentation Site", "techdocs"),
    ("python-library", "Python Library", "python"),
    ("rust-cli", "Rust CLI", "rust"),
    ("data-pipeline", "Data Pipeline", "airflow"),
];

#[rustfmt::skip]
pub const FIRST_NAMES: &[&str] = &[
    "olivia", "liam", "emma", "noah", "amelia", "oliver", "ava", "elijah", "sophia", "james",
    "isabella", "william", "mia", "benjamin", "charlotte", "lucas", "harper", "henry", "evelyn",
    "theodore", "luna", "jack", "camila", "levi", "gianna", "alexander", "ella", "jackson",
    "elizabeth", "mateo", "sofia", "daniel", "emily", "michael", "avery", "mason", "mila",
    "sebastian", "aria", "ethan", "scarlett", "logan", "penelope", "owen", "layla", "samuel",
    "chloe", "jacob", "victoria", "asher", "madison", "aiden", "eleanor", "john", "grace",
    "joseph", "nora", "wyatt", "riley", "david", "zoey", "leo", "hannah", "luke",
];

#[rustfmt::skip]
pub const LAST_NAMES: &[&str] = &[
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor",
    "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez",
    "clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott",
    "torres", "nguyen", "hill", "flores", "green", "adams", "nelson", "baker", "hall", "rivera",
    "campbell", "mitchell", "carter", "roberts", "kim", "patel", "schmidt", "muller", "rossi",
    "silva", "kowalski", "novak", "jensen", "larsen", "tanaka", "sato", "chen", "wang",
];

#[rustfmt::skip]
pub const TECH_TAGS: &[&str] = &[
    "java", "kotlin", "go", "python", "typescript", "nodejs", "react", "rust", "scala", "ruby",
    "grpc", "graphql", "kafka", "postgres", "redis", "spring-boot", "docker", "kubernetes",
    "terraform", "aws", "gcp", "pci", "gdpr", "tier-1", "tier-2", "tier-3", "internal", "public",
];

#[rustfmt::skip]
pub const PURPOSES: &[&str] = &[
    "handles the lifecycle of", "exposes read and write access to", "keeps an audit trail of",
    "computes and caches", "validates and enriches", "publishes change events for",
    "reconciles upstream data about", "serves the user interface for",
    "schedules background jobs for", "aggregates metrics about",
];

#[rustfmt::skip]
pub const OBJECTS: &[&str] = &[
    "customer records", "payment transactions", "order state", "product listings",
    "shipment updates", "invoices", "user sessions", "feature flags", "inventory levels",
    "price quotes", "support tickets", "partner contracts",
];

/// A unique name for item `k` among items named from `bases` base names: every
/// base once (in a scrambled order), then every base again with `-2`, `-3`, ...
/// The rotation `offset` (derived from the seed) makes different seeds name
/// things differently.
pub fn unique_name(
    k: usize,
    offset: usize,
    bases: usize,
    base: impl Fn(usize) -> String,
) -> String {
    let round = k / bases;
    let stride = coprime_stride(bases);
    let i = ((k % bases) * stride + offset) % bases;
    let name = base(i);
    if round == 0 {
        name
    } else {
        format!("{name}-{}", round + 1)
    }
}

/// A step that visits every residue modulo `n` (coprime with it).
fn coprime_stride(n: usize) -> usize {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    [1009usize, 1013, 1019, 1021, 7, 5, 1]
        .into_iter()
        .find(|&s| gcd(s, n) == 1)
        .unwrap_or(1)
}

/// Two-word combination `i` of `a` × `b`, joined with `sep`.
pub fn combo(a: &[&str], b: &[&str], i: usize, sep: &str) -> String {
    format!("{}{sep}{}", a[i % a.len()], b[(i / a.len()) % b.len()])
}

/// "payments-ledger" -> "Payments Ledger".
pub fn title_case(name: &str) -> String {
    name.split(['-', '.', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
