"""The networking service (Neutron's part in an attach): networks, subnets, ports, addresses.

``models.FakeNeutron`` allocates ports and fixed IPs (``ipam``) and raises the
errors Nova passes on; the compute backend calls it under its own lock.
"""
