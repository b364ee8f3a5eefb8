"""Simulated devices on real pseudo-terminals, and scenarios of a school morning. No hardware needed."""
