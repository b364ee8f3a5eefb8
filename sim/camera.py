"""The simulated camera's mask answer for the person in front of the simulated sensor.

This is the scene's ground truth, for demos and station tests without a camera; the real mask check classifies
camera frames instead. Results carry source="simulated" so nobody mistakes them for a classifier's.
"""
from __future__ import annotations

from gate.domain import MaskResult, MaskState
from sim.simulator import Simulator


class SimulatedMask:
    def __init__(self, sim: Simulator):
        self.sim = sim

    def current(self) -> MaskResult:
        person = self.sim.scene.person_at(self.sim.now())
        if person is None:
            # The reading is judged a moment after the person stepped away: look at who was there last.
            people = self.sim.scene.people_until(self.sim.now())
            person = people[-1] if people else None
        if person is None:
            return MaskResult(MaskState.UNKNOWN, source="simulated")
        return MaskResult(MaskState.YES if person.mask else MaskState.NO, score=0.99, source="simulated")
