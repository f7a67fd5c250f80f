//! Which certificate authorities the function's AWS calls trust, and the one HTTPS client
//! every SDK client shares.
//!
//! The function only ever talks to AWS endpoints (EKS, SSM, STS), whose certificates all
//! chain to Amazon Trust Services. Its default trust store is therefore the five roots
//! Amazon Trust Services publishes for custom trust stores (Amazon Root CA 1–4 and
//! Starfield Services Root Certificate Authority – G2), compiled in from
//! `certs/amazon-trust-services.pem`. The SDK's default would load the whole system bundle
//! (about 140 CAs, 220 KB of PEM through a constant-time base64 decoder) at every process
//! start, most of this function's init (BENCHMARKS.md has the figures). Trusting five CAs
//! instead of 140 is also the narrower trust.
//!
//! The system store stays one setting away: with `SSL_CERT_FILE` or `SSL_CERT_DIR` set
//! (a TLS-inspecting proxy, a private CA, an HTTPS test endpoint), those are what is
//! trusted, as for any program linked with rustls-native-certs or OpenSSL. Outside the
//! partitions whose endpoints Amazon Trust Services certifies (the China and ISO regions),
//! the system store is used too.

use aws_smithy_http_client::HttpClientError;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The five roots, PEM. Their SHA-256 SPKI hashes are checked against the values Amazon
/// Trust Services publishes by `tests/e2e/test_trust.py`.
const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("../../certs/amazon-trust-services.pem");

/// The set of certificate authorities the HTTPS client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// The five Amazon Trust Services roots compiled into the binary.
    AmazonTrustServices,
    /// The system's store, as rustls-native-certs finds it: `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` when set, else the platform's bundle and directory.
    System,
}

impl Trust {
    /// Pure choice, so the rule is tested without touching the environment.
    /// `region` is the function's region (`AWS_REGION`).
    pub fn choose(ssl_cert_file_set: bool, ssl_cert_dir_set: bool, region: Option<&str>) -> Self {
        if ssl_cert_file_set || ssl_cert_dir_set {
            return Trust::System;
        }
        match region {
            Some(region) if outside_amazon_trust_services(region) => Trust::System,
            _ => Trust::AmazonTrustServices,
        }
    }

    /// The choice for this process, from `SSL_CERT_FILE`, `SSL_CERT_DIR` and `AWS_REGION`.
    pub fn from_env() -> Self {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let region = std::env::var("AWS_REGION").ok();
        Trust::choose(set("SSL_CERT_FILE"), set("SSL_CERT_DIR"), region.as_deref())
    }

    fn trust_store(self) -> TrustStore {
        match self {
            // `empty()` has native roots off, `default()` on.
            Trust::AmazonTrustServices => {
                TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES)
            }
            Trust::System => TrustStore::default(),
        }
    }

    /// The HTTPS client: the SDK's own hyper + rustls client with the aws-lc crypto
    /// provider (what `default-https-client` builds), only the trust store differs.
    /// Shared by every SDK client, so its connectors are built once per timeout setting
    /// instead of once per client. With the compiled-in roots, its connector is built at
    /// the first call (see [`ConnectorAtFirstCall`]).
    pub fn http_client(self) -> Result<SharedHttpClient, HttpClientError> {
        let client = self.sdk_http_client()?;
        Ok(match self {
            Trust::AmazonTrustServices => SharedHttpClient::new(ConnectorAtFirstCall(client)),
            Trust::System => client,
        })
    }

    fn sdk_http_client(self) -> Result<SharedHttpClient, HttpClientError> {
        let context = TlsContext::builder()
            .with_trust_store(self.trust_store())
            .build()?;
        Ok(aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build_https())
    }
}

/// The SDK validates each client's HTTP client by building a connector and throwing it
/// away, so that loading the *system's* certificates (milliseconds) happens at start-up
/// rather than in the first request. With the five compiled-in roots there is nothing
/// slow to front-load, and those throw-away connectors, one per SDK client and each
/// parsing the roots again, were the largest part of what was left of init
/// (BENCHMARKS.md). This client skips that validation; its first call builds the one
/// connector both SDK clients then share.
#[derive(Debug)]
struct ConnectorAtFirstCall(SharedHttpClient);

impl HttpClient for ConnectorAtFirstCall {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    // `validate_base_client_config`: the trait's default, which builds nothing.

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// Regions whose endpoints are not certified by Amazon Trust Services: the China
/// partition (`cn-north-1`, `cn-northwest-1`) and the isolated ISO partitions
/// (`us-iso-east-1`, `us-isob-east-1`, `us-isof-south-1`, `eu-isoe-west-1`, …), which
/// ship their own CAs. GovCloud and the European Sovereign Cloud chain to the same roots.
fn outside_amazon_trust_services(region: &str) -> bool {
    let region = region.trim().to_ascii_lowercase();
    region.starts_with("cn-")
        || region
            .split('-')
            .nth(1)
            .is_some_and(|part| part.starts_with("iso"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_table() {
        use Trust::*;
        let cases: &[(bool, bool, Option<&str>, Trust)] = &[
            (false, false, Some("us-east-1"), AmazonTrustServices),
            (false, false, Some("eu-central-1"), AmazonTrustServices),
            (false, false, Some("us-gov-west-1"), AmazonTrustServices),
            (false, false, Some("eusc-de-east-1"), AmazonTrustServices),
            (false, false, Some("ap-southeast-7"), AmazonTrustServices),
            (false, false, None, AmazonTrustServices),
            (false, false, Some("cn-north-1"), System),
            (false, false, Some("CN-NORTHWEST-1"), System),
            (false, false, Some("us-iso-east-1"), System),
            (false, false, Some("us-isob-east-1"), System),
            (false, false, Some("us-isof-south-1"), System),
            (false, false, Some("eu-isoe-west-1"), System),
            (true, false, Some("us-east-1"), System),
            (false, true, Some("us-east-1"), System),
            (true, true, None, System),
        ];
        for &(file, dir, region, want) in cases {
            assert_eq!(
                Trust::choose(file, dir, region),
                want,
                "{file} {dir} {region:?}"
            );
        }
    }

    /// Client construction with the SDK's own HTTP client builds a connector (its
    /// validation), which parses the trust store: a bundle rustls cannot read would panic
    /// here rather than at the function's first call. Then the clients `main` uses.
    #[test]
    fn both_trust_stores_build_an_sdk_client() {
        let trusts = [Trust::AmazonTrustServices, Trust::System];
        let validated = trusts.map(|t| t.sdk_http_client().expect("client builds"));
        let used = trusts.map(|t| t.http_client().expect("client builds"));
        for http in validated.into_iter().chain(used) {
            let config = aws_sdk_eks::Config::builder()
                .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
                .region(aws_sdk_eks::config::Region::new("us-east-1"))
                .http_client(http)
                .build();
            let _client = aws_sdk_eks::Client::from_conf(config);
        }
    }

    #[test]
    fn compiled_in_bundle_holds_five_certificates() {
        let text = std::str::from_utf8(AMAZON_TRUST_SERVICES).expect("ASCII PEM");
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        assert_eq!(text.matches("-----END CERTIFICATE-----").count(), 5);
    }
}
