"""Gunicorn settings for the portal: the database connects after the fork."""

import gunicorn.http.wsgi

# No server version banner.
gunicorn.http.wsgi.SERVER = "portal"

workers = 2
threads = 4
worker_class = "gthread"
timeout = 60
# No runtime control socket (gunicorn >= 24 opens one in ~/.gunicorn by default; two
# instances, e.g. the demo and the benchmark, would share its path).
control_socket_disable = True
accesslog = None  # access logs would carry URLs; the portal keeps PHI out of URLs anyway


def post_worker_init(worker):
    """Build the ICD-10 search index in the background as each worker starts, so the
    first diagnosis search does not wait the 2-5 s the code set takes to load; then freeze
    what is in memory (the code set, ~200 MB of objects, and the app) out of the garbage
    collector's reach: those objects live as long as the worker, and full collections need
    not walk them again. /healthz says "warm": true once that is done.

    Only for the portal: another app served with these settings (the benchmark's bare
    Flask baseline) is left as it is."""
    app = getattr(worker, "wsgi", None)
    if getattr(app, "import_name", None) != "portal":
        return
    import gc
    import threading

    from portal.services import icd10

    def warm():
        icd10.warm()
        gc.collect()
        gc.freeze()
        app.extensions["warm"] = True

    threading.Thread(target=warm, name="icd10-warm", daemon=True).start()
