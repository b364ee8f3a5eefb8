"""The duty screen's parts, one widget per file; each renders from its own reactive attributes."""
from __future__ import annotations


class Follows:
    """Mixed into a widget that updates itself (``follow``) whenever one of its reactives named in ``FOLLOWS``
    changes: one watcher per name, set when it mounts, and one update then (before that there is nothing to show)."""

    FOLLOWS: tuple[str, ...] = ()

    def on_mount(self) -> None:
        for name in self.FOLLOWS:
            self.watch(self, name, self.follow, init=False)
        self.follow()

    def follow(self) -> None:
        raise NotImplementedError
