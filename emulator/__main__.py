"""``python -m emulator``: run the emulator until SIGINT/SIGTERM."""

from emulator.server import main

raise SystemExit(main())
