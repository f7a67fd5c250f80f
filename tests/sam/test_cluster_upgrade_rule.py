"""The EventBridge rule template.yaml deploys with RollOnClusterUpgrade (ClusterUpgradeRule), end to end.

The rule's EventPattern and its target's InputTransformer are resolved from template.yaml for
given parameter values (AllowedClusters, FleetUpgradeRequest) by samtemplate.evaluate(), whose
unit tests come first. The rule is then created in the local endpoint's EventBridge (moto's, on
the same server; sfnlocal.py delivers the transformer's text as EventBridge does) with an SQS
queue in place of the fleet state machine (moto starts no execution from a rule), CloudTrail
records of UpdateClusterVersion are put, and each input that reached the queue starts the fleet
state machine, as the rule would, against a cluster whose control plane is being upgraded.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from fnmatch import fnmatchcase

import conftest
import pytest

import samtemplate
from samtemplate import UnresolvedValue

FLEET = "RollFleetStateMachine"
RULE = "ClusterUpgradeRule"
# The template's AllowedClusters here. The planner's ALLOWED_CLUSTERS (conftest.PLANNER_ENV) admits
# more (fl-*, prod-*, staging-*, ...): a cluster the rule leaves out is left out by the rule.
ALLOWED_CLUSTERS = "fl-*,prod-??"
CUSTOM_REQUEST = '{"minReleaseAgeDays": 0, "force": false}'
OLD = "1.31.2-20241115"
LATEST = {"1.31": "1.31.7-20251120", "1.32": "1.32.1-20251120"}
FLEET_ARN = f"arn:aws:states:{conftest.REGION}:{conftest.ACCOUNT}:stateMachine:{conftest.FLEET_SM_NAME}"
DLQ_ARN = f"arn:aws:sqs:{conftest.REGION}:{conftest.ACCOUNT}:{conftest.STACK}-failed-events"
RULE_ROLE_ARN = f"arn:aws:iam::{conftest.ACCOUNT}:role/{conftest.STACK}-cluster-upgrade-rule"


# ------------------------------------------------------------- the evaluator

# A template of its own for the unit tests: what each intrinsic function meets in template.yaml.
TEMPLATE = {
    "Parameters": {
        "Names": {"Type": "String", "Default": "a-*,b"},
        "Mode": {"Type": "String", "Default": "off", "AllowedValues": ["on", "off"]},
        "Count": {"Type": "Number", "Default": 3, "MinValue": 1, "MaxValue": 5},
        "Required": {"Type": "String", "AllowedPattern": "^[a-z]+$"},
    },
    "Conditions": {
        "ModeOn": {"Fn::Equals": [{"Ref": "Mode"}, "on"]},
        "ModeOff": {"Fn::Not": [{"Condition": "ModeOn"}]},
    },
    "Resources": {
        "Machine": {"Type": "AWS::Serverless::StateMachine", "Properties": {}},
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {}},
        "OnlyWhenOn": {"Type": "AWS::SNS::Topic", "Condition": "ModeOn", "Properties": {"TopicName": {"Ref": "Names"}}},
    },
}
PARAMS = {"Names": "a-*,b", "Mode": "off", "Count": 3, "Required": "x"}


def ev(value, parameters=None, resources=None):
    return samtemplate.evaluate(value, TEMPLATE, PARAMS | (parameters or {}), resources)


def test_ref_gives_a_parameter_a_pseudo_parameter_or_a_given_resource_value():
    assert ev({"Ref": "Names"}) == "a-*,b"
    assert ev({"Ref": "Count"}) == 3
    assert ev({"Ref": "AWS::Region"}) == "us-east-1"
    assert ev({"Ref": "Machine"}, resources={"Machine": "arn:sm"}) == "arn:sm"
    assert ev({"Fn::GetAtt": ["Fn", "Arn"]}, resources={"Fn.Arn": "arn:fn"}) == "arn:fn"
    assert ev({"Fn::GetAtt": "Fn.Arn"}, resources={"Fn.Arn": "arn:fn"}) == "arn:fn"


def test_sub_with_and_without_a_variable_map():
    assert ev({"Fn::Sub": "${Names}/${AWS::AccountId}"}) == "a-*,b/123456789012"
    assert ev({"Fn::Sub": "${Fn.Arn}:${Machine}"}, resources={"Fn.Arn": "F", "Machine": "M"}) == "F:M"
    assert ev({"Fn::Sub": "${!Literal}-${Names}"}) == "${Literal}-a-*,b"
    # The map's variables are evaluated, and come before parameters of the same name.
    assert ev({"Fn::Sub": ["${X}*${Names}", {"X": {"Fn::Sub": "<${Mode}>"}, "Names": "n"}]}) == "<off>*n"
    assert ev({"Fn::Sub": ["${Count}", {}]}) == "3"


def test_if_takes_the_branch_its_condition_decides_and_leaves_the_other_unevaluated():
    chosen = {"Fn::If": ["ModeOn", {"Ref": "Names"}, {"Fn::Sub": "${Mode}!"}]}
    assert ev(chosen) == "off!"
    assert ev(chosen, {"Mode": "on"}) == "a-*,b"
    # The branch not taken may hold anything: CloudFormation does not resolve it.
    assert ev({"Fn::If": ["ModeOff", "kept", {"Fn::Base64": "x"}]}) == "kept"


def test_join_select_and_split_nest():
    assert ev({"Fn::Split": [",", {"Ref": "Names"}]}) == ["a-*", "b"]
    assert ev({"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "Names"}]}]}) == "b"
    assert ev({"Fn::Select": ["0", ["x", "y"]]}) == "x"
    assert ev({"Fn::Join": ["", ["{", {"Fn::Select": [0, {"Fn::Split": ["*", {"Ref": "Names"}]}]}, "}"]]}) == "{a-}"
    assert ev({"Fn::Join": ["-", {"Fn::Split": [",", "p,q,r"]}]}) == "p-q-r"
    # What is not an intrinsic function is kept, its members evaluated.
    assert ev({"exists": False}) == {"exists": False}
    assert ev([{"wildcard": {"Fn::Sub": "${Mode}*"}}, 1, None]) == [{"wildcard": "off*"}, 1, None]
    assert ev({"Ref": "Names", "Other": 1}) == {"Ref": "Names", "Other": 1}


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::FindInMap": ["M", "k", "v"]},
        {"Fn::Base64": "x"},
        {"Fn::GetAZs": ""},
        {"Fn::ImportValue": "x"},
        {"Fn::Length": [1]},
        {"Fn::ToJsonString": {}},
        [{"Fn::Cidr": ["10.0.0.0/16", 1, 8]}],
        {"Fn::Sub": ["${X}", {"X": {"Fn::Base64": "x"}}]},
        {"Ref": "Nowhere"},
        {"Ref": "AWS::NoValue"},
        {"Ref": "Required"},
        {"Ref": "Machine"},
        {"Fn::GetAtt": ["Machine", "Name"]},
        {"Fn::Sub": "${Nowhere}"},
        {"Fn::Sub": "${Fn.Arn}"},
        {"Fn::Sub": ["${X}", {"X": ["list"]}]},
        {"Fn::If": ["NoSuchCondition", "a", "b"]},
        {"Fn::If": ["ModeOn", "a"]},
        {"Fn::Select": [2, ["a", "b"]]},
        {"Fn::Select": [-1, ["a", "b"]]},
        {"Fn::Select": [True, ["a", "b"]]},
        {"Fn::Select": [0, "ab"]},
        {"Fn::Split": [",", ["a", "b"]]},
        {"Fn::Split": ["", "ab"]},
        {"Fn::Join": ["", [["a"]]]},
        {"Fn::Join": ["", "ab"]},
    ],
    ids=repr,
)
def test_what_it_cannot_resolve_is_refused(value):
    with pytest.raises(UnresolvedValue):
        ev(value, {"Required": None})


def test_parameter_values_take_defaults_and_refuse_what_cloudformation_refuses():
    assert samtemplate.parameter_values({"Required": "x"}, TEMPLATE) == PARAMS
    assert samtemplate.parameter_values({"Required": "y", "Count": "5"}, TEMPLATE)["Count"] == "5"
    for given in (
        {},  # Required has no default
        {"Required": "x", "Unknown": "1"},
        {"Required": "X1"},  # AllowedPattern, matched whole
        {"Required": "x", "Mode": "maybe"},
        {"Required": "x", "Count": "6"},
        {"Required": "x", "Count": "three"},
    ):
        with pytest.raises(UnresolvedValue):
            samtemplate.parameter_values(given, TEMPLATE)


def test_template_yaml_parameters_and_their_constraints():
    template = samtemplate.load_template()
    values = samtemplate.parameter_values({"AllowedClusters": ALLOWED_CLUSTERS}, template)
    assert values["FleetUpgradeRequest"] == "{}" and values["RollOnClusterUpgrade"] == "false"
    samtemplate.parameter_values({"AllowedClusters": "*", "FleetUpgradeRequest": CUSTOM_REQUEST}, template)
    for request in ('{"version": "1.32"}', '{"launchTemplate": {"version": "2"}}', "[]", "minReleaseAgeDays"):
        with pytest.raises(UnresolvedValue, match="FleetUpgradeRequest"):
            samtemplate.parameter_values({"AllowedClusters": "*", "FleetUpgradeRequest": request}, template)
    with pytest.raises(UnresolvedValue, match="AllowedClusters"):
        samtemplate.parameter_values({"AllowedClusters": "a b"}, template)


def test_a_resource_whose_condition_does_not_hold_is_refused():
    values = samtemplate.parameter_values({"Required": "x"}, TEMPLATE)
    with pytest.raises(UnresolvedValue, match="ModeOn"):
        samtemplate.resource_properties("OnlyWhenOn", values, TEMPLATE)
    on = samtemplate.parameter_values({"Required": "x", "Mode": "on"}, TEMPLATE)
    assert samtemplate.resource_properties("OnlyWhenOn", on, TEMPLATE) == {"TopicName": "a-*,b"}
    with pytest.raises(UnresolvedValue, match="RollsOnClusterUpgrade"):
        rule(ALLOWED_CLUSTERS, "{}", RollOnClusterUpgrade="false")


def test_default_values_are_the_defaults_and_placeholder_arns():
    template = samtemplate.load_template()
    values = samtemplate.default_values(samtemplate.state_machines(template)[FLEET], template)
    assert values == {
        "Partition": "aws",
        "PlannerFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:PlannerFunction",
        "FleetBucket": "fleetbucket",
        "PollIntervalSeconds": template["Parameters"]["PollIntervalSeconds"]["Default"],
        "UpdateNodegroupStateMachineArn": (
            "arn:aws:states:us-east-1:123456789012:stateMachine:UpdateNodegroupStateMachine"
        ),
        "NotificationTopicArn": "",
    }


# ----------------------------------------------------- the rule, as deployed


def rule(allowed_clusters, request, **parameters):
    """ClusterUpgradeRule's Properties for these parameter values, its resources' ARNs local."""
    template = samtemplate.load_template()
    given = {"AllowedClusters": allowed_clusters, "RollOnClusterUpgrade": "true", "FleetUpgradeRequest": request}
    values = samtemplate.parameter_values(given | parameters, template)
    arns = {
        FLEET: FLEET_ARN,
        "ClusterUpgradeRuleRole.Arn": RULE_ROLE_ARN,
        "FailedEventsQueue.Arn": DLQ_ARN,
    }
    return samtemplate.resource_properties(RULE, values, template, arns)


def name_filters(props):
    return [f["wildcard"] for f in props["EventPattern"]["detail"]["requestParameters"]["name"]]


@pytest.mark.parametrize(
    ("allowed", "wildcards"),
    [
        (ALLOWED_CLUSTERS, ["fl-*", "prod-*"] + [f"-unused{i}*" for i in range(1, 9)]),
        ("*", ["*"] + [f"-unused{i}*" for i in range(1, 10)]),
        ("staging,*-x,a?b,pre*fix", ["staging*", "*", "a*", "pre*"] + [f"-unused{i}*" for i in range(1, 7)]),
        (",".join(f"c{i}-*" for i in range(10)), [f"c{i}-*" for i in range(10)]),
    ],
)
def test_the_rule_matches_a_prefix_of_each_allowed_pattern(allowed, wildcards):
    props = rule(allowed, "{}")
    assert name_filters(props) == wildcards
    for wildcard in wildcards:
        # EventBridge: no "?" wildcard, no two wildcards in a row.
        assert "?" not in wildcard and "**" not in wildcard, wildcard
    # A superset of AllowedClusters: every name a pattern admits matches a filter.
    regexes = [re.compile(re.escape(w).replace(r"\*", ".*")) for w in wildcards]
    for pattern in allowed.split(","):
        for name in (pattern.replace("*", "").replace("?", "z"), pattern.replace("*", "abc").replace("?", "9")):
            assert fnmatchcase(name, pattern)
            assert any(r.fullmatch(name) for r in regexes), (name, pattern)


def test_the_rule_as_deployed():
    props = rule(ALLOWED_CLUSTERS, "{}")
    pattern = copy.deepcopy(props["EventPattern"])
    del pattern["detail"]["requestParameters"]
    assert pattern == {
        "source": ["aws.eks"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["eks.amazonaws.com"],
            "eventName": ["UpdateClusterVersion"],
            "errorCode": [{"exists": False}],
        },
    }
    [target] = props["Targets"]
    assert target["Arn"] == FLEET_ARN  # the fleet state machine's Ref
    assert (target["RoleArn"], target["DeadLetterConfig"]) == (RULE_ROLE_ARN, {"Arn": DLQ_ARN})
    assert props["State"] == "ENABLED"


@pytest.mark.parametrize(
    ("request_", "template_text", "request_object"),
    [
        (
            "{}",
            '{"selectors":[{"clusters":["<cluster>"],"request":{"version":"cluster"}}]}',
            {"version": "cluster"},
        ),
        (
            CUSTOM_REQUEST,
            '{"selectors":[{"clusters":["<cluster>"],"request":'
            '{"version":"cluster","minReleaseAgeDays": 0, "force": false}}]}',
            {"version": "cluster", "minReleaseAgeDays": 0, "force": False},
        ),
        (
            '{ "minReleaseAgeDays":7 }',
            '{"selectors":[{"clusters":["<cluster>"],"request":{"version":"cluster", "minReleaseAgeDays":7 }}]}',
            {"version": "cluster", "minReleaseAgeDays": 7},
        ),
    ],
    ids=["default", "custom", "spaced"],
)
def test_the_input_transformer_splices_the_request(request_, template_text, request_object):
    transformer = rule(ALLOWED_CLUSTERS, request_)["Targets"][0]["InputTransformer"]
    assert transformer == {
        "InputPathsMap": {"cluster": "$.detail.requestParameters.name"},
        "InputTemplate": template_text,
    }
    filled = json.loads(template_text.replace("<cluster>", "fl-x"))
    assert filled == {"selectors": [{"clusters": ["fl-x"], "request": request_object}]}


# ------------------------------------------------------ the rule, end to end


def cloudtrail(cluster, *, event_name="UpdateClusterVersion", error=None):
    """A PutEvents entry shaped as CloudTrail's record of an EKS call (EventBridge's
    "AWS API Call via CloudTrail"; AWS itself refuses a PutEvents with an aws.* source)."""
    update_id = str(uuid.uuid4())
    if event_name == "UpdateClusterVersion":
        request = {"name": cluster, "version": "1.32"}
    else:
        request = {"name": cluster, "logging": {"clusterLogging": [{"types": ["api"], "enabled": True}]}}
    detail = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:platform",
            "arn": f"arn:aws:sts::{conftest.ACCOUNT}:assumed-role/platform/platform",
            "accountId": conftest.ACCOUNT,
        },
        "eventTime": "2025-11-21T09:00:00Z",
        "eventSource": "eks.amazonaws.com",
        "eventName": event_name,
        "awsRegion": conftest.REGION,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.22.0",
        "requestParameters": request,
        "responseElements": {
            "update": {
                "id": update_id,
                "status": "InProgress",
                "type": "VersionUpdate" if event_name == "UpdateClusterVersion" else "LoggingUpdate",
                "params": [{"type": "Version", "value": "1.32"}],
                "createdAt": "Nov 21, 2025, 9:00:00 AM",
                "errors": [],
            }
        },
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": conftest.ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        detail |= {
            "errorCode": error,
            "errorMessage": "Unsupported Kubernetes minor version update.",
            "responseElements": None,
        }
    return {
        "Source": "aws.eks",
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(detail),
        "Resources": [],
    }


def deliver(stack, request, entries):
    """Create the rule for FleetUpgradeRequest `request` with an SQS queue as its target (the
    very InputTransformer), put `entries`, and return the bodies the queue received."""
    events, sqs = stack.client("events"), stack.client("sqs")
    props = rule(ALLOWED_CLUSTERS, request)
    [target] = props["Targets"]
    name = f"cluster-upgrade-{uuid.uuid4().hex[:8]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name=name,
        EventPattern=json.dumps(props["EventPattern"]),
        State=props["State"],
        Description=props["Description"],
    )
    try:
        events.put_targets(
            Rule=name, Targets=[{"Id": target["Id"], "Arn": queue_arn, "InputTransformer": target["InputTransformer"]}]
        )
        answer = events.put_events(Entries=entries)
        assert answer["FailedEntryCount"] == 0, answer
        bodies = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return target["InputTransformer"]["InputTemplate"], bodies
    finally:
        events.remove_targets(Rule=name, Ids=[target["Id"]])
        events.delete_rule(Name=name)
        sqs.delete_queue(QueueUrl=queue_url)


def upgrading(name):
    """A cluster whose control plane is being upgraded to 1.32 (UPDATING for two describes), its
    node groups at 1.31 and behind."""
    return {
        "name": name,
        "version": "1.32",
        "updatingDescribes": 2,
        "latestReleases": LATEST,
        "publishLatestToSsm": True,
        "nodegroups": [
            {"name": ng, "version": "1.31", "releaseVersion": OLD, "pollsInProgress": 1} for ng in ("web", "api")
        ],
    }


@pytest.mark.usefixtures("logs_on_failure")
def test_an_accepted_upgrade_of_an_allowed_cluster_rolls_its_nodegroups_through_the_rule(stack):
    requests = {"fl-upgrade-a": "{}", "fl-upgrade-b": CUSTOM_REQUEST}
    inputs = {}
    for cluster, request in requests.items():
        template_text, bodies = deliver(
            stack,
            request,
            [
                cloudtrail(cluster),
                cloudtrail(cluster, error="InvalidParameterException"),  # refused by EKS
                cloudtrail(cluster, event_name="UpdateClusterConfig"),
                cloudtrail("staging-upgrade"),  # no prefix of fl-*,prod-?? (the planner would admit it)
                cloudtrail("prod-upgrade"),  # prod-* is the filter of prod-??: the planner decides
            ],
        )
        assert sorted(bodies) == sorted(
            template_text.replace("<cluster>", name) for name in (cluster, "prod-upgrade")
        ), bodies
        [inputs[cluster]] = [b for b in bodies if f'"{cluster}"' in b]
    assert json.loads(inputs["fl-upgrade-b"])["selectors"][0]["request"] == {
        "version": "cluster",
        "minReleaseAgeDays": 0,
        "force": False,
    }

    stack.eks.seed({"clusters": [upgrading(cluster) for cluster in requests]})
    stack.eks.clear_calls()
    # Started as the rule's target starts it: the delivered text is the execution's input.
    arns = {
        cluster: stack.sfn.start_execution(
            stateMachineArn=stack.state_machine_arns[FLEET], input=text, name=str(uuid.uuid4())
        )["executionArn"]
        for cluster, text in inputs.items()
    }
    executions = {cluster: stack.wait(arn, timeout=300) for cluster, arn in arns.items()}

    calls = stack.eks.calls()
    clusters = {c["name"]: c for c in stack.eks.state()["clusters"]}
    for cluster, ex in executions.items():
        assert ex.status == "SUCCEEDED", ex.explain()
        assert ex.description["input"] == inputs[cluster]
        assert ex.output["counts"]["updated"] == 2, ex.output
        # The observe loop: the planner read the cluster until its control plane was ACTIVE (two
        # UPDATING answers, then ACTIVE: 3 reads). The other reads are the updater's, one per
        # node group it started (each UpdateNodegroupVersion).
        made = calls["byCluster"][cluster]
        observes = made["eks:DescribeCluster"] - made["eks:UpdateNodegroupVersion"]
        assert observes == 3, made
        assert clusters[cluster]["status"] == "ACTIVE" and not clusters[cluster]["updatingDescribesLeft"]
        for ng in ("web", "api"):
            state = stack.eks.nodegroup_state(cluster, ng)
            assert (state["version"], state["releaseVersion"]) == ("1.32", LATEST["1.32"]), state
            assert state["updatesCreated"] == 1, state
