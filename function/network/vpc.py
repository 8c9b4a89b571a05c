"""Huawei's VPC API in its two versions (``/v1`` and ``/v2.0``), as the EIP and bandwidth
clients both call it: one keep-alive session, the VPC error reader, one gate for both."""

from __future__ import annotations

from typing import Any

from function.gate import Gate
from function.network.errors import read_fault
from function.transport.api import JsonApi, Signer
from function.transport.session import HttpSession


class VpcApis:
    """``_v1`` and ``_v2`` for a subclass's calls; thread-safe."""

    def __init__(self, session: HttpSession, endpoint: str, auth: Signer, **kwargs: Any) -> None:
        self._v1 = JsonApi(session, endpoint, auth, read_fault, api_version="v1", **kwargs)
        self._v2 = JsonApi(session, endpoint, auth, read_fault, api_version="v2.0", **kwargs)

    def limit(self, gate: Gate) -> None:
        """Both versions' requests pass ``gate`` (the API's own limit)."""
        self._v1.limiter = self._v2.limiter = gate
