//! The entities as their authors wrote them (catalog-info.yaml, or what an
//! org provider emits), before the catalog adds location annotations.

use crate::catalog::{Catalog, Decl, Rel, Target, ORG, RESOURCE_TYPES};
use crate::definitions::{api_definition, template_spec};
use crate::kinds::Kind;
use crate::rng::Rng;
use crate::words::{self, title_case};
use serde_json::{json, Map, Value};

const S_ATTR: u64 = 10;

/// The entity as written, for entity `g` with declarations `decls`.
pub fn raw_entity(cat: &Catalog, g: usize, decls: &[Decl]) -> Value {
    let (kind, k) = cat.counts.locate(g);
    let name = cat.name(kind, k);
    let mut rng = cat.rng(g, S_ATTR);
    let refs = Refs { cat, decls };
    let (metadata, spec) = match kind {
        Kind::Location => return location_entity(cat, k),
        Kind::Domain => (
            meta(
                &name,
                Some(format!(
                    "Everything about {} at Acme.",
                    name.replace('-', " ")
                )),
                None,
            ),
            json!({"owner": refs.owner()}),
        ),
        Kind::System => {
            let mut m = meta(&name, Some(describe(&name, &mut rng)), None);
            add_tags(&mut m, &mut rng, 1);
            let mut spec = json!({"owner": refs.owner()});
            if let Some(domain) = refs.names(Rel::PartOf, false).into_iter().next() {
                spec["domain"] = domain.into();
            }
            (m, spec)
        }
        Kind::Component => component(cat, g, &name, &refs, &mut rng),
        Kind::Api => {
            let (ty, definition) = api_definition(&name, &mut rng);
            let mut m = meta(
                &name,
                Some(format!("{} API.", title_case(&name))),
                Some(slug(cat, g)),
            );
            add_tags(&mut m, &mut rng, 1);
            let mut spec =
                json!({"type": ty, "lifecycle": lifecycle(&mut rng), "owner": refs.owner()});
            if let Some(system) = refs.names(Rel::PartOf, false).into_iter().next() {
                spec["system"] = system.into();
            }
            spec["definition"] = definition.into();
            (m, spec)
        }
        Kind::Resource => {
            let comps = cat.count(Kind::Component).max(1);
            let (_, ty) = RESOURCE_TYPES[(k / comps) % RESOURCE_TYPES.len()];
            let m = meta(
                &name,
                Some(format!("{} ({ty}).", title_case(&name))),
                Some(slug(cat, g)),
            );
            let mut spec = json!({"type": ty, "owner": refs.owner()});
            if let Some(system) = refs.names(Rel::PartOf, false).into_iter().next() {
                spec["system"] = system.into();
            }
            (m, spec)
        }
        Kind::Template => {
            let (_, title, lang) = words::TEMPLATES[k % words::TEMPLATES.len()];
            let mut m = Map::new();
            m.insert("name".into(), name.clone().into());
            m.insert("title".into(), title.into());
            m.insert(
                "description".into(),
                format!("Creates a new {title} with CI, monitoring and catalog registration.")
                    .into(),
            );
            m.insert("tags".into(), json!(["recommended", lang]));
            (Value::Object(m), template_spec(k, &refs.owner(), &mut rng))
        }
        Kind::Group => group(cat, k, &name, &refs),
        Kind::User => user(&name, &refs, &mut rng),
    };
    json!({"apiVersion": kind.api_version(), "kind": kind.name(), "metadata": metadata, "spec": spec})
}

/// Short refs of declared targets, as authors write them in specs.
struct Refs<'a> {
    cat: &'a Catalog,
    decls: &'a [Decl],
}

impl Refs<'_> {
    /// Names of the targets of `rel`; `with_kind` gives `kind:name`.
    fn names(&self, rel: Rel, with_kind: bool) -> Vec<String> {
        self.decls
            .iter()
            .filter(|d| d.rel == rel)
            .map(|d| match d.target {
                Target::Entity(t) => {
                    let (kind, k) = self.cat.counts.locate(t);
                    if with_kind {
                        format!("{}:{}", kind.lower(), self.cat.name(kind, k))
                    } else {
                        self.cat.name(kind, k)
                    }
                }
                Target::Missing(r) => r.rsplit('/').next().unwrap_or(r).to_string(),
            })
            .collect()
    }

    fn owner(&self) -> String {
        self.names(Rel::OwnedBy, false)
            .into_iter()
            .next()
            .unwrap_or_default()
    }
}

fn meta(name: &str, description: Option<String>, slug: Option<String>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    if let Some(d) = description {
        m.insert("description".into(), d.into());
    }
    if let Some(s) = slug {
        m.insert("annotations".into(), json!({"github.com/project-slug": s}));
    }
    Value::Object(m)
}

/// `acme-corp/<repo>` of the repository holding software entity `g`.
fn slug(cat: &Catalog, g: usize) -> String {
    let repo = cat
        .counts
        .software_index(g)
        .and_then(|s| cat.location_of_software(s))
        .map(|l| cat.location_repo(l))
        .unwrap_or_else(|| "catalog".into());
    format!("{ORG}/{repo}")
}

fn describe(name: &str, rng: &mut Rng) -> String {
    format!(
        "{} {} {} for the {} team.",
        title_case(name),
        rng.pick(words::PURPOSES),
        rng.pick(words::OBJECTS),
        name.split('-').next().unwrap_or(name)
    )
}

fn lifecycle(rng: &mut Rng) -> &'static str {
    match rng.below(10) {
        0..=6 => "production",
        7 | 8 => "experimental",
        _ => "deprecated",
    }
}

fn add_tags(metadata: &mut Value, rng: &mut Rng, at_least: usize) {
    let mut tags: Vec<&str> = Vec::new();
    let want = at_least + rng.below(3);
    while tags.len() < want {
        let t = *rng.pick(words::TECH_TAGS);
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    metadata["tags"] = json!(tags);
}

fn component(cat: &Catalog, g: usize, name: &str, refs: &Refs, rng: &mut Rng) -> (Value, Value) {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
    let ty = match base.rsplit('-').next().unwrap_or(base) {
        "web" | "ui" | "portal" | "frontend" | "dashboard" => "website",
        "sdk" | "client" => "library",
        _ => "service",
    };
    let mut m = meta(name, Some(describe(name, rng)), Some(slug(cat, g)));
    let ann = &mut m["annotations"];
    if rng.chance(60) {
        ann["backstage.io/techdocs-ref"] = "dir:.".into();
    }
    if ty == "service" {
        ann["backstage.io/kubernetes-id"] = name.into();
        if rng.chance(35) {
            ann["pagerduty.com/service-id"] = format!("P{}", rng.hex(6).to_uppercase()).into();
        }
    }
    if rng.chance(40) {
        ann["sonarqube.org/project-key"] = format!("{ORG}_{name}").into();
    }
    add_tags(&mut m, rng, 1);
    let mut links = Vec::new();
    if rng.chance(70) {
        links.push(json!({
            "url": format!("https://grafana.{ORG}.io/d/{}/{name}", rng.hex(8)),
            "title": "Dashboard",
            "icon": "dashboard"
        }));
    }
    if rng.chance(25) {
        links.push(json!({"url": format!("https://runbooks.{ORG}.io/{name}"), "title": "Runbook", "icon": "docs"}));
    }
    if !links.is_empty() {
        m["links"] = json!(links);
    }
    let mut spec = json!({"type": ty, "lifecycle": lifecycle(rng), "owner": refs.owner()});
    if let Some(system) = refs.names(Rel::PartOf, false).into_iter().next() {
        spec["system"] = system.into();
    }
    for (key, rel, with_kind) in [
        ("providesApis", Rel::ProvidesApi, false),
        ("consumesApis", Rel::ConsumesApi, false),
        ("dependsOn", Rel::DependsOn, true),
    ] {
        let names = refs.names(rel, with_kind);
        if !names.is_empty() {
            spec[key] = json!(names);
        }
    }
    (m, spec)
}

fn group(cat: &Catalog, k: usize, name: &str, refs: &Refs) -> (Value, Value) {
    let depth = cat.group_depth(k);
    let ty = match depth {
        0 => "organization",
        1 => "department",
        _ => "team",
    };
    let display = if k == 0 {
        "Engineering".to_string()
    } else {
        title_case(name)
    };
    let mut m = meta(name, Some(format!("The {display} {ty}.")), None);
    m["annotations"] = json!({"github.com/team-slug": format!("{ORG}/{name}")});
    let mut spec = json!({
        "type": ty,
        "profile": {"displayName": display, "email": format!("{name}@{ORG}.io")}
    });
    if let Some(parent) = refs.names(Rel::ChildOf, false).into_iter().next() {
        spec["parent"] = parent.into();
    }
    spec["children"] = json!(refs.names(Rel::ParentOf, false));
    (m, spec)
}

fn user(name: &str, refs: &Refs, rng: &mut Rng) -> (Value, Value) {
    let mut parts = name.split('.');
    let first = parts.next().unwrap_or(name);
    let last = parts.next().unwrap_or("");
    let login = format!("{}{}", &first[..1.min(first.len())], last);
    let m = json!({"name": name, "annotations": {"github.com/user-login": login}});
    let spec = json!({
        "profile": {
            "displayName": title_case(name).trim_end_matches(|c: char| c.is_ascii_digit()),
            "email": format!("{name}@{ORG}.io"),
            "picture": format!("https://avatars.githubusercontent.com/u/{}?v=4", 1_000_000 + rng.below(90_000_000))
        },
        "memberOf": refs.names(Rel::MemberOf, false)
    });
    (m, spec)
}

/// A Location entity as `locationSpecToLocationEntity` makes it.
fn location_entity(cat: &Catalog, l: usize) -> Value {
    let target = cat.location_target(l);
    let loc = format!("url:{target}");
    json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": cat.name(Kind::Location, l),
            "annotations": {
                "backstage.io/managed-by-location": loc,
                "backstage.io/managed-by-origin-location": loc
            }
        },
        "spec": {"type": "url", "target": target}
    })
}
