"""Protocol names -> device classes, their default mode and the options each accepts (from the config).

A device class is imported when a sensor of its protocol is opened, not when a config is read: the Modbus one loads
pymodbus, which `gate screen` and `gate config check` never need.
"""
from __future__ import annotations

import importlib
from functools import cache

# protocol -> "module:class"; each module's PROTOCOL is the key (a test checks)
DEVICES = {
    "gy-mcu90614": "drivers.gy_mcu90614:GyMcu90614",
    "gy-mcu90640": "drivers.gy_mcu90640:GyMcu90640",
    "modbus-ir": "drivers.modbus_ir:ModbusIr",
    "optris-ct": "drivers.optris_ct:OptrisCT",
    "text-line": "drivers.text_line:TextLine",
}
PROTOCOLS = tuple(DEVICES)
DEFAULT_MODE = {"gy-mcu90614": "continuous", "gy-mcu90640": "continuous", "modbus-ir": "query",
                "optris-ct": "query", "text-line": "continuous"}


@cache
def _options() -> dict:
    """protocol -> option name -> (type, description of allowed values, check)."""
    # The register maps and the text-line presets (with pyserial) load only when a sensor's options are checked: a
    # config without them, and `gate screen`, need neither.
    from drivers.modbus_maps import REGISTER_MAPS
    from drivers.text_line import PRESETS

    return {
        "modbus-ir": {
            "slave": (int, "1–255", lambda v: 1 <= v <= 255),
            "register_map": (str, ", ".join(REGISTER_MAPS), lambda v: v in REGISTER_MAPS),
        },
        "optris-ct": {"address": (int, "0–15", lambda v: 0 <= v <= 15)},
        "text-line": {"pattern": (str, f"{', '.join(PRESETS)} or a regex with (?P<object>...)", lambda v: bool(v))},
    }


def __getattr__(name: str):
    if name == "OPTIONS":  # `from drivers.registry import OPTIONS` builds it then
        return _options()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def device_class(protocol: str):
    try:
        module, name = DEVICES[protocol].split(":")
    except KeyError:
        raise ValueError(f"unknown protocol {protocol!r}; supported: {', '.join(PROTOCOLS)}") from None
    return getattr(importlib.import_module(module), name)
