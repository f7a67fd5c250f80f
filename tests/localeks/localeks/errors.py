"""EKS error responses, shaped exactly as the real service sends them.

restJson1 clients (the AWS SDK for Rust, botocore) take the error name from
the ``x-amzn-ErrorType`` header first, then from the body. The body carries
``message`` and the resource names EKS adds to its errors.
"""

from __future__ import annotations

from typing import Any

STATUS = {
    "ResourceNotFoundException": 404,
    "ResourceInUseException": 409,
    "InvalidParameterException": 400,
    "InvalidRequestException": 400,
    "ClientException": 400,
    "ServerException": 500,
    "ThrottlingException": 429,
}


class EksError(Exception):
    """An error the endpoint answers with instead of a result."""

    def __init__(
        self,
        name: str,
        message: str,
        cluster: str | None = None,
        nodegroup: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.cluster = cluster
        self.nodegroup = nodegroup
        self.status = status or STATUS.get(name, 400)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        # EKS names the resources in its error bodies; null fields are left
        # out so no client has to cope with them.
        if self.cluster is not None:
            body["clusterName"] = self.cluster
        if self.nodegroup is not None:
            body["nodegroupName"] = self.nodegroup
        # Redundant with the header, but lets a client that only reads the
        # body (awsJson style) still see the name.
        body["__type"] = self.name
        return body


def not_found_cluster(cluster: str) -> EksError:
    # Same text as EKS (and moto) use.
    return EksError("ResourceNotFoundException", f"No cluster found for name: {cluster}.", cluster)


def not_found_nodegroup(cluster: str, nodegroup: str) -> EksError:
    return EksError(
        "ResourceNotFoundException",
        f"No node group found for name: {nodegroup}.",
        cluster,
        nodegroup,
    )


def invalid_parameter(message: str, cluster: str | None = None, nodegroup: str | None = None) -> EksError:
    return EksError("InvalidParameterException", message, cluster, nodegroup)


class AdminError(Exception):
    """A bad request to the /_localeks/ admin API (always HTTP 400)."""
