"""Benchmark area plug-ins: one module per area, found by bench/run.py (pkgutil).

A module here may define:

- ``ORDER = <int>``: seeds run in this order (foundation is 10; later areas pick higher).
- ``seed(ctx)``: fills the bench database. Runs only when the database is (re)built,
  inside one transaction per area. Use bulk inserts (``Model.insert_many`` in chunks)
  and ``ctx['password_hash']`` for any user, never a new argon2 hash per row.
- ``SEED_VERSION`` (optional): bump it when ``seed`` changes. Without it the module's
  source text is hashed, so any edit to the module rebuilds the bench database.
- ``attach(ctx)`` (optional): runs on EVERY run, seeded now or reused, after all seeds:
  look up what your targets and figures need (ids, dates) and put it in ``ctx``.
- ``wrk_targets(ctx) -> [(name, path, user_email)]`` or
  ``[(name, path, user_email, {"min_ratio": 0.4, "max_p99_ms": 100, "during": fn})]``:
  pages loaded over HTTP with wrk while logged in as ``user_email`` (``None``: logged out).
  Each gives ``<name>_rps``, ``<name>_p50`` and ``<name>_p99`` and ``ratio <name>/bare_hello``;
  the optional limits print ``target ...: PASS|FAIL`` lines. ``during(port)`` returns a
  context manager the bench keeps open around each load of that target (not around bare
  Flask's): background traffic such as open tabs polling.
- ``figures(ctx) -> [(name, value, unit)]``: in-process measurements (medians), run
  after the HTTP loads with the servers stopped. ``ctx['median_ms'](fn, n=30)`` times a
  callable; ``ctx['login_client'](email)`` gives a logged-in Flask test client.
- ``checks(ctx, figures) -> [(label, passed)]`` (optional): targets over any figure
  (``figures`` maps every figure name printed so far to its value).

``ctx`` holds: app, practice, providers (list of Provider), clients (list of client ids),
therapist_email, owner_email, frontdesk_email, password, password_hash (while seeding),
rng (random.Random(42)), data_dir, seeded_now (bool), median_ms, login_client, http_login
(``(port, email, check_path) -> Cookie header``: a login on the running portal).
Figures run inside ``app.app_context()`` with a database connection open.
"""
