"""A writer process for the durability test: appends screenings forever, printing each id after its commit."""
import sys

from drivers.base import Reading
from gate.config import Config
from domain import MaskResult, MaskState
from gate.station import Station
from storage.log import ScreeningLog

log = ScreeningLog(sys.argv[1])
station = Station(Config(station_id="durability"), log)
i = 0
while True:
    i += 1
    s = station.screen([Reading(object_c=36.0 + (i % 20) / 10, source="manual", operator="t")],
                       MaskResult(MaskState.YES), entrant_id=f"p{i}")
    print(s.id, flush=True)
