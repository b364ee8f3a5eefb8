"""Attacks (a12c) on card scans at the duty screen, closed by f12a: keys that came at a scanner's speed are a card,
only those keys, in the manual-entry form and the sign-in; keys typed at a person's pace are never a card.

The keys' timing is the one the station itself reads (tests.functional.duty_pilot.keys_at): a person types 150 ms apart,
a keyboard-wedge scanner 5 ms apart, then Enter."""
import pytest

from gate.auth import Auth, User
from gate.config import Config, SecurityConfig
from gate.ui.app import build_app
from gate.ui.screens.signin import SignIn
from storage import audit
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.functional.duty_pilot import form_ready, manual, scan, type_slowly
from tests.support import Clock, apply_policy, pilot_wait_until, screen_shown, screen_text

PIN = "581302"
CARD = "20230417"
CONFIG = Config(language="en", mask_mode="off", security=SecurityConfig(lockout_failures=3))


def people(log, staff_pin=PIN):
    """The users first, then the roster (a PIN set before its number reached the roster, as the README says)."""
    auth = Auth(log, "gate-1")
    auth.add_user("admin", "admin", "900417", None)
    auth.add_user("zhang", "duty", staff_pin, User("admin", "admin"))
    import_roster(log, f"id,name,class,kind\n{CARD},张三,三年级二班,pupil\n".encode(), station_id="gate-1",
                  actor="admin")
    apply_policy(log, CONFIG)


def told(app) -> str:
    return " | ".join(n.message for n in app._notifications)


# H1 ------------------------------------------------------------------------------------------------------------------
# Today: the teacher reads 37.5 °C on the handheld gun (a fever by the 37.3 threshold) and has typed "37." into the
# manual-entry form when a pupil's numeric card goes through the scanner (card then Enter). The field becomes
# "37.10000001", the Enter submits it, and the station stores 37.1 °C — ADMIT, anonymous: a fever admitted, the card
# lost, no line said anything. Should: the scanned characters (5 ms apart, after a person's pause) are the card, not
# the temperature's decimals: the field keeps "37.", the card is the person measured (or kept for the next reading,
# with a line), nothing is stored until the teacher finishes the number.
# Variant: "37.8" typed whole (Enter not yet pressed) and a card scanned: the field becomes "37.8S00042" (or
# "37.820230417"), "... is not a temperature: type a number like 36.6" — the teacher retypes 37.8, the reading is
# stored anonymous and the pupil's card is gone (pending None), never screened.
@pytest.mark.parametrize("typed, card", [("37.", "10000001"), ("36.", CARD), ("37.8", "S00042"), ("37.8", CARD)])
async def test_H1_a_card_scanned_after_a_half_typed_temperature_is_never_stored_as_its_decimals(db_path, typed, card):
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en", mask_mode="off"), log, clock=Clock())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f2")
            assert await pilot_wait_until(pilot, lambda: form_ready(app))
            form = app.screen
            await type_slowly(pilot, typed, enter=False)
            await scan(pilot, card)
            await pilot.pause(0.5)
            assert log.count() == 0, f"stored {app.duty.latest.temperature_c} °C {app.duty.latest.decision}"
            assert app.screen is form and form.query_one("#manual-temp").value == typed
            assert card in str(form.query_one("#manual-person").render()) or app.duty.pending_entrant == card
