//! The checked-in JSON Schemas must equal the generated ones.
//! Run with `UPDATE_SCHEMAS=1` to rewrite them after changing a type.

use std::path::PathBuf;

#[test]
fn checked_in_schemas_match_the_types() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("json");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    for (name, text) in bridges_schemas::json_schema::all() {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &text).expect("write schema");
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "{} drifted from the types; run `UPDATE_SCHEMAS=1 cargo test -p bridges-schemas`",
            path.display()
        );
    }
}

/// Strict reading, as the schema says it: every policy field required,
/// `null` allowed where it means "no limit", unknown fields refused.
#[test]
fn the_problem_schema_requires_every_policy_field() {
    let all = bridges_schemas::json_schema::all();
    let (_, text) = all.iter().find(|(n, _)| *n == "problem.schema.json").expect("problem schema");
    let schema: serde_json::Value = serde_json::from_str(text).expect("JSON");
    let defs = &schema["$defs"];
    for (policy, fields) in [
        (
            "BrokeragePolicy",
            &["max_distance_km", "same_trust", "budget", "single_practitioner"][..],
        ),
        (
            "TriadsPolicy",
            &[
                "max_distance_km",
                "same_trust",
                "phase_pools",
                "require_good_or_better",
                "allow_groups_of_4",
            ][..],
        ),
    ] {
        let required: Vec<&str> = defs[policy]["required"]
            .as_array()
            .expect("required list")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(required, fields, "{policy}");
        assert_eq!(defs[policy]["additionalProperties"], false, "{policy}");
        assert_eq!(
            defs[policy]["properties"]["max_distance_km"]["type"],
            serde_json::json!(["number", "null"])
        );
    }
}
