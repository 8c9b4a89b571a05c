"""The test-facing side of the emulator: the ``/_admin`` API, seeds and fault injection.

Like moto's ``moto_api``: ``admin.AdminApp`` creates networks, ports and
servers, reads the state and the request log, resets; ``faults.Faults``
decides how the compute API misbehaves. ``emulator.client.AdminClient`` is
the Python client for all of it.
"""
