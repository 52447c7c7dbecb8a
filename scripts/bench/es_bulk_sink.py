#!/usr/bin/env python3
"""A minimal Elasticsearch `_bulk` endpoint for scripts/bench/serve.sh (ES=1):
POST /{index}/_bulk answers 200 with every `create` item 201 (409 for an
`_id` seen before), like a healthy cluster; counts the documents indexed
and writes the count to COUNT_FILE on SIGTERM. Not a test double: the
contract tests use tests/integration/es_mock.rs.

    es_bulk_sink.py PORT COUNT_FILE
"""
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

seen = set()
lock = threading.Lock()


class Bulk(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        lines = body.decode().split("\n")[:-1]
        items = []
        with lock:
            for action in lines[0::2]:
                _id = json.loads(action)["create"]["_id"]
                status = 409 if _id in seen else 201
                seen.add(_id)
                items.append({"create": {"_id": _id, "status": status}})
        out = json.dumps({"took": 1, "errors": any(i["create"]["status"] != 201 for i in items), "items": items}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def main():
    port, count_file = int(sys.argv[1]), sys.argv[2]
    srv = ThreadingHTTPServer(("127.0.0.1", port), Bulk)

    def stop(*_):
        with open(count_file, "w") as f:
            f.write(f"{len(seen)}\n")
        threading.Thread(target=srv.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    srv.serve_forever()


if __name__ == "__main__":
    main()
