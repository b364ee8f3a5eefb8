"""What the duty screen does when the thermometer stops: offer the manual-entry form, withdraw it when the sensor is
back, and offer it again on returning to the gate screen with the sensor still down.

The form (or the sign-in before it, with PINs on) opens only over the gate screen itself: over maintenance whoever is
there is looking at the sensor, and over another form the keys being typed would land in ours.
"""
from __future__ import annotations

from domain import Health, ManualReason
from gate.i18n import t
from gate.ui.messages import SensorHealthChanged
from gate.ui.screens.manual import ManualEntry
from gate.ui.screens.signin import SignIn

FAULTY = (Health.FAULT, Health.OFFLINE)  # no reading can come from the sensor: measure by hand


def offered_here(screen) -> bool:
    """A form for a reading by hand (or the sign-in before it) is on top already: nothing more to offer."""
    return isinstance(screen, ManualEntry) or (isinstance(screen, SignIn) and screen.why == "manual-entry")


class OffersManualEntry:
    """Mixin for the duty screen (which has ``health``, ``health_reason`` and ``language``)."""

    offer_when_back = False  # the sensor went down while another screen was on top, or maintenance was opened

    def on_sensor_health_changed(self, msg: SensorHealthChanged) -> None:
        self.health = msg.event.health.value
        self.health_reason = msg.event.reason
        top = self.app.screen
        if msg.event.health in FAULTY and not offered_here(top):
            self.notify(t("reason.sensor-fault", self.language, detail=msg.event.reason), severity="error",
                        timeout=6)
            # Offer manual entry at once: the queue at the gate does not wait for the sensor to come back.
            if top is self:
                self.app.action_manual(reason=ManualReason.SENSOR_FAULT)
            else:
                self.offer_when_back = True
        elif msg.event.health is Health.OK:
            self.offer_when_back = False
            if isinstance(top, (ManualEntry, SignIn)):
                # The sensor is back: an offered form or sign-in nobody typed into closes (a scanned id would go
                # into it and the station's keys would wait behind it); one being typed into stays.
                top.withdraw()

    def on_screen_resume(self) -> None:
        # Back at the gate screen (from maintenance, the day view, another form) with the sensor still down: offer
        # the manual form again, under the same rules as on the fault (signed in; the reading audited when stored).
        # Asked after whatever the closing screen still has to do (a sign-in's next screen is pushed from the app's
        # queue), and only if the gate screen itself is on top ("current" would include it behind a modal).
        if self.offer_when_back:
            self.app.call_later(self._offer_again)

    def _offer_again(self) -> None:
        if self.offer_when_back and self.app.screen is self and Health(self.health) in FAULTY:
            self.offer_when_back = False
            self.app.action_manual(reason=ManualReason.SENSOR_FAULT)
