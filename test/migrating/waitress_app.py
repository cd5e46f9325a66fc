"""The app behind real waitress for test/migrating/waitress.test.ts: it
answers every request with what waitress put in the WSGI environ, as JSON.

    waitress-serve [flags] waitress_app:app   (the command-line spelling; run
                                               from this directory)
    python3 waitress_app.py FILE.ini          (the ini spelling: PasteDeploy
                                               loads [server:main], whose
                                               `use = egg:waitress#main` is
                                               waitress's serve_paste)
"""

import json
import os
import sys

REPORTED_KEYS = (
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_HOST",
    "SCRIPT_NAME",
    "PATH_INFO",
    "wsgi.url_scheme",
)


def app(environ, start_response):
    seen = {key: environ.get(key) for key in REPORTED_KEYS}
    seen["headers"] = {
        key: value for key, value in environ.items() if key.startswith("HTTP_")
    }
    body = json.dumps(seen).encode("utf-8")
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


if __name__ == "__main__":
    from paste.deploy import loadserver

    loadserver("config:" + os.path.abspath(sys.argv[1]))(app)
