//! Property tests over event parsing and validation: arbitrary JSON, arbitrary bytes and
//! mutations of every `events/*.json` either give a valid request or an `InvalidInput`
//! message of bounded size, never a panic.
//!
//! `cargo test` runs a bounded number of cases; `make fuzz` runs many more
//! (`PROPTEST_CASES`).

use std::fs;
use std::path::Path;

use eks_nodegroup_updater::RawPayload;
use eks_nodegroup_updater::core::request::{ClusterName, NodegroupName};
use eks_nodegroup_updater::lambda::payload as event;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// The largest message an invalid payload may produce: ten problems of bounded size.
const MAX_MESSAGE_BYTES: usize = 4096;

fn events() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("events/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json"))
        .collect()
}

/// Strings that tend to break parsers: empty, long, control characters, non-ASCII,
/// numbers in text, near-miss versions and names.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9_.$-]{0,12}",
        Just(String::new()),
        Just("1.31".to_owned()),
        Just("cluster".to_owned()),
        Just("$Latest".to_owned()),
        Just("lt-0123456789abcdef0".to_owned()),
        Just("1.31.2-20241115".to_owned()),
        Just("\u{0000}\n\r\t\u{202e}".to_owned()),
        "\\PC{0,300}",
        (0usize..5000).prop_map(|n| "x".repeat(n)),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        nasty_string().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Object keys: mostly the real field names (so mutations reach the validators), some
/// near misses, some arbitrary.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "clusterName", "nodegroupName", "version", "releaseVersion", "launchTemplate",
            "force", "clientRequestToken", "dryRun", "minReleaseAgeDays", "name", "id",
            "detail", "detail-type", "source", "id", "time",
        ]).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["nodeGroupName", "clustername", "Version", "dry_run"]).prop_map(str::to_owned),
        1 => nasty_string(),
    ]
}

/// One edit of a JSON tree: replace a value somewhere, drop or add a key.
#[derive(Clone, Debug)]
enum Edit {
    Replace(Vec<usize>, Value),
    Remove(Vec<usize>),
    Insert(Vec<usize>, String, Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    let path = prop::collection::vec(0usize..16, 0..4);
    prop_oneof![
        (path.clone(), json_value()).prop_map(|(p, v)| Edit::Replace(p, v)),
        path.clone().prop_map(Edit::Remove),
        (path, key(), json_value()).prop_map(|(p, k, v)| Edit::Insert(p, k, v)),
    ]
}

/// Follows `path` (child indexes, taken modulo the number of children) to a container.
fn walk<'a>(value: &'a mut Value, path: &[usize]) -> &'a mut Value {
    let Some((step, rest)) = path.split_first() else {
        return value;
    };
    let children = match &*value {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    };
    if children == 0 {
        return value;
    }
    let child = match value {
        Value::Object(map) => map.values_mut().nth(step % children),
        Value::Array(items) => items.get_mut(step % children),
        _ => None,
    };
    match child {
        Some(child) => walk(child, rest),
        None => unreachable!("a container with children"),
    }
}

fn apply(mut value: Value, edits: &[Edit]) -> Value {
    for edit in edits {
        match edit {
            Edit::Replace(path, new) => *walk(&mut value, path) = new.clone(),
            Edit::Remove(path) => {
                if let Value::Object(map) = walk(&mut value, path)
                    && let Some(key) = map.keys().next().cloned()
                {
                    map.remove(&key);
                }
            }
            Edit::Insert(path, key, new) => {
                if let Value::Object(map) = walk(&mut value, path) {
                    map.insert(key.clone(), new.clone());
                }
            }
        }
    }
    value
}

/// The property: a request that validates, or a bounded `InvalidInput` message.
fn check(payload: &Value) -> Result<(), TestCaseError> {
    match event::parse(payload, "fuzz-request-id") {
        Ok(invocation) => {
            let request = invocation.request;
            prop_assert!(ClusterName::parse(request.cluster().as_str()).is_ok());
            prop_assert!(NodegroupName::parse(request.nodegroup().as_str()).is_ok());
            prop_assert!(!invocation.event_id.is_empty());
        }
        Err(error) => {
            let message = error.to_string();
            prop_assert!(!message.is_empty());
            prop_assert!(
                message.len() <= MAX_MESSAGE_BYTES,
                "message of {} bytes",
                message.len()
            );
            prop_assert!(
                !message.contains('\n'),
                "a message must stay on one log line"
            );
        }
    }
    Ok(())
}

/// The property for a raw invocation body, read exactly as the runtime reads it.
fn check_body(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let raw: RawPayload = serde_path_to_error::deserialize(&mut deserializer)
        .expect("RawPayload never fails to deserialise");
    match raw.0 {
        Ok(payload) => check(&payload),
        Err(_) => Ok(()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        // `make fuzz` raises this through PROPTEST_CASES.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_json_never_panics(payload in json_value()) {
        check(&payload)?;
    }

    #[test]
    fn mutated_sample_events_never_panic(
        index in 0usize..64,
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let samples = events();
        let sample = samples[index % samples.len()].clone();
        check(&apply(sample, &edits))?;
    }

    #[test]
    fn arbitrary_bytes_become_a_payload_or_a_reason(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_body(&bytes)?;
    }

    #[test]
    fn mutated_sample_event_text_never_panics(
        index in 0usize..64,
        cuts in prop::collection::vec((0usize..4096, any::<u8>()), 1..8),
    ) {
        let samples = events();
        let mut bytes = serde_json::to_vec(&samples[index % samples.len()]).expect("json");
        for (at, byte) in cuts {
            let at = at % (bytes.len() + 1);
            if byte % 3 == 0 && at < bytes.len() {
                bytes.remove(at);
            } else {
                bytes.insert(at, byte);
            }
        }
        check_body(&bytes)?;
    }
}

#[test]
fn pathological_shapes_are_refused_not_crashed() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let wide = format!(
        "{{{}\"clusterName\": \"prod\"}}",
        (0..20_000)
            .map(|i| format!("\"k{i}\": {i},"))
            .collect::<String>()
    );
    for text in [
        deep,
        wide,
        "\u{feff}{}".to_owned(),
        "{\"clusterName\": \"\\ud800\"}".to_owned(),
    ] {
        check_body(text.as_bytes()).expect("bounded refusal");
    }
}
