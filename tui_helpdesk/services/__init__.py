"""Every use case and every write. The UI and the CLI call these; nothing here imports from tui/."""
