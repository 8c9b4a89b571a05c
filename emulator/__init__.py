"""A local Huawei ECS / OpenStack Nova compute API emulator (moto-style), one package per service.

    core/      errors, wire format and routing, threaded HTTP server, clock, request log
    network/   networks, subnets, ports, IP and MAC allocation (Neutron's part)
    identity/  accepted tokens; a fake Keystone / AK/SK checker
    compute/   the Nova API: backend (``FakeBackend``), responses, schemas, views
    control/   the ``/_admin`` API, seed documents, fault injection

``app.EmulatorApp`` puts the services behind one ``handle``; the front doors
are ``server.EmulatorServer`` (hosting), ``client.AdminClient`` (control
API), ``cloud.FakeCloudServer`` (behind a fake Keystone) and ``cli`` (the
command). Lower layers never import higher ones, and nothing here imports
``function``. See README.md.
"""
