//! Bulky but realistic entity content: API definitions (the catalog stores the
//! whole document in `spec.definition`) and scaffolder template specs.

use crate::rng::Rng;
use crate::words::{self, title_case};
use serde_json::{json, Value};

const FIELD_TYPES: &[(&str, &str, &str, &str)] = &[
    // (name, openapi type, proto type, graphql type)
    ("status", "string", "string", "String"),
    (
        "createdAt",
        "string",
        "google.protobuf.Timestamp",
        "DateTime",
    ),
    (
        "updatedAt",
        "string",
        "google.protobuf.Timestamp",
        "DateTime",
    ),
    ("amount", "integer", "int64", "Int"),
    ("currency", "string", "string", "String"),
    ("customerId", "string", "string", "ID"),
    ("region", "string", "string", "String"),
    ("priority", "integer", "int32", "Int"),
    ("labels", "array", "repeated string", "[String!]"),
    ("active", "boolean", "bool", "Boolean"),
    ("version", "integer", "int64", "Int"),
    ("ownerEmail", "string", "string", "String"),
];

const NOUNS: &[&str] = &[
    "order", "payment", "account", "invoice", "shipment", "ticket", "product", "session",
];

fn resource_noun(rng: &mut Rng) -> &'static str {
    NOUNS[rng.below(NOUNS.len())]
}

fn fields(rng: &mut Rng) -> Vec<&'static (&'static str, &'static str, &'static str, &'static str)> {
    let mut picked = Vec::new();
    for f in FIELD_TYPES {
        if rng.chance(50) {
            picked.push(f);
        }
    }
    picked
}

/// `(spec.type, spec.definition)` for API `name`.
pub fn api_definition(name: &str, rng: &mut Rng) -> (&'static str, String) {
    let noun = resource_noun(rng);
    let ty = noun[..1].to_uppercase() + &noun[1..];
    let title = title_case(name);
    let version = format!("{}.{}.{}", 1 + rng.below(3), rng.below(20), rng.below(10));
    let fields = fields(rng);
    let org = crate::catalog::ORG;
    match rng.below(10) {
        0..=5 => {
            let mut doc = lines(&[
                "openapi: 3.0.3",
                "info:",
                &format!("  title: {title}"),
                &format!("  version: {version}"),
                &format!("  description: Manages {noun}s for {name}."),
                "servers:",
                &format!("  - url: https://api.{org}.io/{name}/v1"),
                "paths:",
                &format!("  /{noun}s:"),
                "    get:",
                &format!("      summary: List {noun}s"),
                &format!("      operationId: list{ty}s"),
                "      parameters:",
                "        - name: pageToken",
                "          in: query",
                "          schema:",
                "            type: string",
                "      responses:",
                "        '200':",
                &format!("          description: A page of {noun}s"),
                "          content:",
                "            application/json:",
                "              schema:",
                "                type: array",
                "                items:",
                &format!("                  $ref: '#/components/schemas/{ty}'"),
                "    post:",
                &format!("      summary: Create a {noun}"),
                &format!("      operationId: create{ty}"),
                "      requestBody:",
                "        required: true",
                "        content:",
                "          application/json:",
                "            schema:",
                &format!("              $ref: '#/components/schemas/{ty}'"),
                "      responses:",
                "        '201':",
                "          description: Created",
                &format!("  /{noun}s/{{id}}:"),
                "    get:",
                &format!("      summary: Get a {noun}"),
                &format!("      operationId: get{ty}"),
                "      parameters:",
                "        - name: id",
                "          in: path",
                "          required: true",
                "          schema:",
                "            type: string",
                "      responses:",
                "        '200':",
                &format!("          description: The {noun}"),
                "        '404':",
                "          description: Not found",
                "components:",
                "  schemas:",
                &format!("    {ty}:"),
                "      type: object",
                "      required:",
                "        - id",
                "      properties:",
                "        id:",
                "          type: string",
                "          format: uuid",
            ]);
            for (f, t, _, _) in &fields {
                doc.push_str(&format!("        {f}:\n          type: {t}\n"));
                if *t == "array" {
                    doc.push_str("          items:\n            type: string\n");
                } else if f.ends_with("At") {
                    doc.push_str("          format: date-time\n");
                }
            }
            ("openapi", doc)
        }
        6 | 7 => {
            let mut body = String::new();
            for (i, (f, _, p, _)) in fields.iter().enumerate() {
                body.push_str(&format!("  {p} {} = {};\n", snake(f), i + 2));
            }
            let pkg = name.replace('-', "_");
            let doc = lines(&[
                "syntax = \"proto3\";",
                "",
                &format!("package {pkg}.v1;"),
                "",
                "import \"google/protobuf/timestamp.proto\";",
                "",
                &format!("service {ty}Service {{"),
                &format!("  rpc Get{ty}(Get{ty}Request) returns ({ty});"),
                &format!("  rpc List{ty}s(List{ty}sRequest) returns (List{ty}sResponse);"),
                &format!("  rpc Create{ty}({ty}) returns ({ty});"),
                "}",
                "",
                &format!("message {ty} {{"),
                "  string id = 1;",
                &format!("{body}}}"),
                "",
                &format!("message Get{ty}Request {{"),
                "  string id = 1;",
                "}",
                "",
                &format!("message List{ty}sRequest {{"),
                "  int32 page_size = 1;",
                "  string page_token = 2;",
                "}",
                "",
                &format!("message List{ty}sResponse {{"),
                &format!("  repeated {ty} {noun}s = 1;"),
                "  string next_page_token = 2;",
                "}",
            ]);
            ("grpc", doc)
        }
        8 => {
            let mut doc = lines(&[
                "asyncapi: 2.6.0",
                "info:",
                &format!("  title: {title}"),
                &format!("  version: {version}"),
                "channels:",
                &format!("  {noun}.events.v1:"),
                "    subscribe:",
                &format!("      operationId: on{ty}Changed"),
                "      message:",
                &format!("        name: {ty}Changed"),
                "        payload:",
                "          type: object",
                "          properties:",
                "            id:",
                "              type: string",
            ]);
            for (f, t, _, _) in &fields {
                doc.push_str(&format!("            {f}:\n              type: {t}\n"));
            }
            ("asyncapi", doc)
        }
        _ => {
            let mut body = String::new();
            for (f, _, _, gq) in &fields {
                body.push_str(&format!("  {f}: {gq}\n"));
            }
            let doc = lines(&[
                &format!("type {ty} {{"),
                "  id: ID!",
                &format!("{body}}}"),
                "",
                "type Query {",
                &format!("  {noun}(id: ID!): {ty}"),
                &format!("  {noun}s(first: Int, after: String): [{ty}!]!"),
                "}",
                "",
                "type Mutation {",
                &format!("  create{ty}(input: {ty}Input!): {ty}!"),
                "}",
                "",
                &format!("input {ty}Input {{"),
                "  status: String",
                "}",
            ]);
            ("graphql", doc)
        }
    }
}

/// Joins lines with a trailing newline each.
fn lines(lines: &[&str]) -> String {
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The `spec` of a scaffolder template (owner filled in by the caller).
pub fn template_spec(template: usize, owner: &str, rng: &mut Rng) -> Value {
    let (base, _, lang) = words::TEMPLATES[template % words::TEMPLATES.len()];
    let ty = match base {
        b if b.contains("website") || b.contains("frontend") => "website",
        b if b.contains("library") || b.contains("cli") => "library",
        b if b.contains("docs") => "documentation",
        b if b.contains("topic") || b.contains("database") || b.contains("terraform") => "resource",
        _ => "service",
    };
    let mut steps = vec![json!({
        "id": "fetch",
        "name": "Fetch skeleton",
        "action": "fetch:template",
        "input": {
            "url": "./skeleton",
            "values": {
                "name": "${{ parameters.name }}",
                "owner": "${{ parameters.owner }}",
                "description": "${{ parameters.description }}",
                "language": lang
            }
        }
    })];
    if rng.chance(40) {
        steps.push(json!({
            "id": "lint",
            "name": "Lint",
            "action": "acme:lint",
            "input": {"path": "."}
        }));
    }
    steps.push(json!({
        "id": "publish",
        "name": "Publish",
        "action": "publish:github",
        "input": {
            "description": "This is ${{ parameters.name }}",
            "repoUrl": "${{ parameters.repoUrl }}",
            "defaultBranch": "main",
            "repoVisibility": "internal"
        }
    }));
    steps.push(json!({
        "id": "register",
        "name": "Register",
        "action": "catalog:register",
        "input": {
            "repoContentsUrl": "${{ steps['publish'].output.repoContentsUrl }}",
            "catalogInfoPath": "/catalog-info.yaml"
        }
    }));
    json!({
        "owner": owner,
        "type": ty,
        "parameters": [
            {
                "title": "Provide some simple information",
                "required": ["name", "owner"],
                "properties": {
                    "name": {
                        "title": "Name",
                        "type": "string",
                        "description": "Unique name of the component",
                        "ui:field": "EntityNamePicker",
                        "ui:autofocus": true
                    },
                    "description": {
                        "title": "Description",
                        "type": "string",
                        "description": "Help others understand what this is for"
                    },
                    "owner": {
                        "title": "Owner",
                        "type": "string",
                        "description": "Owner of the component",
                        "ui:field": "OwnerPicker",
                        "ui:options": {"catalogFilter": {"kind": "Group"}}
                    }
                }
            },
            {
                "title": "Choose a location",
                "required": ["repoUrl"],
                "properties": {
                    "repoUrl": {
                        "title": "Repository Location",
                        "type": "string",
                        "ui:field": "RepoUrlPicker",
                        "ui:options": {"allowedHosts": ["github.com"], "allowedOwners": [crate::catalog::ORG]}
                    }
                }
            }
        ],
        "steps": steps,
        "output": {
            "links": [
                {"title": "Repository", "url": "${{ steps['publish'].output.remoteUrl }}"},
                {"title": "Open in catalog", "icon": "catalog", "entityRef": "${{ steps['register'].output.entityRef }}"}
            ]
        }
    })
}
