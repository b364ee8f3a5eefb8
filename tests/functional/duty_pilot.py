"""What the duty-screen pilot tests share: the banner's text, the manual-entry form, a reading typed by hand, a card
scanned and keys typed by a person (told apart by the keys' times)."""
import time

from gate.ui.screens.manual import ManualEntry
from tests.support import pilot_wait_until, typing_goes_to

PERSON_GAP_S = 0.15  # a person at the keyboard: between keys, and at least this between one run of keys and the next


def banner(app) -> str:
    """The duty screen's banner (asked of the duty screen: a form may be on top)."""
    return str(app.duty.query_one("#banner").render())


def form_ready(app) -> bool:
    """The manual-entry form is on top with the cursor in its temperature field (typing goes there)."""
    return isinstance(app.screen, ManualEntry) and typing_goes_to(app, "manual-temp")


async def manual(pilot, text: str):
    await pilot.press("f2")
    assert await pilot_wait_until(pilot, lambda: form_ready(pilot.app)), "the manual-entry form"
    await pilot.press(*text, "enter")


async def keys_at(pilot, text: str, gap_s: float, enter: bool = True) -> None:
    """Type ``text`` (then Enter) with ``gap_s`` between the keys by the keys' own times, as the terminal would
    stamp them: the station tells a card scanner from a person by those times alone."""
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    # Runs follow each other as a person's pause after the last one's last key, even when the pilot sends keys
    # faster than their stamps say (stamps run ahead of the clock): "mum" typed then a card scanned at once must not
    # look like one run "m…" to the station.
    at = max(time.monotonic(), getattr(app, "_pilot_keys_end", 0.0) + PERSON_GAP_S)
    keys = [*text, "enter"] if enter else [*text]
    for n, key in enumerate(keys):
        event = events.Key("enter", "\r") if key == "enter" else events.Key(
            key if key.isalnum() else _character_to_key(key), key)
        event.time = at + n * gap_s
        event.set_sender(app)
        app._driver.send_message(event)
        await pilot.pause()
    app._pilot_keys_end = at + (len(keys) - 1) * gap_s


async def scan(pilot, card: str) -> None:
    """A keyboard-wedge scanner: the card's characters 5 ms apart, then Enter."""
    await keys_at(pilot, card, 0.005)


async def type_slowly(pilot, text: str, enter: bool = True) -> None:
    """A person at the keyboard: 150 ms between keys."""
    await keys_at(pilot, text, PERSON_GAP_S, enter)
