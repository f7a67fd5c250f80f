"""moto made faster where it repeats constant work, without changing any answer.

moto's ``validate_role_arn`` (CreateCluster, CreateNodegroup, seeding too) builds a new boto3
Session and parses botocore's endpoints file on every call, only to list the AWS partitions:
0.1-0.3 s per node group, so seeding 100 clusters of 30 node groups took about a quarter of
an hour. That list is constant for the installed botocore, so it is read once here, on first
use; the check itself (moto's regex, moto's error) is unchanged.

``install()`` is idempotent; app.py calls it at import, so every way of starting the endpoint
(``python -m localeks``, ``localeks.server.make_server``) has it.
"""

from __future__ import annotations

import functools

import moto.eks.utils
from boto3 import Session


@functools.cache
def _partitions() -> tuple[str, ...]:
    return tuple(Session().get_available_partitions())


class _PartitionsOnly:
    """What moto.eks.utils asks of a boto3 Session: the partitions, read once."""

    def get_available_partitions(self) -> list[str]:
        return list(_partitions())


def install() -> None:
    moto.eks.utils.Session = _PartitionsOnly  # type: ignore[assignment]
