"""What the duty-screen pilot tests share: a station on a fresh log under Textual's pilot (with its staff and a pupil
on the roster, if asked), the banner's text and the notices, a screen opened by its key, the manual-entry form and a
reading typed by hand, the sign-in, a card scanned and keys typed by a person (told apart by the keys' times)."""
import contextlib
import time

from gate.auth import Auth, User
from gate.config import Config, SecurityConfig
from gate.ui.app import build_app
from gate.ui.screens.base import AnswersOnce
from gate.ui.screens.manual import ManualEntry
from gate.ui.screens.signin import SignIn
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import (Clock, apply_policy, empty_log, log_from_template, pilot_wait_until, screen_shown,
                           typing_goes_to)

PERSON_GAP_S = 0.15  # a person at the keyboard: between keys, and at least this between one run of keys and the next
GATE = Config(language="en", mask_mode="off")  # an English gate without a camera: a reading alone decides
PIN = "581302"  # the duty teacher zhang's PIN
CARD = "20230417"  # a pupil's card on the roster: eight digits, a valid PIN by its format
STAFFED = Config(language="en", mask_mode="off", security=SecurityConfig(lockout_failures=3))


def zhang_and_a_pupil(log, staff_pin: str = PIN, roster: bool = True) -> None:
    """An admin and the duty teacher zhang, then (``roster``) the pupil 张三 whose card is CARD, then the policy of
    STAFFED: users first, so that a PIN set before its number reached the roster can be tried (as the README says)."""
    auth = Auth(log, "gate-1")
    auth.add_user("admin", "admin", "900417", None)
    auth.add_user("zhang", "duty", staff_pin, User("admin", "admin"))
    if roster:
        import_roster(log, f"id,name,class,kind\n{CARD},张三,三年级二班,pupil\n".encode(), station_id="gate-1",
                      actor="admin")
    apply_policy(log, STAFFED)


@contextlib.asynccontextmanager
async def duty_screen(db_path, config: Config = GATE, *, size=(100, 30), staff=None, staffed=None, clock=None,
                      before=None, **app_kw):
    """The gate's duty screen on the log at ``db_path`` under the pilot; yields ``(pilot, app, log)``. ``staff(log)``
    fills the log first (users, roster, policy); with staff (or ``staffed``: users from an earlier run) the screen is
    waited on to know it has users; ``before(app)`` runs before the screen starts (a screening stored earlier, say);
    the clock is a test Clock unless one is given. A new log is a copy of an empty one made once a run (its schema's
    migrations are not what these tests are about)."""
    if not db_path.exists():
        log_from_template(db_path, empty_log)
    with ScreeningLog(db_path) as log:
        if staff is not None:
            staff(log)
        app = build_app(config, log, clock=Clock() if clock is None else clock, **app_kw)
        if before is not None:
            before(app)
        async with app.run_test(size=size) as pilot:
            if staffed or (staffed is None and staff is not None):
                assert await pilot_wait_until(pilot, lambda: app.users_exist), "the users, learnt at mount"
            yield pilot, app, log


def banner(app) -> str:
    """The duty screen's banner (asked of the duty screen: a form may be on top)."""
    return str(app.duty.query_one("#banner").render())


def notices(app) -> str:
    """Every notice the station has shown, oldest first, one ` | ` between them."""
    return " | ".join(n.message for n in app._notifications)


async def wait_told(pilot, words: str) -> None:
    """Wait for a notice holding ``words`` (App.notify posts a message: it lands a moment after what caused it)."""
    assert await pilot_wait_until(pilot, lambda: words in notices(pilot.app)), notices(pilot.app)


async def open_screen(pilot, key: str, screen_type):
    """Press the screen's key and wait until that screen is on top and built; returns it."""
    await pilot.press(key)
    assert await pilot_wait_until(pilot, lambda: screen_shown(pilot.app, screen_type)), screen_type.__name__
    return pilot.app.screen


async def focus(pilot, field):
    """Give ``field`` the keys (a click on it, say) and let the app take that in; returns it."""
    field.focus()
    await pilot.pause()
    return field


def form_ready(app) -> bool:
    """The manual-entry form is on top with the cursor in its temperature field (typing goes there)."""
    return isinstance(app.screen, ManualEntry) and typing_goes_to(app, "manual-temp")


async def open_form(pilot) -> ManualEntry:
    """F2, then wait for the manual-entry form with the cursor in its temperature field; returns the form."""
    await pilot.press("f2")
    assert await pilot_wait_until(pilot, lambda: form_ready(pilot.app)), "the manual-entry form"
    return pilot.app.screen


async def manual(pilot, text: str):
    await open_form(pilot)
    await pilot.press(*text, "enter")


async def measured(pilot, text: str):
    """A reading typed by hand in the manual-entry form; waits for the screening it makes and returns it."""
    duty, before = pilot.app.duty, pilot.app.duty.latest
    await manual(pilot, text)
    assert await pilot_wait_until(pilot, lambda: duty.latest is not None and duty.latest is not before), text
    return duty.latest


async def open_signin(pilot) -> SignIn:
    """F2 at a station with users: the sign-in comes first; returns it."""
    return await open_screen(pilot, "f2", SignIn)


async def name_typed(pilot, name: str) -> None:
    """The user name and Enter at a person's pace in the sign-in, and the cursor waited for in the PIN field (the
    form moves it there a moment after the Enter: a key typed at once would land in the name)."""
    await type_slowly(pilot, name)
    assert await pilot_wait_until(pilot, lambda: typing_goes_to(pilot.app, "signin-pin")), "the cursor in the PIN"


def pin_check_running(app) -> bool:
    """A sign-in has a PIN on its way through the (deliberately slow) check: its answer is still to come."""
    return any(isinstance(s, SignIn) and s.checking for s in app.screen_stack)


def settled(app) -> bool:
    """No PIN on its way, and the screen on top is not a form that has answered and is closing."""
    return not pin_check_running(app) and not (isinstance(app.screen, AnswersOnce) and app.screen.answered)


async def at_the_pin_field(pilot, name: str = "zhang") -> SignIn:
    """Back to the gate screen if elsewhere, F2, and the user name typed at a person's pace: the cursor is in the
    sign-in's PIN field (a sign-in already open is taken as it is, once the answer to a PIN on its way has come: on
    a loaded machine it comes after the next keys); returns the sign-in."""
    app = pilot.app
    while True:
        assert await pilot_wait_until(pilot, lambda: settled(app)), ("the PIN check to end", app.screen_stack)
        if isinstance(app.screen, SignIn):
            return app.screen
        if app.screen is app.duty:
            await open_signin(pilot)
            await name_typed(pilot, name)
        else:
            top = app.screen
            await pilot.press("escape")
            assert await pilot_wait_until(pilot, lambda: app.screen is not top), f"{type(top).__name__} to close"


async def sign_in(pilot, name: str, pin: str, key: str = "f2") -> None:
    """The key of a screen that needs a user, then the name and the PIN typed at a person's pace (keys at a
    scanner's speed in the PIN field are a card)."""
    await open_screen(pilot, key, SignIn)
    await name_typed(pilot, name)
    await type_slowly(pilot, pin)


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
