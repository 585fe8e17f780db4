"""The baseline: a bare Flask app served by gunicorn on the portal's own settings."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"
