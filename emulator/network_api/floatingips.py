"""Floating IPs and the routers they need, as Neutron shows them to a project member.

A floating IP comes from an external network (``router:external``) and is bound to a
port by ``port_id``; Neutron allows that only when a router of the project has its
gateway on that external network and an interface on the port's subnet
(``ExternalGatewayForFloatingIPNotFound`` otherwise). One floating IP per port
(``FloatingIPPortAlreadyAssociated``). When the port goes (deleted, or with its
server), the floating IP is disassociated: checked on every read, under the compute
backend's lock. Tags (``PUT /floatingips/{id}/tags/{tag}``, ``?tags=`` on the list)
make pools. ``If-Match: revision_number=N`` on a ``PUT`` (Neutron's ``revision_if_match``)
is a compare-and-swap: 412 ``RevisionNumberConstraintFailed`` when the IP changed since it
was read. Simplification: a router interface creates no port here.

POST/GET /v2.0/routers, GET/DELETE /v2.0/routers/{id}, PUT .../add_router_interface
POST/GET /v2.0/floatingips, GET/PUT/DELETE /v2.0/floatingips/{id}, PUT .../tags/{tag}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.compute.models import FakeBackend
from emulator.core.ids import new_id
from emulator.core.wire import Request, Response, Router
from emulator.network import ipam
from emulator.network_api import errors
from emulator.network_api.floatingip_records import (
    FakeFloatingIp,
    FakeRouter,
    if_match,
    inner,
    router_view,
)

Handler = Callable[[Request, str, dict[str, str]], Response]


class FakeFloatingIps:
    """Routers and floating IPs of every project; each call holds the backend's lock."""

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend
        self.routers: dict[str, FakeRouter] = {}
        self.ips: dict[str, FakeFloatingIp] = {}

    def reset(self) -> None:
        self.routers.clear()
        self.ips.clear()

    def routes(self, router: Router[Handler]) -> None:
        router.add("/routers", {"GET": self.list_routers, "POST": self.create_router})
        router.add("/routers/{id}", {"GET": self.show_router, "DELETE": self.delete_router})
        router.add("/routers/{id}/add_router_interface", {"PUT": self.add_interface})
        router.add("/floatingips", {"GET": self.list_ips, "POST": self.create_ip})
        router.add(
            "/floatingips/{id}",
            {"GET": self.show_ip, "PUT": self.update_ip, "DELETE": self.delete_ip},
        )
        router.add("/floatingips/{id}/tags/{tag}", {"PUT": self.add_tag})

    # -- routers -------------------------------------------------------------------------

    def create_router(self, request: Request, project: str, _: dict[str, str]) -> Response:
        body = inner(request, "router")
        gateway = (body.get("external_gateway_info") or {}).get("network_id")
        with self.backend.transaction():
            if gateway is not None and not self._external(gateway):
                raise errors.network_not_found(str(gateway))
            made = FakeRouter(new_id(None), project, str(body.get("name", "")), gateway)
            self.routers[made.id] = made
            return Response(201, {"router": router_view(made)})

    def list_routers(self, _: Request, project: str, __: dict[str, str]) -> Response:
        with self.backend.transaction():
            mine = [router_view(r) for r in self.routers.values() if r.project_id == project]
        return Response(200, {"routers": mine})

    def show_router(self, _: Request, project: str, params: dict[str, str]) -> Response:
        with self.backend.transaction():
            return Response(200, {"router": router_view(self._router(project, params["id"]))})

    def delete_router(self, _: Request, project: str, params: dict[str, str]) -> Response:
        with self.backend.transaction():
            del self.routers[self._router(project, params["id"]).id]
        return Response(204)

    def add_interface(self, request: Request, project: str, params: dict[str, str]) -> Response:
        document = request.json()
        subnet_id = document.get("subnet_id") if isinstance(document, dict) else None
        with self.backend.transaction():
            router = self._router(project, params["id"])
            network = self._network_of(str(subnet_id))
            if network is None or not network.owned_by(project):
                raise errors.NeutronError(
                    404, "SubnetNotFound", f"Subnet {subnet_id} could not be found."
                )
            router.subnets.add(str(subnet_id))
            answer = {
                "id": router.id,
                "subnet_id": subnet_id,
                "subnet_ids": [subnet_id],
                "network_id": network.id,
                "port_id": new_id(None),
                "tenant_id": project,
                "project_id": project,
            }
        return Response(200, answer)

    # -- floating IPs ---------------------------------------------------------------------

    def create_ip(self, request: Request, project: str, _: dict[str, str]) -> Response:
        body = inner(request, "floatingip")
        network_id = str(body.get("floating_network_id"))
        with self.backend.transaction():
            network = self.backend.neutron.networks.get(network_id)
            if network is None or not network.external:
                raise errors.network_not_found(network_id)
            taken = {ip.address for ip in self.ips.values() if ip.network_id == network_id}
            address = body.get("floating_ip_address") or ipam.first_free_ip(network.cidr, taken)
            if address is None or address in taken:
                raise errors.NeutronError(
                    409, "IpAddressAlreadyAllocated", f"IP address {address} already allocated."
                )
            now = self.backend.neutron.stamp()
            made = FakeFloatingIp(new_id(None), project, network_id, str(address))
            made.created_at = made.updated_at = now
            if body.get("port_id"):
                self._bind(made, str(body["port_id"]))
            self.ips[made.id] = made
            return Response(201, {"floatingip": self._view(made)})

    def list_ips(self, request: Request, project: str, _: dict[str, str]) -> Response:
        wanted = {
            name: set(request.query.get(name, []))
            for name in ("port_id", "floating_ip_address", "id")
        }
        tags = {tag for value in request.query.get("tags", []) for tag in value.split(",") if tag}
        with self.backend.transaction():
            views = [self._view(ip) for ip in self.ips.values() if ip.project_id == project]
        found = [
            v
            for v in views
            if all(not values or str(v[name]) in values for name, values in wanted.items())
            and tags <= set(v["tags"])
        ]
        return Response(200, {"floatingips": found})

    def show_ip(self, _: Request, project: str, params: dict[str, str]) -> Response:
        with self.backend.transaction():
            return Response(200, {"floatingip": self._view(self._ip(project, params["id"]))})

    def update_ip(self, request: Request, project: str, params: dict[str, str]) -> Response:
        body = inner(request, "floatingip")
        expected = if_match(request.headers.get("if-match"))
        with self.backend.transaction():
            found = self._ip(project, params["id"])
            self._settle(found)
            if expected is not None and expected != found.revision:
                raise errors.NeutronError(
                    412,
                    "RevisionNumberConstraintFailed",
                    f"Constrained to {expected}, but current revision is {found.revision}",
                )
            if "port_id" in body:
                if body["port_id"] is None:
                    found.port_id = None
                elif body["port_id"] != found.port_id:
                    self._bind(found, str(body["port_id"]))
            self._touch(found)
            return Response(200, {"floatingip": self._view(found)})

    def delete_ip(self, _: Request, project: str, params: dict[str, str]) -> Response:
        with self.backend.transaction():
            del self.ips[self._ip(project, params["id"]).id]
        return Response(204)

    def add_tag(self, _: Request, project: str, params: dict[str, str]) -> Response:
        with self.backend.transaction():
            found = self._ip(project, params["id"])
            if params["tag"] not in found.tags:
                found.tags.add(params["tag"])
                self._touch(found)  # a tag is an update of the IP (its revision too)
        return Response(201)

    # -- internals (lock held) ------------------------------------------------------------

    def _external(self, network_id: object) -> bool:
        network = self.backend.neutron.networks.get(str(network_id))
        return network is not None and network.external

    def _network_of(self, subnet_id: str) -> Any:
        return next(
            (
                n
                for n in self.backend.neutron.networks.values()
                if subnet_id in (n.subnet_id, n.ipv6_subnet_id)
            ),
            None,
        )

    def _router(self, project: str, router_id: str) -> FakeRouter:
        found = self.routers.get(router_id)
        if found is None or found.project_id != project:
            raise errors.NeutronError(
                404, "RouterNotFound", f"Router {router_id} could not be found"
            )
        return found

    def _ip(self, project: str, ip_id: str) -> FakeFloatingIp:
        found = self.ips.get(ip_id)
        if found is None or found.project_id != project:
            raise errors.NeutronError(
                404, "FloatingIPNotFound", f"Floating IP {ip_id} could not be found"
            )
        return found

    def _bind(self, fip: FakeFloatingIp, port_id: str) -> None:
        port = self.backend.neutron.ports.get(port_id)
        if port is None or port.project_id not in (None, fip.project_id):
            raise errors.port_not_found(port_id)
        subnet = self.backend.neutron.networks[port.net_id].subnet_id
        if self._router_for(fip, subnet) is None:
            raise errors.NeutronError(
                404,
                "ExternalGatewayForFloatingIPNotFound",
                f"External network {fip.network_id} is not reachable from subnet {subnet}.  "
                f"Therefore, cannot associate Port {port_id} with a Floating IP.",
            )
        for other in self.ips.values():
            self._settle(other)
            if other.port_id == port_id and other.id != fip.id:
                raise errors.NeutronError(
                    409,
                    "FloatingIPPortAlreadyAssociated",
                    f"Cannot associate floating IP {fip.address} ({fip.id}) with port {port_id} "
                    f"using fixed IP {port.ip_address}, as that fixed IP already has a floating "
                    f"IP on external network {other.network_id}.",
                )
        fip.port_id = port_id

    def _router_for(self, fip: FakeFloatingIp, subnet_id: str) -> FakeRouter | None:
        return next(
            (
                r
                for r in self.routers.values()
                if r.project_id == fip.project_id
                and r.gateway == fip.network_id
                and subnet_id in r.subnets
            ),
            None,
        )

    def _touch(self, fip: FakeFloatingIp) -> None:
        fip.revision += 1
        fip.updated_at = self.backend.neutron.stamp()

    def _settle(self, fip: FakeFloatingIp) -> None:
        if fip.port_id is not None and fip.port_id not in self.backend.neutron.ports:
            fip.port_id = None
            self._touch(fip)  # Neutron's disassociation is an update of the IP

    def _view(self, fip: FakeFloatingIp) -> dict[str, Any]:
        self._settle(fip)
        port = self.backend.neutron.ports.get(fip.port_id or "")
        router, details = None, None
        if port is not None:
            subnet = self.backend.neutron.networks[port.net_id].subnet_id
            router = self._router_for(fip, subnet)
            details = {
                "name": port.name,
                "network_id": port.net_id,
                "mac_address": port.mac_addr,
                "admin_state_up": port.admin_state_up,
                "status": self.backend.port_status(port),
                "device_id": port.server_id or "",
                "device_owner": port.device_owner,
            }
        return {
            "id": fip.id,
            "floating_ip_address": fip.address,
            "floating_network_id": fip.network_id,
            "port_id": fip.port_id,
            "fixed_ip_address": port.ip_address if port else None,
            "router_id": router.id if router else None,
            "status": "DOWN",
            "tenant_id": fip.project_id,
            "project_id": fip.project_id,
            "description": "",
            "port_details": details,
            "tags": sorted(fip.tags),
            "created_at": fip.created_at,
            "updated_at": fip.updated_at,
            "revision_number": fip.revision,
        }
