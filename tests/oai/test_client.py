"""The harvesting client on its own: waiting when a partner asks for it, odd records."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from repository.harvest.client import OAIClient, parse_response
from repository.harvest.errors import HarvestError
from tests.oai.recorded import RESPONSES


class BusyOnce(BaseHTTPRequestHandler):
    """Answers 503 with Retry-After to the first request, then the recorded Identify."""

    calls = 0

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        type(self).calls += 1
        if self.calls == 1:
            self.send_response(503)
            self.send_header("Retry-After", "7")
            self.end_headers()
            return
        body = (RESPONSES / "Identify.xml").read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


def test_a_busy_partner_is_asked_again_after_the_wait_it_names():
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (BusyOnce,), {}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    waits = []
    try:
        info = OAIClient(timeout=10, sleep=waits.append).identify(
            f"http://127.0.0.1:{server.server_port}/oai")
    finally:
        server.shutdown()
        server.server_close()
    assert waits == [7.0]
    assert (info.name, info.granularity) == ("A Test Repository", "YYYY-MM-DD")


@pytest.mark.parametrize(("body", "message"), [
    (b"", "not well-formed XML"),
    (b"<html><body>Maintenance</body></html>", "not an OAI-PMH document"),
    (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "not an OAI-PMH"),
])
def test_responses_that_are_not_oai_pmh_are_refused(body, message):
    with pytest.raises(HarvestError, match=message):
        parse_response(body)


def test_unreachable_partners_and_other_schemes_are_errors():
    client = OAIClient(timeout=2, retries=0)
    with pytest.raises(HarvestError, match="cannot reach"):
        client.identify("http://127.0.0.1:9/oai")
    with pytest.raises(HarvestError, match="not an http"):
        client.identify("file:///etc/passwd")
