"""gate-station: the screening station (policy, station wiring, CLI); the Textual UI lives in gate.ui."""
__version__ = "0.1.0"
