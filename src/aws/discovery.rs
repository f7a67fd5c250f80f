//! Discovery for the fleet: which clusters an account has and which node groups a cluster
//! has, every page of `ListClusters` and `ListNodegroups`. An adapter of its own, so that
//! only the functions that discover are granted these calls (tests/sam/check_iam.py
//! attributes an adapter's calls to the binaries whose `main` builds it).

use aws_sdk_eks::Client;
use aws_sdk_eks::config::Builder as ConfigOverride;

use super::call::{every_page, send, unusable};
use super::classify::{Call, modeled_errors};
use super::deadline::Deadline;
use crate::core::error::{About, Error};
use crate::core::request::{ClusterName, NodegroupName};

/// EKS, as the fleet's discovery uses it.
#[derive(Clone, Debug)]
pub struct Discovery {
    client: Client,
}

impl Discovery {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Every cluster of the account and Region: every page of `ListClusters`.
    pub async fn list_clusters(&self, deadline: &Deadline) -> Result<Vec<ClusterName>, Error> {
        let call = Call::eks("ListClusters");
        let about = About::Account;
        every_page(call, &about, |next_token| async {
            let page = send(call, &about, deadline, String::new, |limits| {
                self.client
                    .list_clusters()
                    .set_next_token(next_token)
                    .customize()
                    .config_override(ConfigOverride::default().timeout_config(limits))
                    .send()
            })
            .await?;
            let names = names(page.clusters(), ClusterName::parse, call, &about)?;
            Ok((names, page.next_token().map(str::to_owned)))
        })
        .await
    }

    /// Every node group of a cluster: every page of `ListNodegroups`.
    pub async fn list_nodegroups(
        &self,
        cluster: &ClusterName,
        deadline: &Deadline,
    ) -> Result<Vec<NodegroupName>, Error> {
        let call = Call::eks("ListNodegroups");
        let about = About::Cluster(cluster.clone());
        let not_found =
            || format!("cluster '{cluster}' no longer exists in this account and region");
        every_page(call, &about, |next_token| async {
            let page = send(call, &about, deadline, not_found, |limits| {
                self.client
                    .list_nodegroups()
                    .cluster_name(cluster.as_str())
                    .set_next_token(next_token)
                    .customize()
                    .config_override(ConfigOverride::default().timeout_config(limits))
                    .send()
            })
            .await?;
            let names = names(page.nodegroups(), NodegroupName::parse, call, &about)?;
            Ok((names, page.next_token().map(str::to_owned)))
        })
        .await
    }
}

/// A page's names in our validated types; one EKS would not allow is an unusable answer.
fn names<T>(
    listed: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
    call: Call<'_>,
    about: &About,
) -> Result<Vec<T>, Error> {
    listed
        .iter()
        .map(|name| {
            parse(name)
                .map_err(|problem| unusable(call, about, &format!("a listed name {problem}")))
        })
        .collect()
}

modeled_errors! {
    aws_sdk_eks::operation::list_clusters::ListClustersError {
        InvalidParameterException => Rejected,
        ClientException => Rejected,
        ServerException => Server,
        ServiceUnavailableException => Server,
    }
    aws_sdk_eks::operation::list_nodegroups::ListNodegroupsError {
        ResourceNotFoundException => NotFound,
        InvalidParameterException => Rejected,
        ClientException => Rejected,
        ServerException => Server,
        ServiceUnavailableException => Server,
    }
}
