"""The differential oracle: runs requests through waitress's own
proxy_headers_middleware (waitress.proxy_headers) with a dummy WSGI app, and
reports what the app would see.

stdin:  a JSON array of cases
        {"peer": "10.0.0.1" | null (Unix socket, waitress says "localhost"),
         "peerPort": 50000, "localPort": 8080,
         "trustedProxy": "*" | "10.0.0.1" | "localhost",
         "trustedProxyCount": 1, "trustedProxyHeaders": ["x-forwarded-for"],
         "clearUntrusted": true,
         "headers": {"Host": "...", "X-Forwarded-For": "..."}}
stdout: {"waitress": "<version>", "results": [...]}, one result per case:
        {"status": 200 | 400, "environ": {...} | null,
         "malformed": {"header": ..., "reason": ...} | null}

The environ starts as waitress's task.py builds it for a plain HTTP request
(REMOTE_ADDR/REMOTE_PORT from the socket, SERVER_NAME from the server's
configuration, SERVER_PORT the listening port, wsgi.url_scheme "http",
one HTTP_* key per header).
"""

import json
import logging
import sys

from waitress.proxy_headers import proxy_headers_middleware

try:
    from importlib.metadata import version

    WAITRESS_VERSION = version("waitress")
except Exception:  # pragma: no cover - very old Pythons
    WAITRESS_VERSION = "unknown"

# waitress's default server_name (adjustments.py).
SERVER_NAME = "waitress.invalid"

REPORTED_KEYS = (
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_HOST",
    "wsgi.url_scheme",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_BY",
    "HTTP_FORWARDED",
)


class Recorder(logging.Handler):
    """Keeps the malformed-header record waitress logs before its 400."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def run(case, logger, recorder):
    environ = {
        "REMOTE_ADDR": case["peer"] if case["peer"] is not None else "localhost",
        "REMOTE_PORT": str(case["peerPort"]),
        "SERVER_NAME": SERVER_NAME,
        "SERVER_PORT": str(case["localPort"]),
        "wsgi.url_scheme": "http",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
    }
    for name, value in case["headers"].items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value

    seen = {}

    def app(env, start_response):
        seen.update({key: env[key] for key in REPORTED_KEYS if key in env})
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    status = []

    def start_response(line, headers, exc_info=None):
        status.append(int(line.split(" ", 1)[0]))

    middleware = proxy_headers_middleware(
        app,
        trusted_proxy=case["trustedProxy"],
        trusted_proxy_count=case["trustedProxyCount"],
        trusted_proxy_headers=set(case["trustedProxyHeaders"]),
        clear_untrusted=case["clearUntrusted"],
        log_untrusted=False,
        logger=logger,
    )
    recorder.records.clear()
    body = middleware(environ, start_response)
    for _ in body:
        pass

    malformed = None
    for record in recorder.records:
        if record.msg.startswith("Malformed proxy header"):
            header, _peer, reason, _value = record.args
            malformed = {"header": header, "reason": reason}
    return {
        "status": status[0],
        "environ": seen if status[0] == 200 else None,
        "malformed": malformed,
    }


def main():
    logger = logging.getLogger("waitress-oracle")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    recorder = Recorder()
    logger.addHandler(recorder)

    cases = json.load(sys.stdin)
    results = [run(case, logger, recorder) for case in cases]
    json.dump({"waitress": WAITRESS_VERSION, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
