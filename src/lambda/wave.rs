//! A wave's items, as its distributed Map reads them from the bucket: each the request its
//! nested update execution hands the updater (the function's own request shape), and the
//! index of the target's record, to join the results back to the report.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::core::request::{TemplateSelector, UpdateRequest, VersionRequest};

/// One item of a wave's object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WaveItem {
    pub index: usize,
    pub request: Value,
}

impl WaveItem {
    pub fn new(index: usize, request: &UpdateRequest) -> Self {
        Self {
            index,
            request: request_json(request),
        }
    }
}

/// A request as the updater takes it: `UpdateRequest::from_json` reads it back unchanged.
pub fn request_json(request: &UpdateRequest) -> Value {
    let mut object = Map::new();
    if let Some(account) = request.account() {
        object.insert("accountId".into(), json!(account.as_str()));
    }
    object.insert("clusterName".into(), json!(request.cluster().as_str()));
    object.insert("nodegroupName".into(), json!(request.nodegroup().as_str()));
    match request.version() {
        VersionRequest::Current => {}
        VersionRequest::Cluster => {
            object.insert("version".into(), json!("cluster"));
        }
        VersionRequest::Explicit(minor) => {
            object.insert("version".into(), json!(minor.to_string()));
        }
    }
    if let Some(release) = request.release_version() {
        object.insert("releaseVersion".into(), json!(release.as_str()));
    }
    if let Some(lt) = request.launch_template() {
        let mut template = Map::new();
        match lt.selector() {
            TemplateSelector::Id(id) => template.insert("id".into(), json!(id)),
            TemplateSelector::Name(name) => template.insert("name".into(), json!(name)),
        };
        if let Some(version) = lt.version() {
            template.insert("version".into(), json!(version.to_string()));
        }
        object.insert("launchTemplate".into(), Value::Object(template));
    }
    if request.force() {
        object.insert("force".into(), json!(true));
    }
    if let Some(token) = request.client_request_token() {
        object.insert("clientRequestToken".into(), json!(token.as_str()));
    }
    if request.dry_run() {
        object.insert("dryRun".into(), json!(true));
    }
    if let Some(days) = request.min_release_age_days() {
        object.insert("minReleaseAgeDays".into(), json!(days));
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_reads_back_unchanged() {
        let requests = [
            json!({"clusterName": "prod", "nodegroupName": "workers"}),
            json!({"clusterName": "prod", "nodegroupName": "workers", "version": "cluster", "force": true}),
            json!({"clusterName": "p", "nodegroupName": "w", "version": "1.31", "releaseVersion": "1.31.2-20241115",
                   "minReleaseAgeDays": 7, "dryRun": true, "clientRequestToken": "t-1"}),
            json!({"clusterName": "p", "nodegroupName": "w", "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "$Latest"}}),
            json!({"clusterName": "p", "nodegroupName": "w", "launchTemplate": {"name": "workers-lt"}}),
            json!({"accountId": "222233334444", "clusterName": "p", "nodegroupName": "w"}),
        ];
        for given in requests {
            let request = UpdateRequest::from_json(given.as_object().unwrap()).unwrap();
            let written = request_json(&request);
            assert_eq!(written, given, "written as given");
            let read = UpdateRequest::from_json(written.as_object().unwrap()).unwrap();
            assert_eq!(read, request);
        }
    }

    #[test]
    fn an_item_names_its_record() {
        let request = UpdateRequest::from_json(
            json!({"clusterName": "prod", "nodegroupName": "web"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(WaveItem::new(7, &request)).unwrap(),
            json!({"index": 7, "request": {"clusterName": "prod", "nodegroupName": "web"}})
        );
    }
}
