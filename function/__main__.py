"""``python -m function``: the ``nic-autoattach`` command line."""

from function.cli import main

raise SystemExit(main())
