"""Fault injection: make the next N calls of an operation misbehave.

A rule names an operation (as the AWS API calls it, e.g. DescribeNodegroup,
UpdateNodegroupVersion, GetParameter; "*" for any), a kind of fault and how
many requests it applies to. The first rule (in the order they were added)
that matches a request is used up by one; a rule whose count reaches zero
goes away. Admin requests under /_localeks/ are never faulted.

Kinds:
- throttle: 429 ThrottlingException (SDKs retry it, then give up);
- error500: 500 ServerException (EKS's name; InternalFailure for others);
- stall: wait ``stallSeconds`` (default 10), then answer normally, so a
  client with a shorter timeout gives up first;
- reset: close the connection with a TCP reset, no response at all;
- truncated: send the real response's headers, half of its body, then close;
- notjson: 200 with a body that is not JSON;
- notfound: 404 ResourceNotFoundException, e.g. a DescribeUpdate right after
  the update started, before EKS (eventually consistent) can describe it;
- denied: 403 AccessDeniedException, as IAM refuses a call the role may not make.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .errors import AdminError

KINDS = ("throttle", "error500", "stall", "reset", "truncated", "notjson", "notfound", "denied")


@dataclass
class Rule:
    operation: str
    kind: str
    count: int
    stall_seconds: float
    service: str | None
    hits: int = 0

    def matches(self, service: str | None, operation: str | None) -> bool:
        if self.service is not None and self.service != service:
            return False
        return self.operation == "*" or self.operation == operation

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"operation": self.operation, "kind": self.kind, "count": self.count, "hits": self.hits}
        if self.kind == "stall":
            out["stallSeconds"] = self.stall_seconds
        if self.service is not None:
            out["service"] = self.service
        return out


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []

    def add(self, payload: Any) -> dict[str, Any]:
        """POST /_localeks/faults with one rule, or {"rules": [...]}."""
        specs = payload.get("rules") if isinstance(payload, dict) and "rules" in payload else [payload]
        if not isinstance(specs, list):
            raise AdminError("faults: rules must be a list")
        rules = [self._parse(s) for s in specs]
        with self._lock:
            self._rules.extend(rules)
            return self.listing()

    @staticmethod
    def _parse(spec: Any) -> Rule:
        if not isinstance(spec, dict):
            raise AdminError("faults: a rule must be a JSON object")
        unknown = set(spec) - {"operation", "kind", "count", "stallSeconds", "service"}
        if unknown:
            raise AdminError(f"faults: unknown keys {sorted(unknown)}")
        op, kind = spec.get("operation"), spec.get("kind")
        if not isinstance(op, str) or not op:
            raise AdminError("faults: 'operation' is required (an API operation name, or '*')")
        if kind not in KINDS:
            raise AdminError(f"faults: 'kind' must be one of {list(KINDS)}")
        count = spec.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise AdminError("faults: 'count' must be a positive integer")
        stall = spec.get("stallSeconds", 10)
        if isinstance(stall, bool) or not isinstance(stall, (int, float)) or not 0 <= stall <= 600:
            raise AdminError("faults: 'stallSeconds' must be a number from 0 to 600")
        service = spec.get("service")
        if service is not None and not isinstance(service, str):
            raise AdminError("faults: 'service' must be a string (the signing name, e.g. eks)")
        return Rule(operation=op, kind=kind, count=count, stall_seconds=float(stall), service=service)

    def take(self, service: str | None, operation: str | None) -> Rule | None:
        """The rule this request triggers, if any, counted as used."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(service, operation):
                    rule.count -= 1
                    rule.hits += 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return rule
            return None

    def clear(self) -> dict[str, Any]:
        with self._lock:
            self._rules.clear()
            return self.listing()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.listing()

    def listing(self) -> dict[str, Any]:
        """The rules still armed; call with the lock held."""
        return {"rules": [r.to_api() for r in self._rules]}
