"""The portal on the bench database: `gunicorn wsgi_bench:app` with PORTAL_BENCH_CONFIG set.

PORTAL_BENCH_CONFIG is the path of a JSON file (written by bench/run.py) holding the
test_config for create_app: DATABASE, INSTANCE_PATH and friends.
"""

import json
import os

from portal import create_app

with open(os.environ["PORTAL_BENCH_CONFIG"]) as fh:
    app = create_app(json.load(fh))
