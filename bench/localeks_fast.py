"""Starts tests/localeks for the benchmark, with one start-up shortcut.

moto's `validate_role_arn` builds a new boto3 Session (and parses botocore's endpoints
file) on every CreateCluster/CreateNodegroup just to list the partitions: 62 ms per
seeded node group, which made seeding fresh node groups for 1,000 warm invocations take
minutes. The list is constant, so it is computed once here. Only seeding goes through that
check; the calls the benchmark measures (DescribeNodegroup, DescribeCluster, GetParameter,
UpdateNodegroupVersion) run moto and localeks unchanged.

Same command line and start-up protocol as `python -m localeks`; bench/run.py starts it with
testkit.local_eks(script=...), which puts tests/localeks on PYTHONPATH so `localeks` imports.
"""

import sys

import moto.eks.utils
from boto3 import Session

_PARTITIONS = Session().get_available_partitions()


class _Partitions:
    def get_available_partitions(self) -> list:
        return list(_PARTITIONS)


moto.eks.utils.Session = _Partitions  # type: ignore[assignment]

from localeks.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
