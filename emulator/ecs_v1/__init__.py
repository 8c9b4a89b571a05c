"""Huawei ECS's native v1 NIC API: ``/v1/{project_id}/cloudservers/...`` and ``.../jobs``.

The same cloud as the Nova API (servers, networks and ports are the compute
backend's), answered the Huawei way: adding or deleting NICs starts a *job*
that runs for ``job_seconds`` and only then changes the server; errors are
``{"error": {"code": "Ecs.XXXX", "message": ...}}``. ``models.FakeEcsV1``
holds the jobs, ``responses.EcsV1App`` the routes.
"""
