//! The real client over real sockets on loopback: a stalled endpoint, a refused
//! connection and a spent deadline all end as `ServiceError` inside the invocation.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_smithy_types::retry::RetryConfig;
use eks_nodegroup_updater::Eks;
use eks_nodegroup_updater::Ssm;
use eks_nodegroup_updater::core::accounts::AccountRules;
use eks_nodegroup_updater::{Accounts, Allowlist, UpdaterClients};
use eks_nodegroup_updater::{CallLimits, Deadline};
use eks_nodegroup_updater::{Config, Updater};
use serde_json::json;

const LIMITS: CallLimits = CallLimits {
    connect: Duration::from_millis(500),
    attempt: Duration::from_millis(400),
    operation: Duration::from_secs(2),
    margin: Duration::from_secs(1),
};

fn updater(endpoint: &str) -> Updater {
    let config = aws_sdk_eks::Config::builder()
        .with_test_defaults_v2()
        .endpoint_url(endpoint)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .timeout_config(LIMITS.timeout_config())
        .build();
    let ssm = aws_sdk_ssm::Config::builder()
        .with_test_defaults_v2()
        .endpoint_url(endpoint)
        .timeout_config(LIMITS.timeout_config())
        .build();
    let clients = UpdaterClients {
        eks: Eks::new(aws_sdk_eks::Client::from_conf(config)),
        ssm: Ssm::new(aws_sdk_ssm::Client::from_conf(ssm)),
    };
    Updater::new(
        Accounts::new(SdkConfig::builder().build(), move |_: &SdkConfig| {
            clients.clone()
        }),
        Config {
            allowlist: Allowlist::Any,
            accounts: AccountRules::parse(None, None),
            limits: LIMITS,
        },
    )
}

/// A server that accepts connections, reads the request and never answers.
fn stalled_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut reader = stream.try_clone().expect("clone");
            thread::spawn(move || {
                let mut sink = [0u8; 4096];
                while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
            });
            held.push(stream);
        }
    });
    format!("http://{address}")
}

fn request() -> serde_json::Value {
    json!({"clusterName": "prod", "nodegroupName": "workers"})
}

#[tokio::test]
async fn stalled_endpoint_is_a_service_error_before_the_deadline() {
    let updater = updater(&stalled_endpoint());
    let deadline_at = SystemTime::now() + Duration::from_secs(6);
    let deadline = Deadline::new(deadline_at, LIMITS);
    // The outer guard only keeps a regression from hanging the suite.
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        updater.run(&request(), "r-1", None, &deadline),
    )
    .await
    .expect("the call must end on its own");
    let error = result.expect_err("a stalled endpoint cannot succeed");
    assert_eq!(error.error_type(), "ServiceError", "{error}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert!(
        SystemTime::now() < deadline_at,
        "answered after the invocation deadline"
    );
}

#[tokio::test]
async fn refused_connection_is_a_service_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let updater = updater(&format!("http://127.0.0.1:{port}"));
    let deadline = Deadline::new(SystemTime::now() + Duration::from_secs(10), LIMITS);
    let error = updater
        .run(&request(), "r-1", None, &deadline)
        .await
        .expect_err("nothing listens there");
    assert_eq!(error.error_type(), "ServiceError", "{error}");
    assert!(error.to_string().contains("could not reach EKS"), "{error}");
}

#[tokio::test]
async fn spent_deadline_sends_nothing() {
    let updater = updater(&stalled_endpoint());
    let deadline = Deadline::new(SystemTime::now() + Duration::from_millis(500), LIMITS);
    let error = updater
        .run(&request(), "r-1", None, &deadline)
        .await
        .expect_err("no time left");
    assert_eq!(error.error_type(), "ServiceError", "{error}");
    assert!(error.to_string().contains("no time left"), "{error}");
}
