"""Who may call: the compute API's accepted tokens, and a fake Keystone / AK/SK front door.

``tokens.TokenStore`` is what the compute API checks ``X-Auth-Token`` against;
``keystone.FakeKeystone`` issues and checks real-looking credentials, and
``emulator.gateway.KeystoneGateway`` puts it in front of the services.
"""
