"""What every emulated service shares: errors, the wire format, routing, hosting, time.

Nothing here knows about servers, ports or tokens; the services
(``compute``, ``network``, ``identity``, ``control``) build on it.
"""
