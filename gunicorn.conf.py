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
    """Make sure the ICD-10-CM search index file exists (the first worker of a fresh install
    builds it, in a process of its own, ~10 s; the other waits for it) and read a little of
    it, in the background as each worker starts, so the first diagnosis search does not wait;
    then freeze what is in memory out of the garbage collector's reach (those objects live as
    long as the worker). /healthz says "warm": true once that is done.

    Only for the portal: another app served with these settings (the benchmark's bare
    Flask baseline) is left as it is."""
    app = getattr(worker, "wsgi", None)
    if getattr(app, "import_name", None) != "portal":
        return
    import gc  # here: this file also serves the benchmark's bare Flask app
    import threading

    from portal.services import icd10

    def warm():
        icd10.warm()
        gc.collect()
        gc.freeze()
        app.extensions["warm"] = True

    threading.Thread(target=warm, name="icd10-warm", daemon=True).start()
