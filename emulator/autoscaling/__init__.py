"""Huawei Cloud Auto Scaling's lifecycle hooks: ``/autoscaling-api/v1/{project_id}/...``.

Scaling groups (made through the admin API), their lifecycle hooks, and the
instances a hook holds in ``PENDING_WAIT`` ("hanging") until a callback answers
``CONTINUE`` / ``ABANDON`` (``EXTEND`` adds an hour) or the hook's timeout applies
its ``default_result``. ``models.FakeAutoScaling`` holds them, ``responses.AutoScalingApp``
the routes; errors are ``{"error": {"code": "AS.XXXX", "message": ...}}``.
"""
