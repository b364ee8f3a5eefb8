"""When a fixed sensor counts someone as standing in front of it: the presence detector's defaults.

Apart from drivers.measurement so that reading a config (which takes them as its defaults) builds no measurement
class: a typed reading (`gate screen`) never measures (bench/cli_startup.py).
"""

PRESENCE_MARGIN_C = 4.0  # above the background baseline: someone stands in front of the sensor
PRESENCE_FRAMES = 3
