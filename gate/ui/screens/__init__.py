"""The app's screens, one per file; each owns the workers that feed it."""
