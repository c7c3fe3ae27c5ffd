"""Every page fits a 1280×800 screen without sideways scrolling, and has one main heading."""

from __future__ import annotations

from tests.web.conftest import sign_in
from tests.web.test_case_browser import case_of


def test_every_page_fits_1280_pixels(page, workspace):
    page.set_viewport_size({"width": 1280, "height": 800})
    ref = case_of(workspace.app, "B001")
    sign_in(page, "mia")  # a manager sees every page but Users
    pages = ["/", "/cases", f"/cases/{ref}", "/queues", "/policies/atelier-bois", "/dashboard",
             "/chat"]  # fmt: skip
    first_draft = page.locator("#queue tbody tr[data-href]").first.get_attribute("data-href")
    for path in [*pages, first_draft]:
        assert page.goto(path).status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"{path} is {width}px wide"
        assert page.locator("h1").count() == 1, path
    sign_in(page, "root")
    page.goto("/users")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
