"""Protocol names -> device classes. Each device class takes an open port and offers ``start()`` and ``samples()``."""
from __future__ import annotations

from drivers.gy_mcu90614_device import GyMcu90614

DEVICES = {cls.PROTOCOL: cls for cls in (GyMcu90614,)}
PROTOCOLS = tuple(DEVICES)


def device_class(protocol: str):
    try:
        return DEVICES[protocol]
    except KeyError:
        raise ValueError(f"unknown protocol {protocol!r}; supported: {', '.join(PROTOCOLS)}") from None
