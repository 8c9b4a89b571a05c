"""Neutron's REST API (``/v2.0/ports``, networks, subnets, security groups) for one project.

``models.FakeNetworkApi`` works on the same ports and networks the compute APIs
attach (``emulator.network``), scoped to the caller's project as Neutron scopes
a project member; ``responses.NetworkApp`` parses and answers Neutron's JSON.
"""
