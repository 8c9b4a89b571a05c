"""The compute service (Nova's os-interface API, as Huawei ECS serves it).

``models.FakeBackend`` holds the servers (and, through the other services'
objects, the whole cloud) and raises Nova's errors; ``responses.ComputeApp``
maps requests onto it; ``schemas`` validates attach bodies word for word,
``views`` renders snapshots per microversion, ``versions`` negotiates them.
"""
