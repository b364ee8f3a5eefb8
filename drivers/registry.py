"""Protocol names -> device classes, their default mode and the options each accepts (from the config)."""
from __future__ import annotations

from drivers.gy_mcu90614 import GyMcu90614
from drivers.gy_mcu90640 import GyMcu90640
from drivers.modbus_ir import REGISTER_MAPS, ModbusIr
from drivers.optris_ct import OptrisCT
from drivers.text_line import PRESETS, TextLine

DEVICES = {cls.PROTOCOL: cls for cls in (GyMcu90614, GyMcu90640, ModbusIr, OptrisCT, TextLine)}
PROTOCOLS = tuple(DEVICES)
DEFAULT_MODE = {"gy-mcu90614": "continuous", "gy-mcu90640": "continuous", "modbus-ir": "query",
                "optris-ct": "query", "text-line": "continuous"}
# option name -> (type, description of allowed values, check)
OPTIONS = {
    "modbus-ir": {
        "slave": (int, "1–255", lambda v: 1 <= v <= 255),
        "register_map": (str, ", ".join(REGISTER_MAPS), lambda v: v in REGISTER_MAPS),
    },
    "optris-ct": {"address": (int, "0–15", lambda v: 0 <= v <= 15)},
    "text-line": {"pattern": (str, f"{', '.join(PRESETS)} or a regex with (?P<object>...)", lambda v: bool(v))},
}


def device_class(protocol: str):
    try:
        return DEVICES[protocol]
    except KeyError:
        raise ValueError(f"unknown protocol {protocol!r}; supported: {', '.join(PROTOCOLS)}") from None
