"""The Textual terminal UI. The only package that imports textual; it talks to the core through gate.station."""
