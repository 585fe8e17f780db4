"""BENCH_DB=both: the bench on SQLite, then on PostgreSQL, then one table of the two.

A process runs on one database (portal/db.py picks it at import), so each database gets a
run of its own: bench/run.py again, with the same options, BENCH_DB set and `--results`
naming a JSON file for its figures. Each run prints its lines as usual while it goes; each
ratio compares the run's own loads with the bare Flask app loaded in that same run. The
table at the end puts the two figures of every line side by side ("-": not measured there,
e.g. an area left out after an error, listed under the table).
"""

import json
import os
import subprocess
import sys

DATABASES = ("sqlite", "postgresql")


def run(script, argv, data_dir, lock_env):
    """Run the bench once per database; print the table; 1 when either run had errors."""
    results, status = {}, 0
    for db in DATABASES:
        path = os.path.join(data_dir, f"results-{db}.json")
        if os.path.exists(path):
            os.remove(path)
        print(f"# ---- BENCH_DB={db} ----", file=sys.stderr, flush=True)
        env = {**os.environ, "BENCH_DB": db, lock_env: str(os.getpid())}
        proc = subprocess.run([sys.executable, script, *argv, "--results", path], env=env)
        if proc.returncode != 0:
            status = 1
        if os.path.exists(path):
            with open(path) as fh:
                results[db] = json.load(fh)
        else:
            print(f"# the {db} run ended before its figures (exit status {proc.returncode})")
    print_table(results)
    return status


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "PASS" if value else "FAIL"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def print_table(results):
    rows = []  # [label, unit, {db: value}], in each run's order (a line only one run
    # printed, e.g. PostgreSQL's db_cpu, goes right after the line it followed there)
    for db in DATABASES:
        res = results.get(db) or {}
        lines = [(name, unit, value) for name, value, unit in res.get("figures", [])]
        lines += [(name, "x bare", value) for name, value in res.get("ratios", [])]
        lines += [("target " + label, "", bool(ok)) for label, ok in res.get("checks", [])]
        at = 0
        for label, unit, value in lines:
            found = next((i for i, row in enumerate(rows) if row[0] == label), None)
            if found is None:
                rows.insert(at, [label, unit, {}])
                found = at
            rows[found][2][db] = value
            at = found + 1
    print(
        "# side by side: each ratio is against the bare Flask app loaded in the same run "
        "on the same machine",
        flush=True,
    )
    width = max([len(label) for label, _, _ in rows] + [10])
    units = max([len(unit) for _, unit, _ in rows] + [4])
    print(f"{'':{width}s}  {'':{units}s}  {'sqlite':>10s}  {'postgresql':>10s}")
    for label, unit, by_db in rows:
        cells = "  ".join(
            f"{fmt(by_db.get(db)) if db in results else 'failed':>10s}" for db in DATABASES
        )
        print(f"{label:{width}s}  {unit:{units}s}  {cells}", flush=True)
    for db in DATABASES:
        res = results.get(db)
        if res is None:
            continue
        for msg in res.get("warnings") or []:
            print(f"# {db}: WARNING {msg}")
        errors = res.get("errors") or []
        if errors:
            print(f"# {db}: {len(errors)} error(s): " + "; ".join(errors), flush=True)
