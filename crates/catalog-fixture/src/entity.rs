//! One entity through the catalog's pipeline: unprocessed (as emitted, with
//! location annotations), processed (location-derived annotations, default
//! namespace, uid) and final (stitched: relations, etag), as stored.

use crate::catalog::{Catalog, Decl, Target, ORG};
use crate::graph::Incoming;
use crate::kinds::Kind;
use crate::specs::raw_entity;
use crate::stable_json::stable_hash;
use serde_json::{json, Map, Value};

pub const ANN_LOCATION: &str = "backstage.io/managed-by-location";
pub const ANN_ORIGIN: &str = "backstage.io/managed-by-origin-location";

/// An entity after processing, with what its `refresh_state` row needs.
#[derive(Debug)]
pub struct Built {
    pub g: usize,
    pub kind: Kind,
    pub entity_id: String,
    pub entity_ref: String,
    pub decls: Vec<Decl>,
    pub unprocessed: Value,
    pub processed: Value,
    /// `refresh_state.location_key`.
    pub location_key: String,
}

/// `(managed-by-location, managed-by-origin-location)` of entity `g`.
pub fn placement(cat: &Catalog, g: usize) -> (String, String) {
    let (kind, k) = cat.counts.locate(g);
    match kind {
        Kind::Location => {
            let loc = format!("url:{}", cat.location_target(k));
            (loc.clone(), loc)
        }
        Kind::Group | Kind::User => {
            let loc = format!("url:https://github.com/{ORG}");
            (loc.clone(), loc)
        }
        _ => {
            let dir = match kind {
                Kind::Component => "services",
                Kind::Api => "apis",
                Kind::Resource => "resources",
                Kind::System => "systems",
                Kind::Domain => "domains",
                _ => "templates",
            };
            let file = format!("{dir}/{}/catalog-info.yaml", cat.name(kind, k));
            let l = cat
                .counts
                .software_index(g)
                .and_then(|s| cat.location_of_software(s));
            match l {
                Some(l) => (
                    format!(
                        "url:https://github.com/{ORG}/{}/blob/main/{file}",
                        cat.location_repo(l)
                    ),
                    format!("url:{}", cat.location_target(l)),
                ),
                None => {
                    let loc = format!("url:https://github.com/{ORG}/catalog/blob/main/{file}");
                    (loc.clone(), loc)
                }
            }
        }
    }
}

/// What the collector stores when a parent emits `raw`: its annotations plus
/// the origin and own location.
fn unprocessed_of(raw: &Value, location: &str, origin: &str) -> Value {
    let mut entity = raw.clone();
    let meta = entity["metadata"].as_object_mut().expect("metadata");
    let ann = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("annotations");
    ann.insert(ANN_ORIGIN.into(), origin.into());
    ann.insert(ANN_LOCATION.into(), location.into());
    entity
}

/// `AnnotateLocationEntityProcessor` + `DefaultNamespaceEntityPolicy` (both
/// lodash merges, hence the key order) + the uid the engine sets.
fn processed_of(unprocessed: &Value, uid: &str) -> Value {
    let src = unprocessed.as_object().expect("entity");
    let src_meta = src["metadata"].as_object().expect("metadata");
    let own = src_meta["annotations"].as_object().expect("annotations");
    let location = own[ANN_LOCATION].as_str().unwrap_or_default();
    let url = location.strip_prefix("url:").unwrap_or(location);
    let mut ann = Map::new();
    ann.insert(ANN_LOCATION.into(), location.into());
    ann.insert(ANN_ORIGIN.into(), own[ANN_ORIGIN].clone());
    ann.insert("backstage.io/view-url".into(), url.into());
    ann.insert(
        "backstage.io/edit-url".into(),
        url.replacen("/blob/", "/edit/", 1).into(),
    );
    let dir = &url[..url.rfind('/').map_or(url.len(), |i| i + 1)];
    ann.insert(
        "backstage.io/source-location".into(),
        format!("url:{}", dir.replacen("/blob/", "/tree/", 1)).into(),
    );
    for (k, v) in own {
        ann.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut meta = Map::new();
    meta.insert("namespace".into(), "default".into());
    meta.insert("annotations".into(), Value::Object(ann));
    for (k, v) in src_meta {
        if k != "annotations" {
            meta.insert(k.clone(), v.clone());
        }
    }
    meta.insert("uid".into(), uid.into());
    let mut out = Map::new();
    out.insert("metadata".into(), Value::Object(meta));
    for (k, v) in src {
        if k != "metadata" {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

pub fn build(cat: &Catalog, g: usize) -> Built {
    let (kind, _) = cat.counts.locate(g);
    let decls = cat.decls(g);
    let raw = raw_entity(cat, g, &decls);
    let (location, origin) = placement(cat, g);
    let unprocessed = if kind == Kind::Location {
        raw
    } else {
        unprocessed_of(&raw, &location, &origin)
    };
    let entity_id = cat.uid(g);
    let processed = processed_of(&unprocessed, &entity_id);
    Built {
        g,
        kind,
        entity_ref: cat.entity_ref(g),
        entity_id,
        decls,
        unprocessed,
        processed,
        location_key: location,
    }
}

fn target_ref(cat: &Catalog, t: Target) -> String {
    match t {
        Target::Entity(t) => cat.entity_ref(t),
        Target::Missing(r) => r.to_string(),
    }
}

/// Rows entity `g` originates in `relations`: `(source, type, target)`, each
/// declaration in both directions.
pub fn relation_rows(
    cat: &Catalog,
    g: usize,
    decls: &[Decl],
) -> Vec<(String, &'static str, String)> {
    let me = cat.entity_ref(g);
    let mut rows = Vec::with_capacity(decls.len() * 2);
    for d in decls {
        let (fwd, inv) = d.rel.types();
        let target = target_ref(cat, d.target);
        rows.push((me.clone(), fwd, target.clone()));
        rows.push((target, inv, me.clone()));
    }
    rows
}

/// The stitched relations of `g` (distinct, ordered by type then target).
pub fn stitched_relations(
    cat: &Catalog,
    incoming: &Incoming,
    built: &Built,
) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = built
        .decls
        .iter()
        .map(|d| (d.rel.types().0, target_ref(cat, d.target)))
        .collect();
    for (source, rel) in incoming.of(built.g) {
        out.push((rel.types().1, cat.entity_ref(source)));
    }
    out.sort();
    out.dedup();
    out
}

/// The `final_entities` entity and its hash (which is also the etag).
pub fn final_of(cat: &Catalog, incoming: &Incoming, built: &Built) -> (Value, String) {
    let mut entity = built.processed.clone();
    let relations: Vec<Value> = stitched_relations(cat, incoming, built)
        .into_iter()
        .map(|(ty, target)| json!({"type": ty, "targetRef": target}))
        .collect();
    entity["relations"] = Value::Array(relations);
    let hash = stable_hash(&entity);
    entity["metadata"]["etag"] = hash.clone().into();
    (entity, hash)
}

/// `refresh_state.cache` of entity `g`. The url reader of a location caches
/// what it read (every entity of the repository) under the commit etag.
pub fn cache_of(cat: &Catalog, built: &Built) -> String {
    if built.kind != Kind::Location {
        return r#"{"ttl":5,"cache":{}}"#.to_string();
    }
    let (_, l) = cat.counts.locate(built.g);
    let locations = cat.count(Kind::Location);
    let mut value = Vec::new();
    for s in (l..cat.counts.software()).step_by(locations) {
        let child = cat.counts.software_global(s);
        let (location, _) = placement(cat, child);
        value.push(json!({
            "type": "entity",
            "location": {"type": "url", "target": location.trim_start_matches("url:")},
            "entity": raw_entity(cat, child, &cat.decls(child)),
        }));
    }
    let etag = cat.rng(built.g, 11).hex(40);
    json!({"ttl": 5, "cache": {"url-reader": {"v1": {"etag": etag, "value": value}}}}).to_string()
}
