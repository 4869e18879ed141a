"""What the browser tests share: sizes, the test password, signing in, screenshots."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# Found on these pages before, at a lesser impact: kept out whatever axe rates them.
NAMED = ["scrollable-region-focusable", "landmark-unique", "empty-table-header"]
PASSWORD = "mat-khau-du-dai-1"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def sign_in(page, site: str, name: str) -> None:
    """Sign in through the form."""
    page.goto(site + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def shoot(page, name: str, full_page: bool = True) -> None:
    """Save a screenshot (the full page, or what the screen shows) for people to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=full_page)


def save_and(page, action: str) -> None:
    """Press a "Lưu và …" button (publish, submit), opening the phone's menu if it is folded there."""
    button = page.locator(f"button[value={action}]")
    if not button.is_visible():
        page.locator(".more-actions > summary").click()
    button.click()


def serious_violations(page) -> list[dict]:
    """Run axe-core on the page; return its serious and critical violations (and NAMED ones), briefly.

    The checker is injected as an inline script: open the page with bypass_csp=True.
    """
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async (named) => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => ['serious', 'critical'].includes(v.impact) || named.includes(v.id))
                .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""",
        NAMED,
    )
