"""The emulator's Nova API through real HTTP, by topic (a package, so its conftest is its own)."""
