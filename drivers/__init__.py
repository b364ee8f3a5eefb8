"""Thermometer drivers: transport -> pure framer -> device class -> Reading.

Headless: nothing here imports the UI, storage or the screening policy.
"""
from drivers.base import Health, Reading, SensorError

__all__ = ["Health", "Reading", "SensorError"]
