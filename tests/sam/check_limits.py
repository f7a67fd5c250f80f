"""The polling loops of the state machines stay under Step Functions' history limit (offline).

    tests/sam/.venv/bin/python tests/sam/check_limits.py              # the check
    tests/sam/.venv/bin/python tests/sam/check_limits.py --self-test  # it must catch a loosened bound

Step Functions fails a Standard execution whose history passes 25,000 events. A loop that waits a
template parameter's seconds between two polls (a Wait state whose `Seconds` is a substituted
Number parameter P) runs at most floor(T / P) + 1 times in the time T it is allowed, so its
execution's history is at most

    (floor(max T / min P) + 1) x events per iteration + the rest of the execution

for every value the template accepts, max T and min P being the parameters' MaxValue and MinValue
(CloudFormation cannot relate two parameters, so each is bounded on its own). All of it is derived
from template.yaml and the rendered definitions, none of it listed here:

- the executions: each definition, and each distributed Map's ItemProcessor (its children run as
  executions of their own, with histories of their own);
- the loop: the states on a cycle through the Wait, counted per state type (a Task: entered,
  scheduled, started, succeeded, exited = 5, and TaskSubmitted for `.sync`; a Choice, Wait or
  Pass: entered and exited = 2);
- T: the execution's `TimeoutSeconds`, or, where the definition has none (a Map's child), the
  `*_TIMEOUT_SECONDS` variable of the Lambda function a Task of the loop invokes (the function
  keeps that time and answers that the wait is over);
- the rest: the execution's start and end, every state outside the loop once, and every Task's
  retries once (each failed attempt: scheduled, started, failed = 3), a parameter's MaxAttempts at
  its MaxValue.

An execution may have several polling loops (update-nodegroup: one for an update in this account,
one for an update in another, chosen once before the first poll, so that no poll pays for that
choice): each is counted on its own, the other loops' states once in its rest. Every poll of any
of them waits P, so T bounds their polls together, and the loop with the most events a poll is
the worst case.

A poll whose task fails and is retried adds 3 events per attempt without waiting P (full jitter
can make a retry immediate), which time does not bound: the worst case must stay under BUDGET,
20% below the limit, so that a retry round in about one poll in five still fits. Any other loop in
an execution with a polling loop (one no parameter bounds), a parameter without its bound, or a
state type the count does not know is reported. Exits non-zero with the problems.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import samtemplate

LIMIT = 25_000
BUDGET = 20_000
# Values that stand for a Number parameter in a rendered definition, to find where it is used.
SENTINEL_BASE = 7_000_000


@dataclass
class Execution:
    label: str
    states: dict[str, Any]
    timeout: Any  # the definition's TimeoutSeconds (a sentinel when it is a parameter), or None


def render(template: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[int, str]]]:
    """{state machine: (definition rendered with every Number parameter as a sentinel, {sentinel:
    parameter})}."""
    params = template.get("Parameters", {})
    out = {}
    for logical_id, sm in samtemplate.state_machines(template).items():
        values = samtemplate.default_values(sm, template)
        sentinels: dict[int, str] = {}
        for key, value in sm.substitutions.items():
            name = value.get("Ref") if isinstance(value, dict) else None
            if name in params and params[name].get("Type") == "Number":
                sentinel = SENTINEL_BASE + sorted(params).index(name)
                values[key] = sentinel
                sentinels[sentinel] = name
        out[logical_id] = (json.loads(sm.render(values)), sentinels)
    return out


def executions(logical_id: str, definition: dict[str, Any]) -> list[Execution]:
    """The definition's own execution and each distributed Map's child executions."""
    found = [Execution(logical_id, definition["States"], definition.get("TimeoutSeconds"))]

    def walk(states: dict[str, Any], where: str) -> None:
        for name, state in states.items():
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                mode = (processor.get("ProcessorConfig") or {}).get("Mode")
                if mode == "DISTRIBUTED":
                    found.append(Execution(f"{where} > {name} (child)", processor["States"], None))
                walk(processor["States"], f"{where} > {name}")
            for i, branch in enumerate(state.get("Branches", [])):
                walk(branch["States"], f"{where} > {name}[{i}]")

    walk(definition["States"], logical_id)
    return found


def successors(state: dict[str, Any]) -> set[str]:
    nexts = {state["Next"]} if "Next" in state else set()
    nexts |= {choice["Next"] for choice in state.get("Choices", [])}
    nexts |= {state["Default"]} if "Default" in state else set()
    nexts |= {catch["Next"] for catch in state.get("Catch", [])}
    return nexts


def reachable(states: dict[str, Any], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for succ in successors(states[todo.pop()]):
            if succ not in seen:
                seen.add(succ)
                todo.append(succ)
    return seen


def events(name: str, state: dict[str, Any]) -> int:
    """History events of one pass through a state (without retries)."""
    kind = state["Type"]
    if kind == "Task":
        resource = state.get("Resource", "")
        return 6 if resource.endswith((".sync", ".sync:2", ".waitForTaskToken")) else 5
    if kind in ("Choice", "Wait", "Pass", "Succeed"):
        return 2
    if kind == "Fail":
        return 1
    if kind == "Map" and (state.get("ItemProcessor", {}).get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED":
        return 4  # entered, MapRunStarted, MapRunSucceeded/Failed, exited: the items run elsewhere
    raise ValueError(f"state {name} ({kind}): no event count for this kind of state; add one")


def retry_events(state: dict[str, Any], template: dict[str, Any], sentinels: dict[int, str]) -> int:
    """3 events per retried attempt, every retrier's MaxAttempts at its worst."""
    total = 0
    for retrier in state.get("Retry", []):
        attempts = retrier.get("MaxAttempts", 3)
        if attempts in sentinels:
            attempts = template["Parameters"][sentinels[attempts]]["MaxValue"]
        total += 3 * int(attempts)
    return total


def _function_timeout(template: dict[str, Any], loop: set[str], states: dict[str, Any]) -> tuple[str, str] | None:
    """(parameter, function) when a Task of the loop invokes a function whose environment holds
    a *_TIMEOUT_SECONDS parameter."""
    for name in sorted(loop):
        function = str((states[name].get("Parameters") or {}).get("FunctionName", ""))
        logical_id = function.rsplit(":function:", 1)[-1] if ":function:" in function else None
        resource = template["Resources"].get(logical_id or "", {})
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for var, value in sorted(variables.items()):
            if var.endswith("_TIMEOUT_SECONDS") and isinstance(value, dict) and "Ref" in value:
                return value["Ref"], f"{logical_id}'s {var}"
    return None


def check_execution(
    execution: Execution, template: dict[str, Any], sentinels: dict[int, str]
) -> tuple[list[str], list[str]]:
    """(problems, the arithmetic of each polling loop) of one execution."""
    problems: list[str] = []
    lines: list[str] = []
    params = template["Parameters"]
    states = execution.states
    anchors = [n for n, s in states.items() if s["Type"] == "Wait" and s.get("Seconds") in sentinels]
    if not anchors:
        return problems, lines
    reach = {name: reachable(states, name) for name in states}
    on_cycle = {name for name in states if name in reach[name]}
    loops: dict[str, set[str]] = {}
    for anchor in anchors:
        loops[anchor] = {n for n in states if n in reach[anchor] and anchor in reach[n]}
    covered = set().union(*loops.values())
    for name in sorted(on_cycle - covered):
        problems.append(f"{execution.label}: {name} is on a loop that waits on no parameter; nothing bounds it")
    for anchor, loop in loops.items():
        if len([a for a in anchors if a in loop]) > 1:
            problems.append(f"{execution.label}: {anchor}'s loop has more than one polling wait; count it by hand")
            continue
        poll = sentinels[states[anchor]["Seconds"]]
        if execution.timeout in sentinels:
            timeout, keeper = sentinels[execution.timeout], "the execution's TimeoutSeconds"
        else:
            found = _function_timeout(template, loop, states)
            if found is None:
                problems.append(
                    f"{execution.label}: the loop through {anchor} has no TimeoutSeconds of a parameter and "
                    "invokes no function that keeps a *_TIMEOUT_SECONDS of one: nothing bounds how often it polls"
                )
                continue
            timeout, keeper = found
        min_poll, max_timeout = params[poll].get("MinValue"), params[timeout].get("MaxValue")
        if min_poll is None or int(min_poll) < 1:
            problems.append(f"{poll} has no MinValue of at least 1: the loop through {anchor} is unbounded")
            continue
        if max_timeout is None:
            problems.append(f"{timeout} has no MaxValue: the loop through {anchor} is unbounded")
            continue
        try:
            per_iteration = sum(events(n, states[n]) for n in loop)
            rest = 2 + sum(events(n, s) for n, s in states.items() if n not in loop)
        except ValueError as e:
            problems.append(f"{execution.label}: {e}")
            continue
        retries = sum(retry_events(s, template, sentinels) for s in states.values() if s["Type"] == "Task")
        iterations = int(max_timeout) // int(min_poll) + 1
        total = iterations * per_iteration + rest + retries
        lines.append(
            f"{execution.label}: {' -> '.join(sorted(loop))} = {per_iteration} events a poll; "
            f"{timeout} <= {max_timeout} ({keeper}) / {poll} >= {min_poll} -> {iterations} polls; "
            f"{iterations} x {per_iteration} + {rest} (the other states, start, end) + {retries} (retries) "
            f"= {total} events (budget {BUDGET}, limit {LIMIT})"
        )
        if total > BUDGET:
            problems.append(
                f"{execution.label}: up to {total} history events (the loop through {anchor}), over the "
                f"budget of {BUDGET} (the limit is {LIMIT}): raise {poll}'s MinValue or lower {timeout}'s MaxValue"
            )
    return problems, lines


def check(
    template: dict[str, Any], definitions: dict[str, tuple[dict[str, Any], dict[int, str]]] | None = None
) -> tuple[list[str], list[str]]:
    definitions = definitions if definitions is not None else render(template)
    problems: list[str] = []
    lines: list[str] = []
    for logical_id, (definition, sentinels) in definitions.items():
        for execution in executions(logical_id, definition):
            p, line = check_execution(execution, template, sentinels)
            problems += p
            lines += line
    if not lines and not problems:
        problems.append("no polling loop found: the definitions or this check changed")
    return problems, lines


# ----------------------------------------------------------------- self-test


def self_test() -> int:
    template = samtemplate.load_template()
    definitions = render(template)
    failures = []
    baseline, _ = check(template, definitions)
    if baseline:
        failures.append(f"the unmutated template does not pass: {baseline}")

    def template_with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        mutated = copy.deepcopy(template)
        change(mutated)
        return mutated

    def definitions_with(logical_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        mutated = copy.deepcopy(definitions)
        change(mutated[logical_id][0])
        return mutated

    def poll_every_second(t: dict[str, Any]) -> None:
        t["Parameters"]["PollIntervalSeconds"]["MinValue"] = 1

    def no_timeout_bound(t: dict[str, Any]) -> None:
        del t["Parameters"]["UpdateTimeoutSeconds"]["MaxValue"]

    def planner_without_timeout(t: dict[str, Any]) -> None:
        del t["Resources"]["PlannerFunction"]["Properties"]["Environment"]["Variables"]["UPDATE_TIMEOUT_SECONDS"]

    def no_execution_timeout(d: dict[str, Any]) -> None:
        del d["TimeoutSeconds"]

    cases = [
        ("polls every second", template_with(poll_every_second), definitions, "over the budget"),
        ("a timeout without MaxValue", template_with(no_timeout_bound), definitions, "has no MaxValue"),
        (
            "a definition without TimeoutSeconds",
            template,
            definitions_with("UpdateNodegroupStateMachine", no_execution_timeout),
            "nothing bounds how often it polls",
        ),
        (
            "a planner that no longer keeps the timeout",
            template_with(planner_without_timeout),
            definitions,
            "RollFleetStateMachine > ObserveClusters (child): the loop through WaitForControlPlane",
        ),
    ]
    outcomes = [(name, check(t, d)[0], needle) for name, t, d, needle in cases]
    return samtemplate.mutations_reported("history limit check", failures, outcomes)


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    problems, lines = check(samtemplate.load_template())
    for line in lines:
        print(line)
    if problems:
        print("history limit check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"history limit check: every polling loop stays under {BUDGET} events for every accepted parameter value")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
