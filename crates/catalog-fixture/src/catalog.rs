//! The generated catalog as a model: names, refs, uids and the relation
//! declarations of every entity, all derived from the seed and the entity index
//! alone (any entity can be produced independently, in any order).

use crate::kinds::{Kind, KindCounts};
use crate::rng::Rng;
use crate::words::{self, unique_name};

/// GitHub organisation the generated repositories and org data live in.
pub const ORG: &str = "acme-corp";
/// Children per group in the org tree.
const FAN_OUT: usize = 6;
/// How many locations are registered by hand (the `locations` table); the
/// others are discovered by a GitHub entity provider.
const REGISTERED_LOCATIONS: usize = 4;

/// A relation declared by an entity's spec; the processor emits it together
/// with its inverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    OwnedBy,
    PartOf,
    ProvidesApi,
    ConsumesApi,
    DependsOn,
    MemberOf,
    ChildOf,
    ParentOf,
}

impl Rel {
    /// `(type, inverse type)` as stored in the `relations` table.
    pub fn types(self) -> (&'static str, &'static str) {
        match self {
            Rel::OwnedBy => ("ownedBy", "ownerOf"),
            Rel::PartOf => ("partOf", "hasPart"),
            Rel::ProvidesApi => ("providesApi", "apiProvidedBy"),
            Rel::ConsumesApi => ("consumesApi", "apiConsumedBy"),
            Rel::DependsOn => ("dependsOn", "dependencyOf"),
            Rel::MemberOf => ("memberOf", "hasMember"),
            Rel::ChildOf => ("childOf", "parentOf"),
            Rel::ParentOf => ("parentOf", "childOf"),
        }
    }
}

/// The target of a declared relation: a generated entity (global index), or a
/// ref to an entity that does not exist (only when the catalog is too small to
/// have an owner group at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Entity(usize),
    Missing(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decl {
    pub rel: Rel,
    pub target: Target,
}

// Stream labels.
const S_NAME: u64 = 1;
const S_UID: u64 = 2;
const S_LINKS: u64 = 3;
const S_OWNER: u64 = 4;
const S_SYSTEM: u64 = 5;

#[derive(Debug, Clone)]
pub struct Catalog {
    pub seed: u64,
    pub counts: KindCounts,
    name_offset: [usize; 9],
}

impl Catalog {
    pub fn new(entities: usize, seed: u64) -> Self {
        let mut name_offset = [0usize; 9];
        for (i, kind) in Kind::ALL.iter().enumerate() {
            name_offset[i] = Rng::stream(seed, &[S_NAME, *kind as u64]).next_u64() as usize;
        }
        Catalog {
            seed,
            counts: KindCounts::new(entities),
            name_offset,
        }
    }

    pub fn total(&self) -> usize {
        self.counts.total()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.counts.count(kind)
    }

    /// A stream for entity `g` and purpose `label`.
    pub fn rng(&self, g: usize, label: u64) -> Rng {
        Rng::stream(self.seed, &[label, g as u64])
    }

    /// `metadata.uid`, which is also `refresh_state.entity_id`.
    pub fn uid(&self, g: usize) -> String {
        self.rng(g, S_UID).uuid_v4()
    }

    pub fn name(&self, kind: Kind, k: usize) -> String {
        let off = self.name_offset[kind as usize];
        let a = words::AREAS;
        match kind {
            Kind::Location => format!(
                "generated-{}",
                sha1_hex(&format!("url:{}", self.location_target(k)))
            ),
            Kind::Domain => unique_name(k, off, words::DOMAINS.len(), |i| {
                words::DOMAINS[i].to_string()
            }),
            Kind::System => unique_name(k, off, a.len() * words::SYSTEM_NOUNS.len(), |i| {
                words::combo(a, words::SYSTEM_NOUNS, i, "-")
            }),
            Kind::Component => unique_name(k, off, a.len() * words::COMPONENT_NOUNS.len(), |i| {
                words::combo(a, words::COMPONENT_NOUNS, i, "-")
            }),
            Kind::Api => {
                let c = self.count(Kind::Component).max(1);
                let base = self.name(Kind::Component, k % c);
                match k / c {
                    0 => format!("{base}-api"),
                    v => format!("{base}-api-v{}", v + 1),
                }
            }
            Kind::Resource => {
                let c = self.count(Kind::Component).max(1);
                let base = self.name(Kind::Component, k % c);
                let (suffix, _) = RESOURCE_TYPES[(k / c) % RESOURCE_TYPES.len()];
                match k / (c * RESOURCE_TYPES.len()) {
                    0 => format!("{base}-{suffix}"),
                    v => format!("{base}-{suffix}-{}", v + 1),
                }
            }
            Kind::Template => unique_name(k, off, words::TEMPLATES.len(), |i| {
                words::TEMPLATES[i].0.to_string()
            }),
            Kind::Group if k == 0 => "engineering".to_string(),
            Kind::Group => unique_name(k - 1, off, a.len() * words::TEAM_NOUNS.len(), |i| {
                words::combo(a, words::TEAM_NOUNS, i, "-")
            }),
            // "olivia.martin", then "olivia.martin2" (no dash: user-name style).
            Kind::User => unique_name(
                k,
                off,
                words::FIRST_NAMES.len() * words::LAST_NAMES.len(),
                |i| words::combo(words::FIRST_NAMES, words::LAST_NAMES, i, "."),
            )
            .replace('-', ""),
        }
    }

    /// Full entity ref, e.g. `component:default/payments-ledger`.
    pub fn entity_ref(&self, g: usize) -> String {
        let (kind, k) = self.counts.locate(g);
        format!("{}:default/{}", kind.lower(), self.name(kind, k))
    }

    /// Repository of location `l`.
    pub fn location_repo(&self, l: usize) -> String {
        let off = self.name_offset[Kind::Location as usize];
        unique_name(l, off, words::AREAS.len() * words::REPO_NOUNS.len(), |i| {
            words::combo(words::AREAS, words::REPO_NOUNS, i, "-")
        })
    }

    /// `spec.target` of location `l`: every catalog file of one repository.
    pub fn location_target(&self, l: usize) -> String {
        format!(
            "https://github.com/{ORG}/{}/blob/main/**/catalog-info.yaml",
            self.location_repo(l)
        )
    }

    /// Is location `l` registered by hand (in the `locations` table)?
    pub fn location_is_registered(&self, l: usize) -> bool {
        l < REGISTERED_LOCATIONS
    }

    pub fn registered_locations(&self) -> usize {
        self.count(Kind::Location).min(REGISTERED_LOCATIONS)
    }

    /// The location (index among locations) whose repository holds software entity `s`.
    pub fn location_of_software(&self, s: usize) -> Option<usize> {
        let l = self.count(Kind::Location);
        (l > 0).then(|| s % l)
    }

    /// Depth of group `k` in the org tree (0 for the root).
    pub fn group_depth(&self, mut k: usize) -> usize {
        let mut depth = 0;
        while k > 0 {
            k = (k - 1) / FAN_OUT;
            depth += 1;
        }
        depth
    }

    pub fn group_parent(&self, k: usize) -> Option<usize> {
        (k > 0).then(|| (k - 1) / FAN_OUT)
    }

    pub fn group_children(&self, k: usize) -> impl Iterator<Item = usize> {
        let groups = self.count(Kind::Group);
        (k * FAN_OUT + 1..k * FAN_OUT + 1 + FAN_OUT).filter(move |&c| c < groups)
    }

    /// A team (a group below the departments, if there are any) picked by `rng`.
    fn pick_team(&self, rng: &mut Rng) -> Option<usize> {
        let groups = self.count(Kind::Group);
        let first = if groups > 1 + FAN_OUT { 1 + FAN_OUT } else { 0 };
        (groups > 0).then(|| first + rng.below(groups - first))
    }

    /// A department (depth-1 group, or the root) picked by `rng`.
    fn pick_department(&self, rng: &mut Rng) -> Option<usize> {
        let groups = self.count(Kind::Group);
        match groups {
            0 => None,
            1 => Some(0),
            _ => Some(1 + rng.below((groups - 1).min(FAN_OUT))),
        }
    }

    fn group_target(&self, k: Option<usize>) -> Target {
        match k {
            Some(k) => Target::Entity(self.counts.global(Kind::Group, k)),
            None => Target::Missing("group:default/guests"),
        }
    }

    pub fn system_of_component(&self, k: usize) -> Option<usize> {
        let systems = self.count(Kind::System);
        let mut rng = self.rng(self.counts.global(Kind::Component, k), S_SYSTEM);
        (systems > 0 && rng.chance(90)).then(|| rng.below(systems))
    }

    pub fn owner_of_system(&self, k: usize) -> Target {
        let mut rng = self.rng(self.counts.global(Kind::System, k), S_OWNER);
        self.group_target(self.pick_team(&mut rng))
    }

    pub fn owner_of_component(&self, k: usize) -> Target {
        let mut rng = self.rng(self.counts.global(Kind::Component, k), S_OWNER);
        match self.system_of_component(k) {
            Some(system) if rng.chance(70) => self.owner_of_system(system),
            _ => self.group_target(self.pick_team(&mut rng)),
        }
    }

    /// The component that provides API `a` (and whose repository holds it).
    pub fn provider_of_api(&self, a: usize) -> Option<usize> {
        let c = self.count(Kind::Component);
        (c > 0).then(|| a % c)
    }

    /// The relations entity `g`'s spec declares (targets by global index).
    pub fn decls(&self, g: usize) -> Vec<Decl> {
        let (kind, k) = self.counts.locate(g);
        let mut out = Vec::new();
        let mut push = |rel, target| out.push(Decl { rel, target });
        let entity = |kind, k| Target::Entity(self.counts.global(kind, k));
        match kind {
            Kind::Location => {}
            Kind::Domain => {
                let mut rng = self.rng(g, S_OWNER);
                push(
                    Rel::OwnedBy,
                    self.group_target(self.pick_department(&mut rng)),
                );
            }
            Kind::System => {
                push(Rel::OwnedBy, self.owner_of_system(k));
                let domains = self.count(Kind::Domain);
                if domains > 0 {
                    push(Rel::PartOf, entity(Kind::Domain, k % domains));
                }
            }
            Kind::Component => {
                push(Rel::OwnedBy, self.owner_of_component(k));
                if let Some(system) = self.system_of_component(k) {
                    push(Rel::PartOf, entity(Kind::System, system));
                }
                let (comps, apis, resources) = (
                    self.count(Kind::Component),
                    self.count(Kind::Api),
                    self.count(Kind::Resource),
                );
                for a in (k..apis).step_by(comps) {
                    push(Rel::ProvidesApi, entity(Kind::Api, a));
                }
                let mut rng = self.rng(g, S_LINKS);
                let mut consumed: Vec<usize> = Vec::new();
                if apis > 0 {
                    for _ in 0..rng.below(3) {
                        let a = rng.below(apis);
                        if self.provider_of_api(a) != Some(k) && !consumed.contains(&a) {
                            consumed.push(a);
                        }
                    }
                }
                for a in consumed {
                    push(Rel::ConsumesApi, entity(Kind::Api, a));
                }
                for r in (k..resources).step_by(comps) {
                    push(Rel::DependsOn, entity(Kind::Resource, r));
                }
                let mut deps: Vec<usize> = Vec::new();
                for _ in 0..rng.below(2) {
                    let other = rng.below(comps);
                    if other != k && !deps.contains(&other) {
                        deps.push(other);
                    }
                }
                for other in deps {
                    push(Rel::DependsOn, entity(Kind::Component, other));
                }
            }
            Kind::Api | Kind::Resource => {
                let comps = self.count(Kind::Component);
                if comps == 0 {
                    let mut rng = self.rng(g, S_OWNER);
                    push(Rel::OwnedBy, self.group_target(self.pick_team(&mut rng)));
                } else {
                    let c = k % comps;
                    push(Rel::OwnedBy, self.owner_of_component(c));
                    if let Some(system) = self.system_of_component(c) {
                        push(Rel::PartOf, entity(Kind::System, system));
                    }
                }
            }
            Kind::Template => {
                let mut rng = self.rng(g, S_OWNER);
                push(Rel::OwnedBy, self.group_target(self.pick_team(&mut rng)));
            }
            Kind::Group => {
                if let Some(parent) = self.group_parent(k) {
                    push(Rel::ChildOf, entity(Kind::Group, parent));
                }
                for child in self.group_children(k) {
                    push(Rel::ParentOf, entity(Kind::Group, child));
                }
            }
            Kind::User => {
                let mut rng = self.rng(g, S_LINKS);
                if let Some(team) = self.pick_team(&mut rng) {
                    push(Rel::MemberOf, entity(Kind::Group, team));
                    if rng.chance(20) {
                        if let Some(other) = self.pick_team(&mut rng).filter(|o| *o != team) {
                            push(Rel::MemberOf, entity(Kind::Group, other));
                        }
                    }
                }
            }
        }
        out
    }
}

/// Resource name suffixes and their `spec.type`.
pub const RESOURCE_TYPES: &[(&str, &str)] = &[
    ("db", "database"),
    ("bucket", "s3-bucket"),
    ("topic", "kafka-topic"),
    ("cache", "redis"),
];

pub fn sha1_hex(s: &str) -> String {
    use sha1::{Digest, Sha1};
    hex::encode(Sha1::digest(s.as_bytes()))
}
