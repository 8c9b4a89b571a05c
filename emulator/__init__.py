"""A local Huawei ECS / OpenStack Nova compute API emulator (moto-style), one package per service.

    core/      errors, wire format and routing, threaded HTTP server, clock, request log
    network/   networks, subnets, ports, IP and MAC allocation (Neutron's part)
    identity/  accepted tokens; a fake Keystone / AK/SK checker
    compute/   the Nova API: backend (``FakeBackend``), responses, schemas, views
    ecs_v1/, autoscaling/, eip/, network_api/, eventgrid/   the other services
    control/   the ``/_admin`` API, seed documents, fault injection, latency, rate limit

``app.EmulatorApp`` puts the services behind one ``handle`` (one route table; with a
``gateway.KeystoneGateway`` in front, a whole cloud behind one address); the front
doors are ``server.EmulatorServer`` (hosting; ``server.FakeCloudServer`` is the same
with a fake Keystone), ``client.AdminClient`` (control API) and ``cli`` (the command).
Lower layers never import higher ones, and nothing here imports ``function``
(import-linter contracts in pyproject.toml). See README.md.
"""
