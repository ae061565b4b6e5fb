#!/usr/bin/env python3
"""The browser test of lorasum's figures and report pages.

  python3 tests/browser/run.py --shots DIR PATH...

Each PATH is a report.html, an .svg, or a folder searched for both. Every report page, and
every folder's figures gathered on one page, is opened in headless Chromium with
layout_check.js injected; the page's own layout (getBBox, getBoundingClientRect) says whether
any text leaves its SVG canvas or overlaps another text. A screenshot of each page goes to
--shots. Before any of that, the checker must find the two faults of known_bad.svg. Exit
status 1 when any figure has a problem (each is listed), else 0; anything else stops it with a
message.
"""
import argparse
import concurrent.futures
import html
import os
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
CHECKER = (HERE / "layout_check.js").read_text()


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("browser test: no chromium on PATH (make test-browser installs Debian's)")


def run_browser(browser, page, *flags):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--allow-file-access-from-files",
           *flags, page.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"browser test: chromium failed on {page}:\n{done.stderr[-2000:]}")
    return done.stdout


def own_ids(svg, k):
    """The figure's ids (gradients, clips) prefixed, as report.html does, so none clash."""
    return svg.replace('id="', f'id="f{k}-').replace("url(#", f"url(#f{k}-")


FIGURES_PER_PAGE = 12  # one browser start per dozen figures keeps the test quick


def pages(paths, work):
    """(label, page to open): report pages with the checker, and the figures a dozen a page."""
    out, svgs = [], []
    for p in map(pathlib.Path, paths):
        files = [p] if p.is_file() else sorted(p.rglob("*"))
        for f in files:
            if f.name == "report.html":
                out.append((str(f), f.read_text(encoding="utf-8")))
            elif f.suffix == ".svg":
                svgs.append(f)
    for k in range(0, len(svgs), FIGURES_PER_PAGE):
        chunk = svgs[k:k + FIGURES_PER_PAGE]
        body = "".join(f'<div data-name="{html.escape(str(f))}" style="margin:8px">'
                       f'{own_ids(f.read_text(encoding="utf-8"), k + i)}</div>\n'
                       for i, f in enumerate(chunk))
        out.append((f"figures {k + 1}-{k + len(chunk)} ({chunk[0].parent})",
                    f'<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
                    f'<body style="margin:0">\n{body}</body></html>'))
    result = []
    for k, (label, text) in enumerate(out):
        page = work / f"page{k}.html"
        page.write_text(text.replace("</body>", f"<script>{CHECKER}</script></body>"),
                        encoding="utf-8")
        result.append((label, page))
    return result


def check(browser, label, page, shot):
    dom = run_browser(browser, page, "--virtual-time-budget=5000", "--window-size=1400,1000",
                      "--dump-dom")
    # The checker's own source names the element too; its JSON has no "<".
    found = list(re.finditer(r'<pre id="layout-findings"[^>]*>([^<]*)</pre>', dom))
    if not found:
        return 0, [f"{label}: the checker wrote no findings (did the page load?)"]
    findings = json.loads(html.unescape(found[-1].group(1)))
    height = min(int(findings["height"]) + 20, 16000)
    run_browser(browser, page, f"--screenshot={shot}", f"--window-size=1400,{height}")
    problems = [f"{f['name']}: {p}" for f in findings["figures"] for p in f["problems"]]
    for f in findings["figures"]:
        if f["texts"] == 0:
            problems.append(f"{f['name']}: no text measured (did the SVG render?)")
    return len(findings["figures"]), problems


def self_check(browser, shots):
    """The checker must fail a figure made to fail: known_bad.svg has one text off its canvas
    and two that overlap (and a slanted one clear of both)."""
    with tempfile.TemporaryDirectory() as tmp:
        (label, page), = pages([HERE / "known_bad.svg"], pathlib.Path(tmp))
        _, problems = check(browser, label, page, shots / "known_bad.png")
    expected = ['leaves the canvas: "runs off the right edge"',
                'overlap: "one label" and "over another"']
    if sorted(p.split(": ", 1)[1] for p in problems) != expected:
        sys.exit(f"browser test: the checker's findings on known_bad.svg are {problems}, "
                 f"not {expected}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", required=True, help="folder for the screenshots")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    shots = pathlib.Path(args.shots)
    shots.mkdir(parents=True, exist_ok=True)
    browser = chromium()
    self_check(browser, shots)
    failed, total = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        todo = pages(args.paths, pathlib.Path(tmp))
        if not todo:
            sys.exit(f"browser test: no report.html or .svg under {' '.join(args.paths)}")

        def one(item):
            label, page = item
            shot = shots / (re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") + ".png")
            return label, shot, check(browser, label, page, shot)
        # Pages are independent: one browser per core.
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for label, shot, (count, problems) in pool.map(one, todo):
                total += count
                print(f"{'FAIL' if problems else 'ok  '} {label}: {count} figure(s), "
                      f"screenshot {shot}")
                failed += problems
    for p in failed:
        print("  " + p)
    print(f"browser test: {total} figure(s) on {len(todo)} page(s), {len(failed)} problem(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
