//! The OpenAPI shapes of the planner's and pattern engine's answers (`Assessment`, `Plan`,
//! `Pattern`, `PatternRequest`), so the document shows them instead of an untyped `Object`.
//!
//! The core and pattern crates carry no OpenAPI dependency (they do no I/O and stay free of
//! web concerns), so their shapes are read off real answers: every example client in
//! `examples/clients` assessed and planned with the default settings, and a pattern drawn
//! from the default request. Properties present in every sample are required; a value that
//! is `null` in some sample is nullable. The shapes follow the code by construction: a field
//! added to a core type appears in the document (and in its snapshot) the next time it is
//! built.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, schema::Schema};

/// The example client files the shapes are read from.
const EXAMPLES: [&str; 8] = [
    include_str!("../../../../examples/clients/alopecia-areata.toml"),
    include_str!("../../../../examples/clients/blood-thinners.toml"),
    include_str!("../../../../examples/clients/deferred-isotretinoin.toml"),
    include_str!("../../../../examples/clients/fut-strip-scar.toml"),
    include_str!("../../../../examples/clients/keloid-not-suitable.toml"),
    include_str!("../../../../examples/clients/ludwig-2-diffuse.toml"),
    include_str!("../../../../examples/clients/norwood-3-hairline.toml"),
    include_str!("../../../../examples/clients/norwood-7-full-coverage.toml"),
];

/// At most this many items of one array are read (a pattern has thousands of alike dots).
const ITEMS_READ: usize = 40;

struct Samples {
    assessments: Vec<Value>,
    plans: Vec<Value>,
    patterns: Vec<Value>,
    requests: Vec<Value>,
}

fn samples() -> &'static Samples {
    static SAMPLES: OnceLock<Samples> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let settings = follicle_core::Settings::default();
        let day = time::macros::date!(2026 - 11 - 21);
        let (mut assessments, mut plans, mut requests) = (Vec::new(), Vec::new(), Vec::new());
        for text in EXAMPLES {
            let Ok(profile) = follicle_core::ClientProfile::from_toml(text, &settings, day) else {
                continue;
            };
            let Ok(treatment) = follicle_pattern::plan_client(&profile, &settings, day, day, 1) else {
                continue;
            };
            let assessment = treatment.plan.assessment.clone();
            let plan = treatment.plan;
            if !plan.sessions.is_empty() {
                requests.push(serde_json::to_value(&treatment.request).unwrap_or(Value::Null));
            }
            assessments.push(serde_json::to_value(&assessment).unwrap_or(Value::Null));
            plans.push(serde_json::to_value(&plan).unwrap_or(Value::Null));
        }
        let default_request = follicle_pattern::PatternRequest::default();
        requests.push(serde_json::to_value(&default_request).unwrap_or(Value::Null));
        let patterns = follicle_pattern::generate(&default_request)
            .ok()
            .and_then(|p| serde_json::to_value(&p).ok())
            .into_iter()
            .collect();
        Samples {
            assessments,
            plans,
            patterns,
            requests,
        }
    })
}

/// The JSON Schema that every sample fits.
pub fn infer(samples: &[&Value]) -> Value {
    let nullable = samples.iter().any(|v| v.is_null());
    let present: Vec<&Value> = samples.iter().copied().filter(|v| !v.is_null()).collect();
    let kinds: BTreeSet<&str> = present.iter().map(|v| kind(v)).collect();
    let mut schema = match kinds.iter().copied().collect::<Vec<_>>().as_slice() {
        [] => Map::new(),
        ["object"] => {
            let objects: Vec<&Map<String, Value>> = present.iter().filter_map(|v| v.as_object()).collect();
            let mut keys: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
            for object in &objects {
                for (key, value) in *object {
                    keys.entry(key.as_str()).or_default().push(value);
                }
            }
            let mut properties = Map::new();
            let mut required = Vec::new();
            for (key, values) in &keys {
                if values.len() == objects.len() && values.iter().all(|v| !v.is_null()) {
                    required.push(json!(key));
                }
                properties.insert((*key).to_owned(), infer(values));
            }
            let mut m = Map::new();
            m.insert("type".into(), json!("object"));
            m.insert("properties".into(), Value::Object(properties));
            if !required.is_empty() {
                m.insert("required".into(), Value::Array(required));
            }
            m
        }
        ["array"] => {
            let items: Vec<&Value> = present
                .iter()
                .filter_map(|v| v.as_array())
                .flat_map(|a| a.iter().take(ITEMS_READ))
                .collect();
            let mut m = Map::new();
            m.insert("type".into(), json!("array"));
            m.insert("items".into(), infer(&items));
            m
        }
        ["integer", "number"] => Map::from_iter([("type".to_owned(), json!("number"))]),
        [one] => Map::from_iter([("type".to_owned(), json!(one))]),
        // Differently shaped values in different answers: one of them.
        several => {
            let one_of = several
                .iter()
                .map(|k| {
                    let of_kind: Vec<&Value> = present.iter().copied().filter(|v| kind(v) == *k).collect();
                    infer(&of_kind)
                })
                .collect();
            Map::from_iter([("oneOf".to_owned(), Value::Array(one_of))])
        }
    };
    if present.is_empty() && nullable {
        schema.insert("type".into(), json!("null"));
        return Value::Object(schema);
    }
    if nullable && let Some(t) = schema.get("type").cloned() {
        schema.insert("type".into(), json!([t, "null"]));
    }
    Value::Object(schema)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn schema_of(samples: &[Value], description: &str) -> RefOr<Schema> {
    let refs: Vec<&Value> = samples.iter().collect();
    let mut inferred = infer(&refs);
    if let Some(m) = inferred.as_object_mut() {
        m.insert("description".into(), json!(description));
    }
    serde_json::from_value::<Schema>(inferred)
        .map(RefOr::T)
        .unwrap_or_else(|_| RefOr::T(Schema::default()))
}

macro_rules! answer_schema {
    ($(#[$doc:meta])* $name:ident, $title:literal, $field:ident, $description:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                schema_of(&samples().$field, $description)
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($title)
            }
        }
    };
}

answer_schema!(
    /// `POST /assess`'s answer (`follicle assess --format json`).
    AssessmentSchema, "Assessment", assessments,
    "The assessment: verdict with the rules behind it, approach, zones and areas (docs/plan-json.md). Read off the answers for the example clients."
);
answer_schema!(
    /// `POST /plan`'s answer (`follicle plan --format json`).
    PlanSchema, "Plan", plans,
    "The plan: the assessment's fields, sessions, dates, aftercare, fading forecast and quote (docs/plan-json.md). Read off the answers for the example clients."
);
answer_schema!(
    /// A pattern as JSON.
    PatternSchema, "Pattern", patterns,
    "A pattern: head, landmarks, hairline, outline, zone polygons, dots session by session, statistics. Read off the pattern of the default request."
);
answer_schema!(
    /// A pattern request (the designer's design, `follicle pattern --design`).
    PatternRequestSchema, "PatternRequest", requests,
    "A design: head, hairline, zones, scars, exclusions, densities, session fractions, needles, settings, seed; every field optional (the default request fills in). Read off the requests the example plans give."
);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(samples: &[Value], expected: Value) {
        let refs: Vec<&Value> = samples.iter().collect();
        assert_eq!(infer(&refs), expected);
    }

    #[test]
    fn objects_arrays_numbers_and_nulls() {
        check(
            &[json!({"a": 1, "b": "x", "c": [1.5]}), json!({"a": 2, "b": null})],
            json!({"type": "object", "required": ["a"], "properties": {
                "a": {"type": "integer"},
                "b": {"type": ["string", "null"]},
                "c": {"type": "array", "items": {"type": "number"}},
            }}),
        );
        check(&[json!(1), json!(2.5)], json!({"type": "number"}));
        check(
            &[json!("a"), json!(true)],
            json!({"oneOf": [{"type": "boolean"}, {"type": "string"}]}),
        );
        check(&[json!(null)], json!({"type": "null"}));
        check(&[json!([])], json!({"type": "array", "items": {}}));
    }

    #[test]
    fn the_answers_are_typed() {
        for (name, schema) in [
            ("plan", PlanSchema::schema_value()),
            ("assessment", AssessmentSchema::schema_value()),
            ("pattern", PatternSchema::schema_value()),
            ("request", PatternRequestSchema::schema_value()),
        ] {
            assert_eq!(schema["type"], "object", "{name}: {schema}");
            assert!(schema["properties"].as_object().unwrap().len() > 3, "{name}");
        }
        let plan = PlanSchema::schema_value();
        assert!(plan["required"].as_array().unwrap().contains(&json!("sessions")));
        assert_eq!(plan["properties"]["sessions"]["type"], "array");
        assert_eq!(plan["properties"]["quote"]["type"], json!(["object", "null"]));
    }

    trait SchemaValue {
        fn schema_value() -> Value;
    }
    impl<T: utoipa::PartialSchema> SchemaValue for T {
        fn schema_value() -> Value {
            serde_json::to_value(T::schema()).unwrap()
        }
    }
}
