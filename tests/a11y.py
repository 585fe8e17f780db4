"""Accessibility checks in a real browser, for any page (staff pages here; the client
portal's pages can use the same helpers):

- `axe_violations(page, impacts=("critical", "serious"))`: runs the vendored axe-core
  (tests/vendor/axe-core) on the page as it is and returns the violations of those impacts
  as short dicts (rule id, impact, help, up to 5 offending selectors). axe is injected with
  `page.evaluate`, which the page's CSP cannot block (`add_script_tag` it does block).
- `small_targets(page, minimum=44)`: the visible controls (links, buttons, form fields,
  summaries, tick boxes with their labels) smaller than `minimum` CSS pixels either way;
  links inside running text (a paragraph's sentence) are exempt, as WCAG allows.
- `short_targets(page, selector)`: the visible elements of `selector` under 44 px tall.
  Both wait for the page's load event first: a size read before the stylesheet has come is
  the bare browser's (a 19 px nav link on a busy machine).
- `crawl(page, base, start, limit, per_route)`: same-site pages reachable by links from
  `start` (GET only, no downloads, no log-out), a few per route of the URL map.
"""

import hashlib
import os
from urllib.parse import urljoin, urlparse

AXE_DIR = os.path.join(os.path.dirname(__file__), "vendor", "axe-core")
AXE_PATH = os.path.join(AXE_DIR, "axe.min.js")
_AXE = {}


def axe_source():
    """axe.min.js, checked against its recorded SHA-256 (a vendored file changed by accident
    would run other rules silently)."""
    if "src" not in _AXE:
        data = open(AXE_PATH, "rb").read()
        want = open(os.path.join(AXE_DIR, "SHA256SUMS")).read().split()[0]
        assert hashlib.sha256(data).hexdigest() == want, "tests/vendor/axe-core/axe.min.js changed"
        _AXE["src"] = data.decode("utf-8")
    return _AXE["src"]


def axe_violations(page, impacts=("critical", "serious"), rules_off=()):
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    result = page.evaluate(
        """async (off) => {
            const rules = {};
            for (const id of off) rules[id] = {enabled: false};
            const r = await axe.run(document, {rules, resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
                count: v.nodes.length,
            }));
        }""",
        list(rules_off),
    )
    return [v for v in result if v["impact"] in impacts]


SMALL_TARGETS_JS = """(minimum) => {
  const out = [];
  const visible = (el) => {
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const inSentence = (el) => {
    const p = el.closest('p, .help, .lead, dd');
    if (!p) return false;
    const text = p.textContent.replace(el.textContent, '').trim();
    return text.length > 0;  // a link within running text
  };
  const sel = 'a[href], button, select, textarea, summary, ' +
              'input:not([type=hidden]):not([type=checkbox]):not([type=radio]), ' +
              'input[type=checkbox], input[type=radio]';
  for (const el of document.querySelectorAll(sel)) {
    if (!visible(el) || el.closest('.skip-link')) continue;
    let target = el;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      // the tick box and its label together are the target
      target = el.closest('label') || el.closest('.field-check, .check-row') || el;
    }
    if (el.tagName === 'A' && inSentence(el)) continue;
    const r = target.getBoundingClientRect();
    if (r.width < minimum - 0.5 || r.height < minimum - 0.5) {
      const label = (el.textContent || el.name || el.id || '').trim().slice(0, 40);
      const parent = el.parentElement ? el.parentElement.tagName.toLowerCase() : '';
      out.push(`${el.tagName.toLowerCase()} in ${parent} "${label}" ` +
               `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return out;
}"""


def small_targets(page, minimum=44):
    page.wait_for_load_state("load")  # the stylesheet applied: sizes read before it are bare
    return page.evaluate(SMALL_TARGETS_JS, minimum)


SHORT_TARGETS_JS = """(sel) => Array.from(document.querySelectorAll(sel))
    .filter(el => el.offsetParent !== null)
    .map(el => [el.tagName + '.' + el.className + ' ' + (el.textContent || el.name || '')
                .trim().slice(0, 30), el.getBoundingClientRect().height])
    .filter(([_, h]) => h < 44)"""


def short_targets(page, selector):
    """[[tag.class text, height]] of the visible elements matching `selector` under 44 px
    tall, read once the page's load event (its stylesheet) has come."""
    page.wait_for_load_state("load")
    return page.evaluate(SHORT_TARGETS_JS, selector)


SKIP_PARTS = ("/logout", "/pdf", "/documents/", "/cards/", "/export", ".ics", "/download")
DOWNLOAD_ENDS = (".csv", ".x12", "/file")  # reports as CSV, 837P and 835 files


def _download(path):
    """A path that answers a file (Chromium's goto fails on a download) or logs out."""
    return any(part in path for part in SKIP_PARTS) or path.endswith(DOWNLOAD_ENDS)


def crawl(page, base, start, limit=150, per_route=2, route_of=None, also=()):
    """[url] of same-site GET pages reachable from `start` (and the paths in `also`),
    breadth first, at most `per_route` per route (route_of(path) -> a key, e.g. the URL
    rule)."""
    seen, pages, per = set(), [], {}
    also = [p for p in also if not _download(p)]
    queue = [urljoin(base, start)] + [urljoin(base, p) for p in also]
    prefix = urlparse(urljoin(base, start)).path.split("/")[1]
    while queue and len(pages) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        path = urlparse(url).path
        key = route_of(path) if route_of else path
        if per.get(key, 0) >= per_route:
            continue
        resp = page.goto(url)
        if (
            resp is None
            or resp.status != 200
            or "text/html" not in resp.headers.get("content-type", "")
        ):
            continue
        per[key] = per.get(key, 0) + 1
        pages.append(url)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            href = href.split("#")[0]
            p = urlparse(href)
            if p.netloc != urlparse(base).netloc or not p.path.startswith(f"/{prefix}"):
                continue
            if _download(p.path):
                continue
            if href in seen:
                continue
            queue.append(href)
    return pages
