"""Local executions of the fleet state machine template.yaml deploys (statemachine/roll-fleet.asl.json).

The planner and the updater are the release binaries behind their Runtime API emulators; EKS,
SSM, S3 (the stack's bucket), SNS (the notification topic) and Step Functions (the nested
update executions, the distributed Maps) are the local endpoint's (conftest.py, sfnlocal.py).
Each test seeds clusters of its own, rolls them, and checks the report in the bucket and the
execution's output against the world the local EKS endpoint holds afterwards.

The planner and the updater know their account (conftest.ACCOUNT, A), as on Lambda; other
accounts (conftest.TARGET_ACCOUNTS, each test's own) are served through their target role, which
both functions assume with session SESSION and the nested update executions' polls with
`sfnlocal-<execution name>`. localeks counts every call per account and AssumeRole per role.
"""

from __future__ import annotations

import csv
import io
import json

import conftest
import pytest
from botocore.exceptions import ClientError

import samtemplate
import testkit as tk

FLEET_EVENTS = sorted((tk.EVENTS_DIR / "fleet").glob("*.json"))
FLEET_WORLD = json.loads((tk.FIXTURES_DIR / "fleet-world.json").read_text())
FLEET_EXPECTED = json.loads((tk.FIXTURES_DIR / "fleet-expected.json").read_text())

pytestmark = pytest.mark.usefixtures("logs_on_failure")

A = conftest.ACCOUNT
SESSION = "eks-nodegroup-updater"  # the functions' RoleSessionName (src/aws/sts.rs)
FLEET = "RollFleetStateMachine"
UPDATE = "UpdateNodegroupStateMachine"
LATEST = "1.31.7-20251120"
OLD = "1.31.2-20241115"
COUNT_KEYS = ("updated", "upToDate", "deferred", "wouldUpdate", "failed", "notStarted")


def seed(stack, clusters, *, account=None, trusted=(conftest.ACCOUNT,)):
    """Clusters of the test's own: {name: [node group spec, ...]} or {name: {spec}}; in `account`
    (default the stack's own), with the target role there trusting the accounts `trusted`."""
    specs = []
    for name, spec in clusters.items():
        if isinstance(spec, list):
            spec = {"nodegroups": spec}
        specs.append(
            {
                "name": name,
                "version": "1.31",
                "latestReleases": {"1.31": LATEST, "1.32": "1.32.1-20251120"},
                "publishLatestToSsm": True,
                **spec,
            }
        )
    if account is None:
        stack.eks.seed({"clusters": specs})
    else:
        stack.eks.seed_account(account, {"clusters": specs}, trusted=trusted)


def behind(name, **extra):
    return {"name": name, "version": "1.31", "releaseVersion": OLD, "pollsInProgress": 1, **extra}


def current(name, **extra):
    return {"name": name, "version": "1.31", "releaseVersion": LATEST, **extra}


def report(stack, fleet):
    s3 = stack.s3()
    body = s3.get_object(Bucket=conftest.FLEET_BUCKET, Key=f"fleet/{fleet}/report.json")["Body"].read()
    rows = json.loads(body)
    text = s3.get_object(Bucket=conftest.FLEET_BUCKET, Key=f"fleet/{fleet}/report.csv")["Body"].read().decode()
    csv_rows = list(csv.DictReader(io.StringIO(text)))
    assert len(csv_rows) == len(rows)
    for row, line in zip(rows, csv_rows, strict=True):
        assert list(line) == list(row), "the CSV has the JSON's columns, in order"
        for key, value in row.items():
            assert line[key] == ("" if value is None else str(value)), (key, row, line)
    return rows


def by_name(rows):
    return {(r["clusterName"], r["nodegroupName"]): r for r in rows}


def waves_rolled(ex):
    """How many times the wave Map ran (each wave one Map Run of nested update executions)."""
    return sum(e["stateEnteredEventDetails"]["name"] == "RollWave" for e in ex.events("MapStateEntered"))


def check_counts(summary, rows):
    counts = summary["counts"]
    assert counts["targets"] == len(rows)
    assert sum(counts[k] for k in COUNT_KEYS) == counts["targets"], counts
    assert counts["failed"] == sum(r["status"] in ("FAILED", "TIMED_OUT", "ABORTED") for r in rows)
    assert counts["notStarted"] + counts["wouldUpdate"] == sum(r["status"] == "NOT_STARTED" for r in rows)


def test_selectors_discover_with_globs_exclusions_and_tags(stack):
    seed(
        stack,
        {
            "fl-prod-a": [behind("web", tags={"team": "web"}), behind("gpu-1", tags={"team": "web"}), behind("db")],
            "fl-prod-b": [behind("web", tags={"team": "web"}), current("api", tags={"team": "web"})],
            "fl-stage": [behind("web", tags={"team": "web"})],
        },
    )
    ex = stack.run(
        FLEET,
        {
            "selectors": [
                {
                    "clusters": ["fl-prod-?"],
                    "excludeNodegroups": ["gpu-*"],
                    "nodegroupTags": {"team": "web"},
                    "request": {"version": "cluster"},
                }
            ],
            "maxConcurrency": 2,
        },
        timeout=300,
    )

    assert ex.status == "SUCCEEDED", ex.explain()
    fleet = ex.arn.split(":")[-1]
    rows = report(stack, fleet)
    assert [(r["accountId"], r["clusterName"], r["nodegroupName"]) for r in rows] == [
        (conftest.ACCOUNT, "fl-prod-a", "web"),
        (conftest.ACCOUNT, "fl-prod-b", "api"),
        (conftest.ACCOUNT, "fl-prod-b", "web"),
    ]
    found = by_name(rows)
    assert found["fl-prod-a", "web"]["status"] == "SUCCEEDED"
    assert found["fl-prod-a", "web"]["toReleaseVersion"] == LATEST
    assert found["fl-prod-b", "api"]["status"] == "SETTLED" and found["fl-prod-b", "api"]["planned"] == "UpToDate"
    assert found["fl-prod-b", "api"]["executionArn"] is None
    for row in rows:
        assert row["selector"] == 0 and row["wave"] == 0
    summary = ex.output
    assert summary["fleet"] == fleet
    assert summary["counts"]["updated"] == 2 and summary["counts"]["upToDate"] == 1
    check_counts(summary, rows)
    assert summary["report"] == {
        "bucket": conftest.FLEET_BUCKET,
        "json": f"fleet/{fleet}/report.json",
        "csv": f"fleet/{fleet}/report.csv",
    }
    # The world: what rolled was updated, what the selector left out was not touched.
    for cluster, nodegroup in [("fl-prod-a", "web"), ("fl-prod-b", "web")]:
        ng = stack.eks.nodegroup_state(cluster, nodegroup)
        assert ng["releaseVersion"] == LATEST and ng["updatesCreated"] == 1
        assert found[cluster, nodegroup]["updateId"] and found[cluster, nodegroup]["updateStatus"] == "Successful"
    for cluster, nodegroup in [("fl-prod-a", "gpu-1"), ("fl-prod-a", "db"), ("fl-stage", "web"), ("fl-prod-b", "api")]:
        assert stack.eks.nodegroup_state(cluster, nodegroup)["updateNodegroupVersionCalls"] == 0


def test_each_nodegroup_once_explicit_targets_first_then_selectors_in_order(stack):
    seed(stack, {"fl-ovl": [current("web"), current("api"), current("db")]})
    ex = stack.run(
        FLEET,
        {
            "targets": [{"clusterName": "fl-ovl", "nodegroupName": "web", "wave": 5}],
            "selectors": [
                {"clusters": ["fl-ovl"], "nodegroups": ["api"], "wave": 1},
                {"clusters": ["fl-o*"], "wave": 2},
            ],
        },
    )

    assert ex.status == "SUCCEEDED", ex.explain()
    rows = report(stack, ex.arn.split(":")[-1])
    assert [(r["nodegroupName"], r["wave"], r["selector"]) for r in rows] == [
        ("web", 5, None),
        ("api", 1, 0),
        ("db", 2, 1),
    ]
    # Nothing needed an update: planning settled all three, no wave ran.
    assert all(r["status"] == "SETTLED" for r in rows)
    assert waves_rolled(ex) == 0
    assert [w["wave"] for w in ex.output["waves"]] == [1, 2, 5]


def test_a_dry_run_plans_and_reports_and_starts_nothing(stack):
    seed(stack, {"fl-dry": [behind("web"), current("api"), behind("db", status="CREATE_FAILED")]})
    ex = stack.run(FLEET, {"selectors": [{"clusters": ["fl-dry"]}], "dryRun": True})

    assert ex.status == "SUCCEEDED", ex.explain()
    rows = by_name(report(stack, ex.arn.split(":")[-1]))
    assert rows["fl-dry", "web"]["status"] == "NOT_STARTED" and rows["fl-dry", "web"]["planned"] == "Update"
    assert rows["fl-dry", "api"]["status"] == "SETTLED"
    assert rows["fl-dry", "db"]["status"] == "FAILED" and rows["fl-dry", "db"]["error"] == "PreconditionFailed"
    counts = ex.output["counts"]
    assert (counts["wouldUpdate"], counts["upToDate"], counts["failed"], counts["notStarted"]) == (1, 1, 1, 0)
    assert ex.output["dryRun"] is True
    assert waves_rolled(ex) == 0
    for ng in ("web", "api", "db"):
        assert stack.eks.nodegroup_state("fl-dry", ng)["updateNodegroupVersionCalls"] == 0


def test_a_failed_canary_wave_stops_the_next_wave(stack):
    stack.notifications()  # what earlier rolls sent
    seed(
        stack,
        {"fl-canary": [behind("canary", updateOutcome="Failed"), behind("web"), behind("api")]},
    )
    ex = stack.run(
        FLEET,
        {
            "targets": [{"clusterName": "fl-canary", "nodegroupName": "canary", "wave": 0}],
            "selectors": [{"clusters": ["fl-canary"], "wave": 1}],
            "toleratedFailurePercentage": 0,
        },
        timeout=300,
    )

    assert ex.status == "FAILED", ex.explain()
    assert ex.error == "FleetRollFailed"
    summary = json.loads(ex.cause)
    fleet = ex.arn.split(":")[-1]
    rows = by_name(report(stack, fleet))
    canary = rows["fl-canary", "canary"]
    assert canary["status"] == "FAILED" and canary["error"] == "UpdateFailed"
    assert "PodEvictionFailure" in canary["cause"]
    assert canary["executionArn"].split(":")[6] == conftest.UPDATE_SM_NAME
    for ng in ("web", "api"):
        assert rows["fl-canary", ng]["status"] == "NOT_STARTED"
        assert stack.eks.nodegroup_state("fl-canary", ng)["updateNodegroupVersionCalls"] == 0
    assert summary["counts"]["failed"] == 1 and summary["counts"]["notStarted"] == 2
    assert f"in cluster fl-canary of account {conftest.ACCOUNT} ended Failed" in canary["cause"]
    assert summary["failures"] == [
        {
            "accountId": conftest.ACCOUNT,
            "clusterName": "fl-canary",
            "nodegroupName": "canary",
            "wave": 0,
            "error": "UpdateFailed",
            "cause": canary["cause"][:500] + ("…" if len(canary["cause"]) > 500 else ""),
        }
    ]
    check_counts(summary, list(rows.values()))
    assert waves_rolled(ex) == 1
    # One readable message to the notification topic.
    [notice] = stack.notifications(wait_seconds=2)
    assert notice["Subject"] == f"EKS fleet roll FAILED: 0 updated, 1 failed of 3 ({fleet})"
    assert "fl-canary/canary (wave 0): UpdateFailed" in notice["Message"]
    assert f"s3://{conftest.FLEET_BUCKET}/fleet/{fleet}/report.csv" in notice["Message"]


def test_failures_within_the_tolerance_let_every_wave_run_after_the_soak(stack):
    seed(stack, {"fl-tol": [behind("bad", updateOutcome="Failed"), behind("good1"), behind("good2")]})
    ex = stack.run(
        FLEET,
        {
            "targets": [{"clusterName": "fl-tol", "nodegroupName": "bad", "wave": 0}],
            "selectors": [{"clusters": ["fl-tol"], "wave": 1}],
            "toleratedFailurePercentage": 34,
            "waveSoakMinutes": 1,
        },
        timeout=400,
    )

    assert ex.status == "SUCCEEDED", ex.explain()  # 1 of 3 failed: 33.3 % <= 34 %
    counts = ex.output["counts"]
    assert (counts["failed"], counts["updated"]) == (1, 2)
    assert [(w["wave"], w["failed"], w["updated"]) for w in ex.output["waves"]] == [(0, 1, 0), (1, 0, 2)]
    assert ex.output["failures"][0]["nodegroupName"] == "bad"
    # One soak, between the waves, of waveSoakMinutes: the second wave started a minute after
    # the first one's results were in.
    soaks = [e for e in ex.events("WaitStateEntered") if e["stateEnteredEventDetails"]["name"] == "SoakBetweenWaves"]
    assert (
        len(soaks) == 1 and json.loads(soaks[0]["stateEnteredEventDetails"]["input"])["roll"]["waveSoakSeconds"] == 60
    )
    waves = [
        e["timestamp"] for e in ex.events("MapStateEntered") if e["stateEnteredEventDetails"]["name"] == "RollWave"
    ]
    first_ended = [
        e["timestamp"] for e in ex.events("TaskStateExited") if e["stateExitedEventDetails"]["name"] == "AfterWave"
    ][0]
    assert len(waves) == 2 and (waves[1] - first_ended).total_seconds() >= 60


def test_a_control_plane_being_updated_is_waited_for(stack):
    seed(
        stack,
        {"fl-cp": {"version": "1.32", "updatingDescribes": 2, "nodegroups": [behind("web"), behind("api")]}},
    )
    ex = stack.run(FLEET, {"selectors": [{"clusters": ["fl-cp"], "request": {"version": "cluster"}}]}, timeout=300)

    assert ex.status == "SUCCEEDED", ex.explain()
    rows = report(stack, ex.arn.split(":")[-1])
    assert [r["status"] for r in rows] == ["SUCCEEDED", "SUCCEEDED"]
    assert [r["toVersion"] for r in rows] == ["1.32", "1.32"]
    for ng in ("web", "api"):
        assert stack.eks.nodegroup_state("fl-cp", ng)["version"] == "1.32"


def test_an_invalid_input_fails_before_any_call(stack):
    ex = stack.run(FLEET, {"selector": [{"clusters": ["*"]}], "maxConcurrency": "5"})

    assert ex.status == "FAILED", ex.explain()
    assert ex.error == "InvalidInput"
    message = json.loads(ex.cause)["errorMessage"]
    assert "selectors" in message and "maxConcurrency" in message
    listed = stack.s3().list_objects_v2(Bucket=conftest.FLEET_BUCKET, Prefix=f"fleet/{ex.arn.split(':')[-1]}/")
    assert listed.get("KeyCount", 0) == 0


def test_every_fleet_event_has_an_expectation():
    assert FLEET_EVENTS, "events/fleet/ is empty"
    assert {p.name for p in FLEET_EVENTS} == set(FLEET_EXPECTED)


@pytest.mark.parametrize("path", FLEET_EVENTS, ids=lambda p: p.name)
def test_each_fleet_event_rolls_the_fleet_world_as_expected(stack, path):
    # Each input of events/fleet/ against tests/fixtures/fleet-world.json, seeded afresh.
    stack.eks.seed(FLEET_WORLD)
    want = FLEET_EXPECTED[path.name]
    ex = stack.run(FLEET, json.loads(path.read_text()), timeout=300)

    assert ex.status == want["status"], ex.explain()
    if ex.status == "FAILED":
        assert ex.error == want["error"]
        message = json.loads(ex.cause)["errorMessage"]
        for field in want["causeMentions"]:
            assert field in message, message
        return
    assert ex.output["counts"] == want["counts"]
    rows = report(stack, ex.arn.split(":")[-1])
    assert [[r["accountId"], r["clusterName"], r["nodegroupName"], r["wave"], r["status"]] for r in rows] == want[
        "records"
    ]
    check_counts(ex.output, rows)
    for row in rows:
        ng = stack.eks.nodegroup_state(row["clusterName"], row["nodegroupName"], account=row["accountId"])
        if row["status"] == "SUCCEEDED":
            assert (ng["version"], ng["releaseVersion"]) == (row["toVersion"], row["toReleaseVersion"]), row
        else:
            assert ng["updateNodegroupVersionCalls"] == 0, row


def test_allowed_clusters_bound_discovery_and_refuse_explicit_targets(stack):
    # The planner's ALLOWED_CLUSTERS (conftest.PLANNER_ENV) admits fl-*, not other-*.
    seed(stack, {"fl-allowed": [current("web")], "other-denied": [behind("web")]})
    stack.eks.clear_calls()
    ex = stack.run(
        FLEET,
        {
            "targets": [{"clusterName": "other-denied", "nodegroupName": "web"}],
            "selectors": [{"clusters": ["other-*", "fl-allowed"]}],
        },
    )

    assert ex.status == "FAILED", ex.explain()  # 1 refusal of 2 targets, tolerance 0
    assert ex.error == "FleetRollFailed"
    rows = report(stack, ex.arn.split(":")[-1])
    assert [(r["accountId"], r["clusterName"], r["nodegroupName"], r["status"], r["error"]) for r in rows] == [
        (conftest.ACCOUNT, "other-denied", "web", "FAILED", "NotAllowed"),
        (conftest.ACCOUNT, "fl-allowed", "web", "SETTLED", None),
    ]
    assert waves_rolled(ex) == 0, "refusals past the tolerance stop the roll before any wave"
    calls = stack.eks.calls()
    assert "other-denied" not in calls["byCluster"], calls["byCluster"]
    assert calls["byCluster"]["fl-allowed"] == {
        "eks:DescribeCluster": 1,
        "eks:ListNodegroups": 1,
        "eks:DescribeNodegroup": 1,
    }
    assert calls["total"]["eks:ListClusters"] >= 1
    assert stack.eks.nodegroup_state("other-denied", "web")["updateNodegroupVersionCalls"] == 0


def test_a_cluster_that_cannot_be_read_is_a_failed_record_and_fails_its_targets(stack):
    seed(stack, {"fl-denied": [behind("web"), behind("api")]})
    # The observation's DescribeCluster is refused (Start lists clusters, describes none).
    stack.eks.faults({"operation": "DescribeCluster", "kind": "denied", "count": 1})
    try:
        ex = stack.run(
            FLEET,
            {
                "targets": [{"clusterName": "fl-denied", "nodegroupName": "web"}],
                "selectors": [{"clusters": ["fl-denied"], "wave": 3}],
                "toleratedFailurePercentage": 100,
            },
        )
    finally:
        left = stack.eks.faults()["rules"]
        stack.eks.clear_faults()

    assert left == [], left
    assert ex.status == "SUCCEEDED", ex.explain()
    rows = report(stack, ex.arn.split(":")[-1])
    assert [(r["accountId"], r["nodegroupName"], r["wave"], r["selector"], r["status"], r["error"]) for r in rows] == [
        (conftest.ACCOUNT, "web", 0, None, "FAILED", "AccessDenied"),
        (conftest.ACCOUNT, None, 3, 0, "FAILED", "AccessDenied"),
    ]
    assert "fl-denied" in rows[1]["cause"]
    assert ex.output["counts"]["failed"] == 2 and ex.output["counts"]["targets"] == 2
    assert ex.output["failures"][1]["nodegroupName"] is None
    for ng in ("web", "api"):
        assert stack.eks.nodegroup_state("fl-denied", ng)["updateNodegroupVersionCalls"] == 0


def test_the_templates_default_schedule_input_is_a_dry_run_report(stack):
    default = json.loads(samtemplate.parameter_defaults()["FleetScheduleInput"])
    seed(stack, {"fl-scheduled": [behind("web"), current("api")]})
    ex = stack.run(FLEET, default, timeout=300)

    assert ex.status == "SUCCEEDED", ex.explain()
    assert ex.output["dryRun"] is True and ex.output["counts"]["updated"] == 0
    assert waves_rolled(ex) == 0
    rows = by_name(report(stack, ex.arn.split(":")[-1]))
    assert rows["fl-scheduled", "web"]["status"] == "NOT_STARTED"
    assert rows["fl-scheduled", "api"]["status"] == "SETTLED"
    assert stack.eks.nodegroup_state("fl-scheduled", "web")["updateNodegroupVersionCalls"] == 0


# ------------------------------------------------------------------ other accounts (issue #13)


def record_keys(rows):
    return [(r["accountId"], r["clusterName"], r["nodegroupName"], r["wave"], r["selector"], r["status"]) for r in rows]


def polls_of(stack, execution_arn):
    """The DescribeUpdate tasks of one nested update execution: each its Task's credentials."""
    history = stack.history(execution_arn)
    return [
        e["taskScheduledEventDetails"].get("taskCredentials")
        for e in history
        if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"] == "describeUpdate"
    ]


def test_one_roll_over_two_accounts_writes_one_report(stack):
    b = conftest.FLEET_ACCOUNT
    role = tk.role_arn(b)
    # A cluster of the same name in both accounts, with other node groups: each is its account's only.
    seed(stack, {"fl-two": [behind("web"), current("api")]})
    seed(stack, {"fl-two": [behind("web"), behind("batch")], "fl-two-b": [current("api")]}, account=b)
    stack.eks.clear_calls()
    ex = stack.run(
        FLEET,
        {
            "targets": [{"accountId": b, "clusterName": "fl-two", "nodegroupName": "batch", "wave": 0}],
            "selectors": [{"accounts": [A, b], "clusters": ["fl-two*"], "wave": 1}],
            "maxConcurrency": 2,
        },
        timeout=300,
    )

    assert ex.status == "SUCCEEDED", ex.explain()
    fleet = ex.arn.split(":")[-1]
    rows = report(stack, fleet)  # and the CSV says the same
    # The explicit target first, then the discovered node groups by account, cluster, node group.
    assert record_keys(rows) == [
        (b, "fl-two", "batch", 0, None, "SUCCEEDED"),
        (A, "fl-two", "api", 1, 0, "SETTLED"),
        (A, "fl-two", "web", 1, 0, "SUCCEEDED"),
        (b, "fl-two", "web", 1, 0, "SUCCEEDED"),
        (b, "fl-two-b", "api", 1, 0, "SETTLED"),
    ]
    summary = ex.output
    assert (summary["counts"]["updated"], summary["counts"]["upToDate"], summary["failures"]) == (3, 2, [])
    check_counts(summary, rows)
    rolled = [r for r in rows if r["status"] == "SUCCEEDED"]
    for row in rolled:
        assert (row["outcome"], row["updateStatus"], row["toReleaseVersion"]) == ("Started", "Successful", LATEST), row

    # Each nested execution polled its update in the node group's account: B's as B's role (the
    # Task's Credentials), A's with the state machine's own credentials.
    polls = {(r["accountId"], r["nodegroupName"]): polls_of(stack, r["executionArn"]) for r in rolled}
    assert polls[A, "web"] and all(p is None for p in polls[A, "web"]), polls
    for key in ((b, "batch"), (b, "web")):
        assert polls[key] and all(p == {"roleArn": role} for p in polls[key]), polls

    counts = stack.eks.call_counts()
    in_b, in_a = counts.cluster_in(b, "fl-two"), counts.cluster_in(A, "fl-two")
    assert in_b.get("eks:UpdateNodegroupVersion") == 2 and in_a.get("eks:UpdateNodegroupVersion") == 1, counts.raw
    assert in_b.get("eks:DescribeUpdate") == len(polls[b, "batch"]) + len(polls[b, "web"]), counts.raw
    assert in_a.get("eks:DescribeUpdate") == len(polls[A, "web"]), counts.raw
    assert "eks:UpdateNodegroupVersion" not in counts.cluster_in(b, "fl-two-b"), counts.raw
    # Each account's clusters listed once, in that account.
    assert counts.count(b, "eks", "ListClusters") == counts.count(A, "eks", "ListClusters") == 1, counts.raw
    # B's role: assumed once by each warm function (the planner, the updater), and by each poll.
    sessions = {
        f"sfnlocal-{r['executionArn'].split(':')[-1]}"[:64]: len(polls[b, r["nodegroupName"]])
        for r in rolled
        if r["accountId"] == b
    }
    assumed = counts.assume_role(role)
    assert assumed["bySession"] == {SESSION: 2, **sessions}, assumed
    assert (assumed["refused"], assumed["byCaller"]) == (0, {A: assumed["calls"]}), assumed

    # The world, read with each account's own credentials.
    eks_b = stack.eks.client_as("eks", role)
    for row in rows:
        if row["accountId"] != b:
            continue
        ng = eks_b.describe_nodegroup(clusterName=row["clusterName"], nodegroupName=row["nodegroupName"])["nodegroup"]
        assert ng["releaseVersion"] == LATEST, (row, ng)
        if row["status"] == "SETTLED":
            state = stack.eks.nodegroup_state(row["clusterName"], row["nodegroupName"], account=b)
            assert state["updateNodegroupVersionCalls"] == 0, state
        else:
            update = eks_b.describe_update(
                name=row["clusterName"], nodegroupName=row["nodegroupName"], updateId=row["updateId"]
            )["update"]
            assert update["status"] == "Successful", update
            with pytest.raises(ClientError) as not_here:  # B's update is not A's
                stack.eks.eks().describe_update(
                    name=row["clusterName"], nodegroupName=row["nodegroupName"], updateId=row["updateId"]
                )
            assert not_here.value.response["Error"]["Code"] == "ResourceNotFoundException"
    mine = {ng: stack.eks.nodegroup_state("fl-two", ng, account=A) for ng in ("web", "api")}
    assert (mine["web"]["releaseVersion"], mine["web"]["updatesCreated"]) == (LATEST, 1), mine
    assert mine["api"]["updateNodegroupVersionCalls"] == 0, mine
    theirs = stack.eks.nodegroup_state("fl-two", "web", account=b)
    assert theirs["updatesCreated"] == 1 and not set(theirs["updateIds"]) & set(mine["web"]["updateIds"])


def test_an_account_that_cannot_be_listed_is_one_failed_record(stack):
    untrusting, outside = conftest.FLEET_UNTRUSTING_ACCOUNT, conftest.NOT_ALLOWED_ACCOUNT
    seed(stack, {"fl-acct": [current("web")]})
    # Node groups that need an update in both: only the role's trust and ALLOWED_ACCOUNTS keep
    # the planner out (the role outside ALLOWED_ACCOUNTS trusts A).
    seed(stack, {"fl-acct": [behind("web")]}, account=untrusting, trusted=(conftest.STRANGER_ACCOUNT,))
    seed(stack, {"fl-acct": [behind("web")]}, account=outside)
    stack.eks.clear_calls()
    ex = stack.run(
        FLEET,
        {
            "selectors": [{"accounts": [outside, untrusting, A], "clusters": ["fl-acct"]}],
            "toleratedFailurePercentage": 100,
        },
    )

    assert ex.status == "SUCCEEDED", ex.explain()  # 2 of 3 failed, within 100 %
    rows = report(stack, ex.arn.split(":")[-1])
    assert [(r["accountId"], r["clusterName"], r["nodegroupName"], r["status"], r["error"]) for r in rows] == [
        (A, "fl-acct", "web", "SETTLED", None),
        (untrusting, None, None, "FAILED", "AccessDenied"),
        (outside, None, None, "FAILED", "NotAllowed"),
    ]
    denied, refused = rows[1], rows[2]
    assert f"cannot assume role {tk.role_arn(untrusting)} in account {untrusting}" in denied["cause"], denied
    assert "target-account-role.yaml" in denied["cause"], denied
    assert outside in refused["cause"] and "ALLOWED_ACCOUNTS" in refused["cause"], refused
    for row in (denied, refused):
        assert (row["wave"], row["selector"], row["executionArn"]) == (0, 0, None), row
    assert ex.output["failures"] == [
        {
            "accountId": row["accountId"],
            "clusterName": None,
            "nodegroupName": None,
            "wave": 0,
            "error": row["error"],
            "cause": row["cause"][:500] + ("…" if len(row["cause"]) > 500 else ""),
        }
        for row in (denied, refused)
    ]
    assert waves_rolled(ex) == 0

    counts = stack.eks.call_counts()
    # Outside ALLOWED_ACCOUNTS: no call at all, not even AssumeRole.
    assert counts.count(outside) == 0 and counts.assume_role(tk.role_arn(outside))["calls"] == 0, counts.raw
    # The untrusting role: asked for once by the planner, refused; no call made in that account.
    assert counts.assume_role(tk.role_arn(untrusting)) == {
        "calls": 1,
        "granted": 0,
        "refused": 1,
        "byCaller": {A: 1},
        "bySession": {SESSION: 1},
    }
    assert counts.count(untrusting) == 0, counts.raw
    for account in (untrusting, outside):
        assert stack.eks.nodegroup_state("fl-acct", "web", account=account)["updateNodegroupVersionCalls"] == 0


def test_the_planner_assumes_each_accounts_role_once_per_warm_process(stack):
    # Dry runs: no nested execution, so the updater assumes nothing (it would use the same
    # session name); every AssumeRole counted is the planner's.
    accounts = conftest.WARM_ACCOUNTS
    for account in accounts:
        seed(stack, {"fl-warm": [behind("web"), current("api")]}, account=account)
    stack.eks.clear_calls()
    roll = {"selectors": [{"accounts": list(accounts), "clusters": ["fl-warm"]}], "dryRun": True}
    for _ in range(2):  # the second roll, the same warm planner: no new AssumeRole
        ex = stack.run(FLEET, roll)
        assert ex.status == "SUCCEEDED", ex.explain()
        rows = report(stack, ex.arn.split(":")[-1])
        assert [(r["accountId"], r["clusterName"], r["nodegroupName"], r["status"]) for r in rows] == [
            (account, "fl-warm", ng, status)
            for account in sorted(accounts)
            for ng, status in (("api", "SETTLED"), ("web", "NOT_STARTED"))
        ]
        assert waves_rolled(ex) == 0

    counts = stack.eks.call_counts()
    for account in accounts:
        assert counts.assume_role(tk.role_arn(account)) == {
            "calls": 1,
            "granted": 1,
            "refused": 0,
            "byCaller": {A: 1},
            "bySession": {SESSION: 1},
        }, counts.raw["assumeRole"]
        # Both rolls read the account, through the credentials held since the first.
        made = counts.in_account(account)
        assert made.get("eks:ListClusters") == 2 and "eks:UpdateNodegroupVersion" not in made, made
    assert counts.in_account(A, "sts") == {"sts:AssumeRole": len(accounts)}, counts.raw
