"""Auto Scaling lifecycle hooks: the AS API client and the releaser that answers a hook
after the server's NICs are done (or were not)."""
