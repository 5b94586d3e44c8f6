"""A tiny HTTP server answering from the recorded OAI-PMH responses in shared/data: the
verb and arguments of each request pick a file. Three partners live on it: /good answers
from the recorded resumption chain, /broken with the broken file, /failing with HTTP 500."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.backends import SHARED

RESPONSES = Path(SHARED) / "data" / "oai-pmh" / "responses_sickle"


def pick(partner: str, arguments: dict[str, str]) -> str | None:
    """The file answering ``arguments`` for ``partner`` (None: HTTP 500)."""
    verb = arguments.get("verb")
    if partner == "failing":
        return None
    if verb == "Identify":
        return "Identify.xml"
    if verb != "ListRecords":
        return "badArgument.xml"
    if partner == "broken":
        return "ListRecordsBroken.xml"
    token = arguments.get("resumptionToken")
    if token:
        return token if (RESPONSES / token).is_file() else "badResumptionToken.xml"
    return "noRecordsMatch.xml" if "from" in arguments else "ListRecords.xml"


class RecordedFeeds(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        url = urlsplit(self.path)
        partner = url.path.strip("/").split("/")[0]
        arguments = {name: values[0] for name, values in parse_qs(url.query).items()}
        self.requests.append((partner, arguments))
        name = pick(partner, arguments)
        if name is None:
            self.send_error(500)
            return
        body = (RESPONSES / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@contextmanager
def recorded_feeds() -> Iterator[tuple[str, list]]:
    """The server's base URL and the list of requests it received."""
    handler = type("Handler", (RecordedFeeds,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler.requests
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
