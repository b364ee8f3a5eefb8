"""What the duty screen does when the thermometer stops: offer the manual-entry form, withdraw it when the sensor is
back, and offer it again on returning to the gate screen with the sensor still down.

The fault is told at once (a notice, and the status bar); the form (or the sign-in before it, with PINs on) opens
once the sensor has stayed down for ``OFFER_AFTER_S`` by the station's clock, so a cable that comes loose for a second
every few seconds does not push a form in and out under the teacher's keys and the scanner. It opens only over the
gate screen itself: over maintenance whoever is there is looking at the sensor, and over another form the keys being
typed would land in ours; it is offered when the gate screen is back with the sensor still down.
"""
from __future__ import annotations

from domain import Health, ManualReason
from gate.i18n import t
from gate.ui.messages import SensorHealthChanged
from gate.ui.screens.manual import ManualEntry
from gate.ui.screens.signin import SignIn

FAULTY = (Health.FAULT, Health.OFFLINE)  # no reading can come from the sensor: measure by hand
OFFER_AFTER_S = 3.0  # down this long (by the station's clock) before the form is pushed at the teacher
CHECK_EVERY_S = 0.5


def offered_here(screen) -> bool:
    """A form for a reading by hand (or the sign-in before it) is on top already: nothing more to offer."""
    return isinstance(screen, ManualEntry) or (isinstance(screen, SignIn) and screen.why == "manual-entry")


class OffersManualEntry:
    """Mixin for the duty screen (which has ``health``, ``health_reason``, ``language`` and ``clock``)."""

    down_since: float | None = None  # when the sensor went to fault or offline (the station's clock)
    offer_due = False  # the form is to be offered: a new outage, or back from maintenance / another screen

    def watch_for_faults(self) -> None:
        self.set_interval(CHECK_EVERY_S, self.offer_if_due)

    def on_sensor_health_changed(self, msg: SensorHealthChanged) -> None:
        self.health = msg.event.health.value
        self.health_reason = msg.event.reason
        top = self.app.screen
        if msg.event.health in FAULTY:
            if self.down_since is None:  # a new outage (fault → offline is the same one)
                self.down_since, self.offer_due = self.clock(), True
            if not offered_here(top):
                self.notify(t("reason.sensor-fault", self.language, detail=msg.event.reason), severity="error",
                            timeout=6)
            self.offer_if_due()
            return
        self.down_since, self.offer_due = None, False
        if msg.event.health is Health.OK and isinstance(top, (ManualEntry, SignIn)):
            # The sensor is back: an offered form or sign-in nobody typed into closes (a scanned id would go into it
            # and the station's keys would wait behind it); one being typed into stays.
            top.withdraw()

    def offer_when_back(self) -> None:
        """Offer the form again when the gate screen is back and the sensor still down (leaving maintenance)."""
        self.offer_due = self.offer_due or self.down_since is not None

    def on_screen_resume(self) -> None:
        # Asked after whatever the closing screen still has to do (a sign-in's next screen is pushed from the app's
        # queue): only the gate screen itself on top counts ("current" would include it behind a modal).
        if self.offer_due:
            self.app.call_later(self.offer_if_due)

    def offer_if_due(self) -> None:
        """Offer manual entry (the same way as F2: signed in; the reading audited when stored) if it is due: the
        queue at the gate does not wait for the sensor to come back."""
        if (self.offer_due and self.down_since is not None and self.app.screen is self
                and self.clock() - self.down_since >= OFFER_AFTER_S):
            self.offer_due = False
            self.app.action_manual(reason=ManualReason.SENSOR_FAULT)
