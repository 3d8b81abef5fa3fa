"""pytest fixtures for the embedded demo org (filled in by the emulator)."""
