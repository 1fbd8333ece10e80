#!/usr/bin/env python3
"""Demo peers for examples/tcp-udp, standard library only.

    scripts/demo-peer.py tcp NAME PORT               echoes "NAME got <data>" on each connection
    scripts/demo-peer.py udp NAME PORT               the same for each datagram
    scripts/demo-peer.py tls NAME PORT CERT KEY      the same, over TLS with this certificate
    scripts/demo-peer.py send tcp|udp PORT MESSAGE   sends MESSAGE to 127.0.0.1:PORT, prints the reply
    scripts/demo-peer.py send tls PORT MESSAGE SNI CA    the same over TLS, trusting only CA
"""
import socket
import socketserver
import ssl
import sys


def send(mode, port, message, sni=None, ca=None):
    if mode == "udp":
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(3)
        client.sendto(message, ("127.0.0.1", port))
        print(client.recvfrom(65535)[0].decode())
        return
    client = socket.create_connection(("127.0.0.1", port), timeout=3)
    if mode == "tls":
        client = ssl.create_default_context(cafile=ca).wrap_socket(client, server_hostname=sni)
    client.sendall(message)
    print(client.recv(65535).decode())


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4].encode(), *sys.argv[5:7])
        return
    if len(sys.argv) < 4 or sys.argv[1] not in ("tcp", "udp", "tls"):
        sys.exit(__doc__)
    mode, name, port = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
    if mode == "udp":
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("127.0.0.1", port))
        while True:
            data, peer = server.recvfrom(65535)
            server.sendto(name + b" got " + data, peer)
    context = None
    if mode == "tls":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[4], sys.argv[5])

    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            connection = context.wrap_socket(self.request, server_side=True) if context else self.request
            while data := connection.recv(65535):
                connection.sendall(name + b" got " + data)

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer(("127.0.0.1", port), Echo).serve_forever()


if __name__ == "__main__":
    main()
