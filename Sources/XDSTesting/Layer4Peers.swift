import Foundation

/// Real layer-4 peers for tests, in Python's standard library: a TCP echo server, a UDP echo
/// server, a TLS server with its own certificate (which answers with its name), an HTTPS server
/// (which answers every GET with its name and the SNI it was sent), and the clients that talk to
/// them through Envoy.
public enum Layer4Peers {
    /// Starts a server (`tcp`, `udp`, `tls` or `https`) on 127.0.0.1:`port`, answering with
    /// `name`; the caller terminates it. A `tls` or `https` server presents `certificate`; an
    /// `https` server given `clientCA` asks for a client certificate signed by it, refuses a
    /// connection without one, and answers with the client certificate's subject too.
    public static func server(
        _ kind: String, port: Int, name: String, certificate: TestCertificate? = nil, clientCA: URL? = nil,
        in directory: URL? = nil
    ) throws -> Process {
        var arguments = ["-c", script, "serve-\(kind)", String(port), name]
        if let certificate, let directory {
            let key = directory.appendingPathComponent("\(name).key")
            try certificate.keyPEM.write(to: key, atomically: true, encoding: .utf8)
            arguments += [certificate.certificateFile.path, key.path]
        }
        if let clientCA { arguments.append(clientCA.path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = arguments
        // Not the test's own output: a server outliving the test must not hold it open.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try ChildProcesses.launch { try process.run() }
        ChildProcesses.register(process.processIdentifier)
        return process
    }

    /// Sends `message` over TCP, UDP or TLS (with SNI `serverName`, trusting only `trusting`)
    /// to 127.0.0.1:`port` and returns the reply, or the client's error as text.
    public static func send(
        _ kind: String, port: Int, message: String, serverName: String? = nil, trusting: URL? = nil
    ) throws -> String {
        var arguments = ["-c", script, kind, String(port), message]
        if let serverName, let trusting { arguments += [serverName, trusting.path] }
        let result = try runProcess("/usr/bin/python3", arguments)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let script = #"""
        import signal, socket, socketserver, ssl, sys, threading
        # A child of a test thread may inherit a mask that blocks SIGTERM: take it back.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        mode, port, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        if mode == "serve-tcp" or mode == "serve-tls":
            context = None
            if mode == "serve-tls":
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(sys.argv[4], sys.argv[5])
            class Handler(socketserver.BaseRequestHandler):
                def handle(self):
                    connection = context.wrap_socket(self.request, server_side=True) if context else self.request
                    data = connection.recv(4096)
                    # A PROXY protocol v1 header may arrive on its own: the data follows it.
                    if data.startswith(b"PROXY ") and data.endswith(b"\r\n"):
                        data += connection.recv(4096)
                    connection.sendall(arg.encode() + b" got " + data)
            socketserver.ThreadingTCPServer.allow_reuse_address = True
            socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler).serve_forever()
        elif mode == "serve-https":
            import http.server
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(sys.argv[4], sys.argv[5])
            context.sni_callback = lambda connection, name, _: setattr(connection, "sni", name)
            if len(sys.argv) > 6:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(sys.argv[6])
            class HTTPSHandler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = f"{arg} sni={getattr(self.connection, 'sni', None)}"
                    peer = self.connection.getpeercert()
                    if peer:
                        body += " client=" + dict(field[0] for field in peer["subject"])["commonName"]
                    body = body.encode()
                    self.send_response(200)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), HTTPSHandler)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            server.serve_forever()
        elif mode == "serve-udp":
            server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            server.bind(("127.0.0.1", port))
            while True:
                data, peer = server.recvfrom(4096)
                server.sendto(arg.encode() + b" got " + data, peer)
        else:
            try:
                if mode == "udp":
                    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    client.settimeout(2)
                    client.sendto(arg.encode(), ("127.0.0.1", port))
                    print(client.recvfrom(4096)[0].decode())
                else:
                    client = socket.create_connection(("127.0.0.1", port), timeout=5)
                    if mode == "tls":
                        context = ssl.create_default_context(cafile=sys.argv[5])
                        client = context.wrap_socket(client, server_hostname=sys.argv[4])
                    client.sendall(arg.encode())
                    print(client.recv(4096).decode())
            except Exception as error:
                print(f"error {error!r}")
        """#
}
