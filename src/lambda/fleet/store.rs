//! Where a roll keeps its objects in the stack's bucket, all under `fleet/<execution name>/`
//! (the bucket's lifecycle rule expires them), and their JSON reading and writing.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws::deadline::Deadline;
use crate::aws::s3::Objects;
use crate::core::error::{About, Error, ErrorKind};

/// A roll's objects.
#[derive(Clone, Debug)]
pub struct RollObjects<'a> {
    objects: &'a Objects,
    pub bucket: &'a str,
    pub fleet: &'a str,
}

impl<'a> RollObjects<'a> {
    pub fn new(objects: &'a Objects, bucket: &'a str, fleet: &'a str) -> Self {
        Self {
            objects,
            bucket,
            fleet,
        }
    }

    /// The input and the settings resolved at the start.
    pub fn roll(&self) -> String {
        format!("fleet/{}/roll.json", self.fleet)
    }

    /// The clusters to observe: the observe Map's items.
    pub fn clusters(&self) -> String {
        format!("fleet/{}/clusters.json", self.fleet)
    }

    /// What the planner saw of the cluster at `index`.
    pub fn observed(&self, index: usize) -> String {
        format!("fleet/{}/observed/{index}.json", self.fleet)
    }

    /// The observe Map's results (ResultWriter).
    pub fn observe_results(&self) -> String {
        format!("fleet/{}/observe", self.fleet)
    }

    /// A wave's items: the wave Map's items.
    pub fn wave_items(&self, wave: u8) -> String {
        format!("fleet/{}/waves/{wave}.json", self.fleet)
    }

    /// A wave's results (ResultWriter).
    pub fn wave_results(&self, wave: u8) -> String {
        format!("fleet/{}/waves/{wave}", self.fleet)
    }

    pub async fn put_json(
        &self,
        key: &str,
        value: &impl Serialize,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let body = serde_json::to_vec(value).map_err(|e| self.unusable(key, &e.to_string()))?;
        self.put(key, body, "application/json", deadline).await
    }

    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        self.objects
            .put(self.bucket, key, body, content_type, deadline)
            .await
    }

    pub async fn get(&self, key: &str, deadline: &Deadline) -> Result<Vec<u8>, Error> {
        self.objects.get(self.bucket, key, deadline).await
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        key: &str,
        deadline: &Deadline,
    ) -> Result<T, Error> {
        let bytes = self.get(key, deadline).await?;
        serde_json::from_slice(&bytes).map_err(|e| self.unusable(key, &e.to_string()))
    }

    /// One of the roll's own objects that does not read as what this step wrote: not
    /// retryable, the roll's state in the bucket was changed by someone else.
    pub fn unusable(&self, key: &str, problem: &str) -> Error {
        Error::about(
            ErrorKind::Rejected,
            About::Object(format!("s3://{}/{key}", self.bucket)),
            format!(
                "not the roll's own object as it was written ({problem}); start the roll again"
            ),
        )
    }
}
