"""Browser journeys: Debian's Chromium driven by Playwright against pytest-django's ``live_server``.

No browser is downloaded (``playwright install`` is not used): ``make install-dev`` installs Debian's ``chromium``
(``.ci/system-deps test``) and axe-core from the npm registry (``package.json``). In CI a missing browser fails the
run; elsewhere the journeys are skipped with the reason.

Every page a journey reaches is checked with axe-core (no serious or critical violation) and for script errors
(uncaught exceptions, CSP refusals) as the journey goes — a journey that loads a page and never checks it fails —
and each journey ends with a screenshot in ``tests/e2e/artifacts/`` for humans to look at.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: axe-core rule tags checked: WCAG 2.1 A and AA (best-practice rules are reported only when serious or critical).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def _missing_tools() -> str:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (make install-dev installs Debian's chromium)"
    if not AXE.exists():
        return f"{AXE} is missing (make install-dev runs npm ci)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (make install-dev)"
    return ""


@pytest.fixture
def browser(monkeypatch):
    """Chromium for one journey. Not shared across tests: Playwright's sync API keeps an event loop running in this
    thread while it is open, which would break later tests that run their own (``asyncio.run``)."""
    reason = _missing_tools()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"The browser journeys must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # While that loop runs, the ORM calls the test makes between clicks are ordinary blocking calls on this thread's
    # own connection, which Django's async guard would refuse; only for this test (never for a subprocess's checks).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


class Journey:
    """One person's tab: ``page`` (Playwright), ``go``/``check`` that assert accessibility and no script errors.

    ``check()`` runs axe-core on the page as it is now (once per distinct path and visible state label), so a
    journey calls it after every navigation or change worth checking; ``go(path)`` navigates and checks.
    """

    def __init__(self, context, base_url: str, name: str) -> None:
        self.context, self.base_url, self.name = context, base_url, name
        self.page = context.new_page()
        self.page.set_default_timeout(8_000)
        self.errors: list[str] = []
        self.checked: set[str] = set()
        self.loaded: list[str] = []  # every page this tab loaded, so the fixture can tell that each was checked
        self.page.on("load", lambda _page: self.loaded.append(self.path()))
        self.page.on("pageerror", lambda error: self.errors.append(f"{self.page.url}: {error}"))
        self.page.on("console", self._console)
        self.page.on("dialog", lambda dialog: dialog.accept())  # "Are you sure?" confirmations: a person says yes

    def _console(self, message) -> None:
        if message.type == "error" and "favicon" not in message.text:
            self.errors.append(f"{self.page.url}: console: {message.text}")

    def url(self, path: str) -> str:
        return self.base_url + path

    def go(self, path: str) -> None:
        response = self.page.goto(self.url(path))
        assert response is not None and response.status < 400, (path, response and response.status)
        self.check()

    def path(self) -> str:
        """The current page's path (no scheme, host, query or fragment)."""
        return urlsplit(self.page.url).path

    def check(self, state: str = "") -> None:
        """axe-core on the current page: no serious or critical violation; and no script error so far."""
        assert not self.errors, "\n".join(self.errors)
        key = f"{self.path()}#{state}"
        if key in self.checked:
            return
        self.checked.add(key)
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, so the page's CSP (no inline scripts) stays in force.
            self.page.evaluate(_axe_source())
        result = self.page.evaluate(
            "async (tags) => await axe.run(document,"
            " {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS)
        blocking = [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"accessibility violations on {self.path()}:\n" + "\n".join(
            f"  [{v['impact']}] {v['id']}: {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
            for v in blocking)

    def unchecked(self) -> list[str]:
        """Pages this tab loaded that ``check()`` never looked at."""
        checked = {key.split("#")[0] for key in self.checked}
        return sorted({path for path in self.loaded if path not in checked})

    def log_in(self, email: str, password: str) -> None:
        """Through allauth's login form, as a person does."""
        self.go("/accounts/login/")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name=re.compile("Sign in|Log in", re.I)).click()
        self.page.wait_for_load_state()
        assert "/accounts/login/" not in self.page.url, self.page.locator("main").inner_text()
        self.check()

    def log_out(self) -> None:
        self.context.clear_cookies()

    def screenshot(self, label: str = "final") -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target


@pytest.fixture
def journey(browser, live_server, request):
    """``journey(name)`` → a new :class:`Journey` in its own browser context (cookies apart)."""
    journeys: list[Journey] = []

    def make(name: str) -> Journey:
        context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Europe/Brussels",
                                      viewport={"width": 1280, "height": 900}, accept_downloads=True)
        journeys.append(Journey(context, live_server.url, f"{request.node.name}-{name}"))
        return journeys[-1]

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:  # what each person's tab showed when the journey failed
        for one in journeys:
            with contextlib.suppress(Exception):  # a closed page must not hide the test's own failure
                one.screenshot("failed")
    for one in journeys:
        one.context.close()
    if report is not None and report.passed:  # journey 6: every page a journey went through was checked
        missed = {one.name: one.unchecked() for one in journeys if one.unchecked()}
        assert not missed, f"pages loaded but never checked for accessibility: {missed}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.report_call = report
    return report


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)


from tests.assessment.conftest import cohort  # noqa: E402, F401  (journeys 4 and 5 build on the grading cohort)
from tests.certification.conftest import awardable  # noqa: E402, F401
