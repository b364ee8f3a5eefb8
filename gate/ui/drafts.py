"""What a form being filled holds when the idle sign-out closes it (a reading typed by hand, a follow-up case's note):
kept in memory for the same user and given back when that user opens the form again. The idle sign-out itself is not
weakened: the form still closes, nothing is stored, and whoever signs in next sees an empty form."""
from __future__ import annotations


class Drafts:
    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], dict] = {}

    def keep(self, user: str, screens) -> list[str]:
        """Keep the draft of every screen that has one (``DRAFT`` names the form, ``draft()`` what was typed);
        returns the forms kept."""
        kept = []
        for screen in screens:
            draft = screen.draft() if hasattr(screen, "draft") else None
            if draft:
                self._kept[(user, screen.DRAFT)] = draft
                kept.append(screen.DRAFT)
        return kept

    def take(self, user: str | None, form: str) -> dict | None:
        """The draft ``user`` left in ``form``, once (None for anyone else)."""
        return self._kept.pop((user, form), None) if user else None

    def pending(self, screens) -> bool:
        """A form on screen holds something typed (worth a warning before the idle sign-out)."""
        return any(hasattr(s, "draft") and s.draft() for s in screens)
