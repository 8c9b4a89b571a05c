"""A local Huawei ECS / OpenStack Nova compute API emulator (moto-style).

``models.FakeBackend`` holds the state and raises Nova's errors, ``app`` maps
HTTP requests onto it, ``server.EmulatorServer`` hosts it on a port, and
``client.AdminClient`` drives its ``/_admin`` control API. See README.md.
"""
