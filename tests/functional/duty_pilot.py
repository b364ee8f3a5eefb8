"""What the duty-screen pilot tests share: the banner's text, the manual-entry form, a reading typed by hand."""
from gate.ui.screens.manual import ManualEntry
from tests.support import pilot_wait_until, typing_goes_to



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
