#!/usr/bin/env python3
"""A demo upstream for the quickstart and examples/: answers every request with its own name, the
path and the headers it received, and sets x-upstream to its name. GET /healthz answers 200 (for
active health checks).

Usage: demo-upstream.py NAME PORT [--delay SECONDS] [--fail-health] [--fail-first N] [--status CODE]
  --delay SECONDS  sleep this long before answering (not /healthz): for timeouts, circuit breakers
  --fail-health    answer 503 on GET /healthz: active health checks mark this upstream unhealthy
  --fail-first N   answer 503 to the first N requests (not /healthz), then normally: for retries
  --status CODE    always answer with this status (not /healthz): for outlier detection
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser(description="A demo upstream that echoes what it received.")
parser.add_argument("name")
parser.add_argument("port", type=int)
parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS")
parser.add_argument("--fail-health", action="store_true")
parser.add_argument("--fail-first", type=int, default=0, metavar="N")
parser.add_argument("--status", type=int, default=200, metavar="CODE")
args = parser.parse_args()

lock = threading.Lock()
failures_left = args.fail_first


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        global failures_left
        # Read a request body, if any, so the connection stays usable for the next request.
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.split("?")[0] == "/healthz":
            status = 503 if args.fail_health else 200
        else:
            if args.delay:
                time.sleep(args.delay)
            status = args.status
            with lock:
                if failures_left > 0:
                    failures_left -= 1
                    status = 503
        body = json.dumps({"upstream": args.name, "path": self.path, "headers": dict(self.headers)}, indent=2) + "\n"
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-upstream", args.name)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow request must not keep the process alive on Ctrl-C
    request_queue_size = 128  # accept bursts of many concurrent connections


Server(("127.0.0.1", args.port), Handler).serve_forever()
