//! The flattened image's config: the input's, with `rootfs.diff_ids` the one new layer and
//! `history` one entry that says so. Every other field keeps its bytes.

use crate::digest::Digest;
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What the history entry says.
pub const CREATED_BY: &str = "airlock flatten";

/// Rewrites `config` for one layer of `diff_id`; `layers` is how many it had. The top-level
/// keys come out sorted (the values keep their bytes); `rootfs` and `history` are replaced
/// under any spelling Go's decoder would take for them (it matches keys case-insensitively).
/// The history entry's `created` is the config's own, so the same input gives the same bytes.
pub fn rewrite(config: &[u8], diff_id: Digest, layers: usize) -> Result<Vec<u8>, String> {
    let mut top: BTreeMap<String, Box<RawValue>> =
        serde_json::from_slice(config).map_err(|e| format!("the config is not a JSON object: {e}"))?;
    let created = top
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("created"))
        .and_then(|(_, v)| serde_json::from_str::<String>(v.get()).ok());
    top.retain(|k, _| !k.eq_ignore_ascii_case("rootfs") && !k.eq_ignore_ascii_case("history"));
    let rootfs = json!({"type": "layers", "diff_ids": [diff_id.to_string()]});
    let s = if layers == 1 { "" } else { "s" };
    let mut entry = json!({
        "created_by": CREATED_BY,
        "comment": format!("{layers} layer{s} flattened into one"),
    });
    if let Some(c) = created {
        entry["created"] = Value::String(c);
    }
    let raw = |v: Value| to_raw_value(&v).map_err(|e| e.to_string());
    top.insert("rootfs".into(), raw(rootfs)?);
    top.insert("history".into(), raw(json!([entry]))?);
    serde_json::to_vec(&top).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_other_field_and_replaces_rootfs_and_history() {
        let d = Digest::of(b"layer");
        let input = br#"{"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z","config":{"Env":["A=1"],"Cmd":["sh"]},"RootFS":{"type":"layers","diff_ids":["sha256:00"]},"history":[{"created_by":"a"},{"created_by":"b","empty_layer":true}]}"#;
        let out = rewrite(input, d, 2).unwrap();
        let want = format!(
            r#"{{"architecture":"amd64","config":{{"Env":["A=1"],"Cmd":["sh"]}},"created":"2024-01-02T03:04:05Z","history":[{{"comment":"2 layers flattened into one","created":"2024-01-02T03:04:05Z","created_by":"airlock flatten"}}],"os":"linux","rootfs":{{"diff_ids":["{d}"],"type":"layers"}}}}"#
        );
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    #[test]
    fn refuses_a_config_that_is_not_an_object() {
        assert!(rewrite(b"[1]", Digest::of(b""), 1).unwrap_err().starts_with("the config is not a JSON object"));
    }
}
