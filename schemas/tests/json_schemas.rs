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
