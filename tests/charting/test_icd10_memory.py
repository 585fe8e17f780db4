"""The ICD-10-CM code set stays out of the web workers: they read the prepared index file
(portal/services/icd10.py), so two workers fit a small server."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

from portal.services import icd10
from tests.conftest import ICD10_INDEX

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_WORKER_MB = 150  # bench/run.py's target for a worker after its warm-up


def test_a_worker_searches_without_loading_the_code_set_and_stays_small(tmp_path):
    code = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {ROOT!r})
        from portal import create_app
        from portal.services import icd10
        app = create_app({{
            "SECRET_KEY": "x",
            "INSTANCE_PATH": {str(tmp_path / "instance")!r},
            "DATABASE": {str(tmp_path / "portal.sqlite3")!r},
            "ICD10_INDEX": {ICD10_INDEX!r},
        }})
        with app.app_context():
            icd10.warm()
            first = icd10.search("low back")[0].code
            ok = icd10.validate("M54.50")[0]
        rss_kb = [int(line.split()[1]) for line in open("/proc/self/status")
                  if line.startswith("VmRSS:")][0]
        print(json.dumps({{"first": first, "ok": ok, "rss_kb": rss_kb,
                          "loaded": "simple_icd_10_cm" in sys.modules}}))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["first"] == "M54.50" and seen["ok"] is True
    assert seen["loaded"] is False  # the library (~200 MB of objects) never in the worker
    assert seen["rss_kb"] < MAX_WORKER_MB * 1024, seen


def test_an_index_of_another_format_or_code_set_is_not_used(tmp_path):
    icd10.ensure_built()
    assert icd10._valid(ICD10_INDEX)
    stale = tmp_path / "icd10.sqlite3"
    shutil.copyfile(ICD10_INDEX, stale)
    db = sqlite3.connect(stale)
    db.execute("UPDATE meta SET value = 'simple-icd-10-cm 0.1' WHERE key = 'library'")
    db.commit()
    db.close()
    assert not icd10._valid(str(stale))  # ensure_built() would build it again
    assert not icd10._valid(str(tmp_path / "missing.sqlite3"))
