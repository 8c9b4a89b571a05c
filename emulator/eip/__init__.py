"""Huawei's elastic IP API (``/v1/{project_id}/publicips``, tags under ``/v2.0/{project_id}``)."""
