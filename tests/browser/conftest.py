"""Browser tests' shared settings: how long an `expect` waits for the page.

On CI the two suites (SQLite and PostgreSQL) run side by side on two cores, each driving
Chromium and its own servers; a page can then take longer than Playwright's default 5 s
to show what a test waits for. Waiting longer only delays a real failure's report: speed
is measured by `make bench`, never by these tests."""

from playwright.sync_api import expect

expect.set_options(timeout=15_000)
