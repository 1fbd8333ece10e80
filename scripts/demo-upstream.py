#!/usr/bin/env python3
"""A demo upstream for the quickstart: answers every request with its own name, the path and
the headers it received, and sets x-upstream to its name. Usage: demo-upstream.py NAME PORT"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

name, port = sys.argv[1], int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"upstream": name, "path": self.path, "headers": dict(self.headers)}, indent=2) + "\n"
        data = body.encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-upstream", name)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
