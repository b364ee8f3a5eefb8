"""The education bureau's screen (`gate bureau`): schools of a district for a day, over the upstream, read-only.
``build_bureau_app`` is the one factory used by the CLI, the browser server and the tests."""
from gate.ui.bureau.app import BureauApp, build_bureau_app, run_bureau  # noqa: F401
