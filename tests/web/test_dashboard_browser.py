"""The dashboard in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium opens signed links to the web app served on 127.0.0.1.

Selenium blocks, so every browser call runs in a worker thread while the event loop serves.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.web.dashboard.links import dashboard_secret, sign
from bot.web.dashboard.page import CHART_MEANINGS, chart_caption
from bot.web.dashboard.routes import add_dashboard_routes, dashboard_link
from storage.metrics import compute_summary
from storage.metrics.definitions import DEFINITIONS
from storage.models import Incident, Ticket
from tests.support import MANAGER_ID
from tests.support.dataset import END, ROME, STAFF_NAME, START, insert_dataset, local
from tests.support.web import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SECTIONS = ("responsiveness", "involvement", "cocreation", "balance", "incidents")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """One headless Chromium for the module."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = (
            f"headless Chromium is not installed (missing {', '.join(missing)}); "
            "install it with: apt-get install chromium chromium-driver"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
async def dashboard(services: Services, clock: FrozenClock) -> AsyncIterator[str]:
    """An app with only the dashboard routes on a free port of 127.0.0.1; its base URL."""
    clock.set(END)
    app = web.Application()
    add_dashboard_routes(app, services)
    async with serving(app) as base:
        yield base


async def open_page(browser: WebDriver, url: str) -> None:
    await asyncio.to_thread(browser.get, url)


def read_metrics(browser: WebDriver) -> dict[str, tuple[str, str]]:
    """Every [data-metric] element: metric -> (data-value, visible text)."""
    found = {}
    for element in browser.find_elements(By.CSS_SELECTOR, "[data-metric]"):
        metric = element.get_attribute("data-metric") or ""
        found[metric] = (element.get_attribute("data-value") or "", element.text)
    return found


def number(raw: str) -> float | None:
    return float(raw) if raw else None


async def test_the_page_shows_the_numbers_of_the_dataset(
    browser: WebDriver, dashboard: str, services: Services
) -> None:
    await insert_dataset(services.db)
    link = dashboard_link(dashboard, MANAGER_ID, services.settings, END)
    await open_page(browser, link)
    assert "dashboard" in browser.title
    metrics = await asyncio.to_thread(read_metrics, browser)

    # Worked out from the dataset (see test_charts): "7 days" before END (local midnight) is
    # the dataset's window, 26 March to 1 April in Rome.
    window = browser.find_element(By.ID, "window")
    assert window.get_attribute("data-start") == START.astimezone(ROME).isoformat()
    assert window.text == "2026-03-26 00:00 – 2026-04-02 00:00 (Europe/Rome)"
    expected = {
        # 5 tickets opened, 1 resolved, 4 still open.
        "responsiveness.tickets_opened": (5, "5"),
        "responsiveness.tickets_resolved": (1, "1"),
        "responsiveness.backlog": (4, "4"),
        # First responses 600, 1800, 4800, 5400 s: nearest rank p50 = 2nd, p90 = 4th.
        "responsiveness.first_response_p50": (1800, "30.0 min"),
        "responsiveness.first_response_p90": (5400, "1.5 h"),
        # All 5 tickets were due within the window; 2 answered within 60 minutes.
        "responsiveness.sla_met_rate": (0.4, "40%"),
        # CSAT 5 and 2; one NPS 10.
        "responsiveness.csat": (0.5, "50%"),
        "responsiveness.csat_mean": (3.5, "3.5"),
        "responsiveness.nps": (100, "+100"),
        "involvement.feedback": (6, "6"),
        "involvement.care": (4, "4"),
        "involvement.ideas": (1, "1"),
        "involvement.other": (1, "1"),
        "involvement.active_customers": (3, "3"),
        # 3 positive, 3 negative messages.
        "involvement.sentiment_ratio": (1.0, "1.0 : 1"),
        "cocreation.ideas": (2, "2"),
        "cocreation.votes": (1, "1"),
        # One idea planned, one declined; first statuses after 24 h and 48 h.
        "cocreation.adoption_rate": (0.5, "50%"),
        "cocreation.median_time_to_first_status": (86400, "24.0 h"),
        # 5 staff replies over 4 tickets; 6 messages + 1 vote + 3 ratings from 3 customers.
        "balance.staff_messages_per_ticket": (1.25, "1.25"),
        "balance.contributions_per_active_customer": (10 / 3, "3.33"),
    }
    shown = {metric: (number(metrics[metric][0]), metrics[metric][1]) for metric in expected}
    assert shown == {metric: (float(v), text) for metric, (v, text) in expected.items()}

    # Every number on the cards is the summary's number, and absent ones read as a dash.
    async with services.db.session() as session:
        summary = await compute_summary(
            session=session, start=START, end=END, sla_minutes=services.settings.sla_minutes
        )
    cards = {m: v for m, v in metrics.items() if m.split(".")[0] in SECTIONS and m.count(".") == 1}
    assert len(cards) >= 25
    for metric, (raw, text) in cards.items():
        section, name = metric.split(".")
        value: Any = summary[section][name]
        assert number(raw) == (None if value is None else float(value)), metric
        assert (text == "—") == (value is None), metric
    assert metrics["involvement.strength_by_topic.network"][0] == "1.0"

    # Names customers and staff chose are shown as text, never as markup.
    staff_table = browser.find_element(By.ID, "table-staff")
    assert STAFF_NAME in staff_table.text
    assert staff_table.find_elements(By.TAG_NAME, "i") == []
    contributors = browser.find_element(By.ID, "table-contributors")
    assert "<b>Bo</b>" in contributors.text
    assert contributors.find_elements(By.TAG_NAME, "b") == []

    # Five charts, inline, decoded by the browser.
    images = browser.find_elements(By.CSS_SELECTOR, "img[data-chart]")
    assert [i.get_attribute("data-chart") for i in images] == [
        "volume_by_kind",
        "first_response",
        "sentiment_ratio",
        "topic_strength",
        "balance",
    ]
    for image in images:
        assert (image.get_attribute("src") or "").startswith("data:image/png;base64,")
        assert image.get_property("naturalWidth") == 800
    assert "http" not in "".join(
        (e.get_attribute("src") or "") for e in browser.find_elements(By.CSS_SELECTOR, "[src]")
    )


async def insert_incident(services: Services) -> None:
    """One fibre outage in the dataset's window: first report 09:00 on 31 March, opened 09:12,
    everyone told at 09:40, resolved at 12:00; tickets 2 and 3 (customers 3 and 4) belong to
    it."""
    async with services.db.session() as session:
        session.add(
            Incident(
                id=1,
                status="resolved",
                topic="internet_devices",
                language="en",
                first_report_at=local(3, 31, 9),
                opened_at=local(3, 31, 9, 12),
                first_broadcast_at=local(3, 31, 9, 40),
                resolved_at=local(3, 31, 12),
            )
        )
    async with services.db.session() as session:
        for ticket_id in (2, 3):
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            ticket.incident_id = 1
            session.add(ticket)


# The layout, measured by the browser: how wide the page is against the viewport, and where
# every section, figure and chart landed.
_LAYOUT = """
const view = window.innerWidth;
const box = (e) => { const r = e.getBoundingClientRect();
  return {id: e.id || e.tagName, w: r.width, h: r.height, left: r.left, right: r.right}; };
return {
  view: view,
  page: document.documentElement.scrollWidth,
  body: document.body.scrollWidth,
  boxes: [...document.querySelectorAll("main section, figure, figure img, figcaption")].map(box),
  images: [...document.querySelectorAll("img[data-chart]")].map((i) => ({
    chart: i.dataset.chart, complete: i.complete, natural: i.naturalWidth,
    shown: i.getBoundingClientRect().width})),
  captions: Object.fromEntries([...document.querySelectorAll("figcaption")].map(
    (c) => [c.dataset.caption, c.textContent])),
};
"""


def _set_viewport(browser: WebDriver, width: int) -> None:
    """A phone's or a desktop's viewport: the width, a device pixel ratio, touch for a phone."""
    phone = width < 600
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": 844 if phone else 900,
            "deviceScaleFactor": 2 if phone else 1,
            "mobile": phone,
        },
    )


def _full_page_png(browser: WebDriver) -> bytes:
    metrics = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    return base64.b64decode(shot["data"])


@pytest.mark.parametrize("width", [390, 1280], ids=["phone-390px", "desktop-1280px"])
async def test_the_page_fits_a_phone_and_a_desktop(
    browser: WebDriver, dashboard: str, services: Services, tmp_path: Path, width: int
) -> None:
    await insert_dataset(services.db)
    await insert_incident(services)
    link = dashboard_link(dashboard, MANAGER_ID, services.settings, END)
    await asyncio.to_thread(_set_viewport, browser, width)
    try:
        await open_page(browser, link)

        def charts_decoded(driver: WebDriver) -> bool:
            layout = driver.execute_script(_LAYOUT)
            return bool(layout["images"]) and all(
                i["complete"] and i["natural"] > 0 for i in layout["images"]
            )

        await asyncio.to_thread(WebDriverWait(browser, 20).until, charts_decoded)
        layout = await asyncio.to_thread(browser.execute_script, _LAYOUT)
        shot = await asyncio.to_thread(_full_page_png, browser)
        (tmp_path / f"dashboard-{width}px.png").write_bytes(shot)
        metrics = await asyncio.to_thread(read_metrics, browser)
    finally:
        await asyncio.to_thread(browser.execute_cdp_cmd, "Emulation.clearDeviceMetricsOverride", {})

    # No sideways scrolling of the page: wide tables scroll inside their own box.
    view = layout["view"]
    assert view == width
    assert layout["page"] <= view and layout["body"] <= view, layout
    # Every section, figure, chart and caption is on screen, with a size, within the width.
    assert len([b for b in layout["boxes"] if b["id"] == "IMG"]) == 5
    for box in layout["boxes"]:
        assert box["w"] > 0 and box["h"] > 0, box
        assert box["left"] >= 0 and box["right"] <= view + 0.5, box
    # On the phone the browser picks the charts drawn for a narrow screen, shown nearly full
    # width; on the desktop the 800 px ones, two in a row.
    for image in layout["images"]:
        if width < 600:
            assert image["natural"] == 660, image
            assert image["shown"] >= 0.85 * view, image
        else:
            assert image["natural"] == 800, image
            assert image["shown"] < 0.5 * view, image
    # Each figure says what it counts, from storage.metrics.definitions.
    assert set(layout["captions"]) == set(CHART_MEANINGS)
    for stem, caption in layout["captions"].items():
        assert caption == chart_caption(stem)
        first = DEFINITIONS[CHART_MEANINGS[stem][0]]
        assert first[:1].upper() + first[1:] in caption
    # The incidents card: one incident, two customers, 12 minutes to detect, 40 to tell
    # everyone, 3 hours to resolve.
    assert {k: v for k, v in metrics.items() if k.startswith("incidents.")} == {
        "incidents.opened": ("1", "1"),
        "incidents.customers_affected": ("2", "2"),
        "incidents.time_to_detect_p50": ("720.0", "12.0 min"),
        "incidents.time_to_first_broadcast_p50": ("2400.0", "40.0 min"),
        "incidents.time_to_resolve_p50": ("10800.0", "3.0 h"),
        "incidents.resolved": ("1", "1"),
        "incidents.open_at_end": ("0", "0"),
    }


async def test_the_window_links_keep_the_token(
    browser: WebDriver, dashboard: str, services: Services
) -> None:
    await insert_dataset(services.db)
    await open_page(browser, dashboard_link(dashboard, MANAGER_ID, services.settings, END))
    link = browser.find_element(By.LINK_TEXT, "1 day")
    await asyncio.to_thread(link.click)
    assert parse_qs(urlsplit(browser.current_url).query)["days"] == ["1"]
    metrics = await asyncio.to_thread(read_metrics, browser)
    # In the last 24 hours: one care message and the unanswered ticket.
    assert metrics["involvement.feedback"][1] == "1"
    assert metrics["responsiveness.tickets_opened"][1] == "1"
    assert metrics["responsiveness.first_response_p50"] == ("", "—")


async def test_expired_altered_and_foreign_links_are_refused(
    browser: WebDriver, dashboard: str, services: Services
) -> None:
    await insert_dataset(services.db)
    settings = services.settings
    secret = dashboard_secret(settings)
    expired = dashboard_link(dashboard, MANAGER_ID, settings, END - timedelta(hours=2))
    good = dashboard_link(dashboard, MANAGER_ID, settings, END)
    token = parse_qs(urlsplit(good).query)["token"][0]
    last = "A" if token[-2] != "A" else "B"
    altered = f"{dashboard}/dashboard?token={token[:-2]}{last}{token[-1]}"
    other_user = (
        f"{dashboard}/dashboard?token={sign(MANAGER_ID + 1, END + timedelta(hours=1), secret)}"
    )
    cases = {
        expired: "expired",
        altered: "not valid",
        f"{dashboard}/dashboard": "not valid",
        other_user: "no longer valid",
    }
    for url, words in cases.items():
        await open_page(browser, url)
        heading = browser.find_element(By.ID, "refused").text
        assert heading.startswith("403 Forbidden"), url
        assert words in heading, url
        assert browser.find_elements(By.CSS_SELECTOR, "[data-metric]") == [], url

    async with aiohttp.ClientSession() as http:
        statuses = [(await http.get(url)).status for url in cases]
        bad_days = [
            (await http.get(f"{good}&days={days}")).status
            for days in ("0", "91", "x", "%C2%B2", "-1")
        ]
        fine = await http.get(good)
    assert statuses == [403] * len(cases)
    assert bad_days == [400] * 5
    assert fine.status == 200
    assert fine.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in fine.headers["Content-Security-Policy"]
