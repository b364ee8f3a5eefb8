"""Where Modbus IR transmitters keep their readings: the register maps the `register_map` option names.

Apart from the protocol module, so the config and the command line can name the maps without loading pymodbus.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegisterMap:
    object: int = 0x0E  # filtered object temperature
    ambient: int = 0x10  # sensor (head) temperature
    status: int = 0x11
    serial: int = 0x02  # two words
    emissivity: int = 0x07  # x 0.0001
    function: int = 3  # 3 = holding registers, 4 = input registers


REGISTER_MAPS = {
    "omega": RegisterMap(),
    "calex": RegisterMap(object=0x0F, ambient=0x11, status=0x12, serial=0x03, emissivity=0x08),
}
