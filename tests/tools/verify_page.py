"""Drives the public /verify page in a real Chromium: uploads each file through the page's file
input, waits for the verdict, and prints what a citizen would read as JSON (one object per file).

Uses Playwright with the system's Chromium (--chromium PATH); it downloads nothing.

    verify_page.py --url http://127.0.0.1:8080/verify --chromium /usr/bin/chromium \
        [--screenshot-dir DIR] [--width 390 --height 844] FILE...

Output: {"pages": [{"file", "verdict", "heading", "text", "links", "screenshot"}],
         "console": [...], "page_errors": [...]} -- console holds every console message of level
error or warning (a CSP violation shows up there), page_errors every uncaught exception.
"""

import argparse
import json
import os
import sys

from playwright.sync_api import sync_playwright

# The page marks the result with data-verdict once the answer is shown ("pending" until then).
DONE = '#result[data-verdict]:not([data-verdict="pending"])'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--screenshot-dir")
    parser.add_argument("--width", type=int, default=390)
    parser.add_argument("--height", type=int, default=844)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    console, page_errors, pages = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(
            viewport={"width": args.width, "height": args.height}, locale="zh-CN"
        )
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        for path in args.files:
            page.goto(args.url)
            page.wait_for_selector("#verify-form:not([hidden])")
            page.set_input_files("#file", path)
            page.wait_for_selector(DONE, timeout=60_000)
            result = page.locator("#result")
            shown = {
                "file": os.path.basename(path),
                "verdict": result.get_attribute("data-verdict"),
                "heading": result.locator("h2").inner_text(),
                "text": result.inner_text(),
                "links": result.locator("a").evaluate_all(
                    "links => links.map(a => a.getAttribute('href'))"
                ),
            }
            if args.screenshot_dir:
                shot = os.path.join(args.screenshot_dir, os.path.basename(path) + ".png")
                page.screenshot(path=shot, full_page=True)
                shown["screenshot"] = shot
            pages.append(shown)
        browser.close()
    json.dump({"pages": pages, "console": console, "page_errors": page_errors},
              sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
