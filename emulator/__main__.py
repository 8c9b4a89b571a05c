"""``python -m emulator``: run the emulator until SIGINT/SIGTERM."""

from emulator.cli import main

raise SystemExit(main())
