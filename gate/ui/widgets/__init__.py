"""The duty screen's parts, one widget per file; each renders from its own reactive attributes."""
