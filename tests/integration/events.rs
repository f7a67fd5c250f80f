//! Every file in `events/` is a fixture: each one is listed with its documented outcome in
//! `tests/fixtures/events-expected.json`, and parses (or is refused) accordingly. The end-to-end
//! tier invokes the same files against a seeded local EKS endpoint.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use eks_nodegroup_updater::lambda::payload as event;
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_event_file_parses_as_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = read_json(&root.join("tests/fixtures/events-expected.json"));
    let expected = expected.as_object().expect("an object of file names");

    let mut files = BTreeSet::new();
    for entry in fs::read_dir(root.join("events")).expect("events/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            files.insert(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let listed: BTreeSet<String> = expected.keys().cloned().collect();
    assert_eq!(
        files, listed,
        "events/ and events-expected.json must list the same files"
    );

    for name in &files {
        let payload = read_json(&root.join("events").join(name));
        let want = &expected[name];
        let parsed = event::parse(&payload, "request-id");
        match want.get("errorType").and_then(Value::as_str) {
            Some("InvalidInput") => {
                let message = parsed.expect_err(name).to_string();
                let needle = want["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(needle),
                    "{name}: {message:?} lacks {needle:?}"
                );
            }
            Some(other) => panic!("{name}: only InvalidInput can be told without EKS, not {other}"),
            None => {
                parsed.unwrap_or_else(|e| panic!("{name} should parse: {e}"));
            }
        }
    }
}
