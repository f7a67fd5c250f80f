//! Every validation rule of the request, a row each.

use super::*;
use serde_json::json;

fn parse(value: Value) -> Result<UpdateRequest, InvalidRequest> {
    match value {
        Value::Object(object) => UpdateRequest::from_json(&object),
        _ => panic!("test input must be an object"),
    }
}

fn base() -> Value {
    json!({"clusterName": "prod", "nodegroupName": "workers"})
}

fn with(field: &str, value: Value) -> Value {
    let mut v = base();
    v[field] = value;
    v
}

/// Asserts the request is refused and the message names `field` and says `needle`.
fn assert_rejects(value: Value, field: &str, needle: &str) {
    let err = parse(value.clone()).expect_err(&format!("should reject {value}"));
    let message = err.to_string();
    assert!(
        err.problems.iter().any(|p| p.field == field),
        "no problem on `{field}` in: {message}"
    );
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
}

#[test]
fn minimal_request_defaults() {
    let r = parse(base()).unwrap();
    assert_eq!(r.cluster().as_str(), "prod");
    assert_eq!(r.nodegroup().as_str(), "workers");
    assert_eq!(r.version(), VersionRequest::Current);
    assert_eq!(r.release_version(), None);
    assert_eq!(r.launch_template(), None);
    assert!(!r.force());
    assert!(!r.dry_run());
    assert_eq!(r.client_request_token(), None);
    assert_eq!(r.min_release_age_days(), None);
}

#[test]
fn full_request_is_read() {
    let r = parse(json!({
        "clusterName": "prod-eu_1",
        "nodegroupName": "ng-1",
        "version": "1.31",
        "releaseVersion": "1.31.2-20241115",
        "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "7"},
        "force": true,
        "clientRequestToken": "abc-123",
        "dryRun": true,
        "minReleaseAgeDays": 7
    }))
    .unwrap();
    assert_eq!(
        r.version(),
        VersionRequest::Explicit(MinorVersion::new(1, 31))
    );
    assert_eq!(r.release_version().unwrap().as_str(), "1.31.2-20241115");
    let lt = r.launch_template().unwrap();
    assert_eq!(
        lt.selector(),
        &TemplateSelector::Id("lt-0123456789abcdef0".into())
    );
    assert_eq!(lt.version(), Some(&TemplateVersion::Number(7)));
    assert!(r.force());
    assert!(r.dry_run());
    assert_eq!(r.client_request_token().unwrap().as_str(), "abc-123");
    assert_eq!(r.min_release_age_days(), Some(7));
}

#[test]
fn version_cluster_follows_the_control_plane() {
    let r = parse(with("version", json!("cluster"))).unwrap();
    assert_eq!(r.version(), VersionRequest::Cluster);
}

#[test]
fn null_optional_fields_read_as_absent() {
    let mut v = base();
    for field in [
        "version",
        "releaseVersion",
        "launchTemplate",
        "force",
        "dryRun",
    ] {
        v[field] = Value::Null;
    }
    let r = parse(v).unwrap();
    assert_eq!(r.version(), VersionRequest::Current);
    assert!(!r.force());
}

#[test]
fn rejects_missing_required_fields() {
    assert_rejects(json!({"nodegroupName": "w"}), "clusterName", "is required");
    assert_rejects(json!({"clusterName": "c"}), "nodegroupName", "is required");
    assert_rejects(
        json!({"clusterName": null, "nodegroupName": "w"}),
        "clusterName",
        "is required",
    );
}

#[test]
fn rejects_bad_names() {
    let long_cluster = "c".repeat(101);
    let long_ng = "n".repeat(64);
    let cases = [
        ("clusterName", json!("")),
        ("clusterName", json!("-prod")),
        ("clusterName", json!("_prod")),
        ("clusterName", json!("prod cluster")),
        ("clusterName", json!("prod.eu")),
        ("clusterName", json!("prød")),
        ("clusterName", json!(long_cluster)),
        ("nodegroupName", json!("")),
        ("nodegroupName", json!("ng/1")),
        ("nodegroupName", json!(long_ng)),
    ];
    for (field, value) in cases {
        assert_rejects(with(field, value), field, "1-");
    }
    assert!(parse(with("clusterName", json!("c".repeat(100)))).is_ok());
    assert!(parse(with("nodegroupName", json!("n".repeat(63)))).is_ok());
    assert!(parse(with("clusterName", json!("9lives"))).is_ok());
}

#[test]
fn rejects_versions_that_are_not_major_minor() {
    for bad in ["1.31.2", "1", "v1.31", "latest", "", "Cluster", "1.31 "] {
        assert_rejects(with("version", json!(bad)), "version", "MAJOR.MINOR");
    }
}

#[test]
fn rejects_malformed_release_versions() {
    for bad in ["1.31", "1.31.2", "20241115", "1.31.2_20241115", "1.31.2-"] {
        assert_rejects(
            with("releaseVersion", json!(bad)),
            "releaseVersion",
            "1.31.2-20241115",
        );
    }
    let long = format!("1.31.2-{}", "2".repeat(58));
    assert_rejects(with("releaseVersion", json!(long)), "releaseVersion", "64");
}

#[test]
fn rejects_wrong_json_types_without_guessing() {
    let cases = [
        ("force", json!("true"), "boolean"),
        ("dryRun", json!(1), "boolean"),
        ("version", json!(1.31), "must be a string"),
        ("clusterName", json!(["prod"]), "must be a string"),
        ("releaseVersion", json!({"v": 1}), "must be a string"),
        ("clientRequestToken", json!(42), "must be a string"),
        (
            "launchTemplate",
            json!("lt-0123456789abcdef0"),
            "must be an object",
        ),
        ("minReleaseAgeDays", json!("7"), "whole number"),
        ("minReleaseAgeDays", json!(7.5), "whole number"),
        ("minReleaseAgeDays", json!(-1), "whole number"),
    ];
    for (field, value, needle) in cases {
        assert_rejects(with(field, value), field, needle);
    }
}

#[test]
fn release_age_is_bounded() {
    assert_eq!(
        parse(with("minReleaseAgeDays", json!(0)))
            .unwrap()
            .min_release_age_days(),
        Some(0)
    );
    assert_eq!(
        parse(with("minReleaseAgeDays", json!(365)))
            .unwrap()
            .min_release_age_days(),
        Some(365)
    );
    assert_rejects(
        with("minReleaseAgeDays", json!(366)),
        "minReleaseAgeDays",
        "0 to 365",
    );
}

#[test]
fn rejects_unknown_fields_naming_the_closest() {
    let cases = [
        ("nodeGroupName", "nodegroupName"),
        ("clustername", "clusterName"),
        ("relaseVersion", "releaseVersion"),
        ("dry_run", "dryRun"),
        ("Force", "force"),
        ("launch_template", "launchTemplate"),
    ];
    for (typo, suggestion) in cases {
        let mut v = base();
        v[typo] = json!("x");
        let message = parse(v).unwrap_err().to_string();
        assert!(
            message.contains(&format!(
                "`{typo}` is not a known field (did you mean `{suggestion}`?)"
            )),
            "{message}"
        );
    }
}

#[test]
fn unknown_field_far_from_any_lists_the_known_ones() {
    let message = parse(with("colour", json!("blue")))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`colour` is not a known field (known: accountId, clusterName"),
        "{message}"
    );
}

#[test]
fn launch_template_needs_exactly_one_of_id_and_name() {
    assert_rejects(
        with(
            "launchTemplate",
            json!({"id": "lt-0123456789abcdef0", "name": "workers"}),
        ),
        "launchTemplate",
        "not both",
    );
    assert_rejects(
        with("launchTemplate", json!({"version": "3"})),
        "launchTemplate",
        "by `id` or `name`",
    );
}

#[test]
fn launch_template_fields_are_checked() {
    let cases = [
        (json!({"id": "lt-123"}), "launchTemplate.id", "8 or 17"),
        (
            json!({"id": "lt-0123456789ABCDEF0"}),
            "launchTemplate.id",
            "lowercase hex",
        ),
        (
            json!({"id": "0123456789abcdef0"}),
            "launchTemplate.id",
            "lt-",
        ),
        (json!({"name": "ab"}), "launchTemplate.name", "3-128"),
        (json!({"name": "a b c"}), "launchTemplate.name", "3-128"),
        (
            json!({"name": "x".repeat(129)}),
            "launchTemplate.name",
            "3-128",
        ),
        (
            json!({"name": "lt", "version": "0"}),
            "launchTemplate.name",
            "3-128",
        ),
        (
            json!({"name": "tmpl", "version": "0"}),
            "launchTemplate.version",
            "positive",
        ),
        (
            json!({"name": "tmpl", "version": "-1"}),
            "launchTemplate.version",
            "positive",
        ),
        (
            json!({"name": "tmpl", "version": "03"}),
            "launchTemplate.version",
            "positive",
        ),
        (
            json!({"name": "tmpl", "version": "$latest"}),
            "launchTemplate.version",
            "$Latest",
        ),
        (
            json!({"name": "tmpl", "version": 3}),
            "launchTemplate.version",
            "write \"3\"",
        ),
        (
            json!({"name": "tmpl", "Version": "3"}),
            "launchTemplate.Version",
            "did you mean `launchTemplate.version`",
        ),
    ];
    for (lt, field, needle) in cases {
        assert_rejects(with("launchTemplate", lt), field, needle);
    }
}

#[test]
fn launch_template_accepts_the_documented_forms() {
    let cases = [
        (json!({"id": "lt-01234567"}), None),
        (
            json!({"id": "lt-0123456789abcdef0", "version": "12"}),
            Some(TemplateVersion::Number(12)),
        ),
        (json!({"name": "my-template_(v2)/x.y"}), None),
        (
            json!({"name": "tmpl", "version": "$Latest"}),
            Some(TemplateVersion::Latest),
        ),
        (
            json!({"name": "tmpl", "version": "$Default"}),
            Some(TemplateVersion::Default),
        ),
    ];
    for (lt, version) in cases {
        let r = parse(with("launchTemplate", lt.clone())).unwrap_or_else(|e| panic!("{lt}: {e}"));
        assert_eq!(
            r.launch_template().unwrap().version(),
            version.as_ref(),
            "{lt}"
        );
    }
}

#[test]
fn client_request_token_is_printable_ascii_up_to_128() {
    assert!(parse(with("clientRequestToken", json!("a".repeat(128)))).is_ok());
    assert!(parse(with("clientRequestToken", json!("exec:arn/1 ~!"))).is_ok());
    for bad in [
        String::new(),
        "a".repeat(129),
        "tab\there".into(),
        "naïve".into(),
    ] {
        assert_rejects(
            with("clientRequestToken", json!(bad)),
            "clientRequestToken",
            "printable ASCII",
        );
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = parse(json!({
        "clusterName": "prod",
        "nodegroupName": "workers",
        "version": "one",
        "force": "yes",
        "extra": 1
    }))
    .unwrap_err();
    assert_eq!(err.problems.len(), 3, "{err}");
    assert!(
        err.to_string()
            .starts_with("invalid request for cluster 'prod', node group 'workers': ")
    );
}

#[test]
fn a_flood_of_unknown_fields_gives_a_bounded_message() {
    let mut v = base();
    for i in 0..5000 {
        v[format!("field{i}")] = json!(i);
    }
    let message = parse(v).unwrap_err().to_string();
    assert!(message.ends_with("; and 4990 more problems"), "{message}");
    assert!(message.len() < 2000, "{}", message.len());
}

#[test]
fn hostile_text_is_escaped_and_shortened_in_messages() {
    let message = parse(with("version", json!(format!("1\n{}", "x".repeat(500)))))
        .unwrap_err()
        .to_string();
    assert!(!message.contains('\n'));
    assert!(message.len() < 400, "{}", message.len());
}
