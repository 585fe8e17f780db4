"""Gunicorn settings for the portal: the database connects after the fork."""
import gunicorn.http.wsgi

# No server version banner.
gunicorn.http.wsgi.SERVER = "portal"

workers = 2
threads = 4
worker_class = "gthread"
timeout = 60
accesslog = None  # access logs would carry URLs; the portal keeps PHI out of URLs anyway
