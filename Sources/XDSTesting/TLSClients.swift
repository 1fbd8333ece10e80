import Foundation

/// A self-signed certificate and its key, made by `openssl` for one test, as PEM, with the file
/// holding the certificate (a client trusts exactly it, so a request that succeeds proves which
/// certificate the server presented).
public struct TestCertificate: Sendable {
    public var certificatePEM: String
    public var keyPEM: String
    public var certificateFile: URL

    /// `key`: `ec` (P-256) or `rsa` (2048 bits); valid from now for `days`.
    public static func make(for hostname: String, key: String = "ec", days: Int = 30, in directory: URL) throws
        -> TestCertificate
    {
        let name = "\(hostname)-\(UUID().uuidString.prefix(8))"
        let certificate = directory.appendingPathComponent("\(name).crt")
        let keyFile = directory.appendingPathComponent("\(name).key")
        let algorithm =
            key == "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        let result = try runProcess(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-nodes", "-days", "\(days)", "-subj", "/CN=\(hostname)", "-addext",
                "subjectAltName=DNS:\(hostname)", "-keyout", keyFile.path, "-out", certificate.path,
            ] + algorithm)
        guard result.status == 0 else { throw EnvoyProcess.Failure(description: "openssl: \(result.stderr)") }
        return TestCertificate(
            certificatePEM: try String(contentsOf: certificate, encoding: .utf8),
            keyPEM: try String(contentsOf: keyFile, encoding: .utf8), certificateFile: certificate)
    }

    /// A `kubernetes.io/tls` Secret holding it, as PEM text under `stringData`.
    public func secret(name: String, namespace: String = "default", key: String? = nil) -> String {
        func indented(_ text: String) -> String {
            text.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        }
        return """
            apiVersion: v1
            kind: Secret
            metadata: {name: \(name), namespace: \(namespace)}
            type: kubernetes.io/tls
            stringData:
              tls.crt: |
            \(indented(certificatePEM))
              tls.key: |
            \(indented(key ?? keyPEM))

            """
    }
}

/// HTTPS requests from real clients: curl (HTTP/1.1 and HTTP/2 by ALPN) and Python's `ssl`
/// (a connection held open across a certificate renewal).
public enum HTTPSClient {
    public struct Response: Sendable {
        public var status: Int
        /// `1.1` or `2`, as curl reports the protocol ALPN chose.
        public var httpVersion: String
        public var body: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// One request to `https://host:port/path` sent to 127.0.0.1 with SNI `host`, trusting only
    /// `trusting`: it fails unless the server presents that certificate for that name.
    public static func get(
        host: String, port: Int, path: String = "/", trusting: URL, http2: Bool
    ) throws -> Response {
        let result = try runProcess(
            "/usr/bin/curl",
            [
                "-sS", "--max-time", "10", "--resolve", "\(host):\(port):127.0.0.1", "--cacert", trusting.path,
                http2 ? "--http2" : "--http1.1", "-w", "\n%{http_code} %{http_version}",
                "https://\(host):\(port)\(path)",
            ])
        guard result.status == 0 else { throw Failure(description: "curl exit \(result.status): \(result.stderr)") }
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let last = lines.last?.split(separator: " ") ?? []
        guard last.count == 2, let status = Int(last[0]) else {
            throw Failure(description: "curl printed \(result.stdout)")
        }
        return Response(
            status: status, httpVersion: String(last[1]), body: lines.dropLast().joined(separator: "\n"))
    }

    /// A TLS connection that sends a request now and another when told to, on the same
    /// connection (HTTP/1.1 keep-alive), trusting only `trusting`.
    // Unchecked: the process's pipes are used by one test task at a time.
    public final class HeldConnection: @unchecked Sendable {
        private let process: Process
        private let input: Pipe
        private let output: Pipe

        public init(host: String, port: Int, trusting: URL) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", Self.script, host, String(port), trusting.path]
            (input, output) = try ChildProcesses.launch {
                let input = Pipe()
                let output = Pipe()
                process.standardInput = input
                process.standardOutput = output
                process.standardError = output
                try process.run()
                return (input, output)
            }
            ChildProcesses.register(process.processIdentifier)
            self.process = process
        }

        /// Sends a request and returns the status line's code, or the client's error.
        public func request() throws -> String {
            // The throwing calls: the others trap on an error (a client that has exited).
            try input.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
            var line = Data()
            while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8)
            {
                line += byte
            }
            return String(decoding: line, as: UTF8.self)
        }

        public func close() {
            try? input.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
        }

        private static let script = #"""
            import socket, ssl, sys
            host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
            context = ssl.create_default_context(cafile=ca)
            context.set_alpn_protocols(["http/1.1"])
            connection = None
            for line in sys.stdin:
                try:
                    if connection is None:
                        # A bound on every wait: the test reads this client's answer line.
                        connection = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname=host)
                    connection.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = connection.recv(4096)
                        if not chunk:
                            raise EOFError("connection closed")
                        data += chunk
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = 0
                    for header in head.split(b"\r\n")[1:]:
                        name, _, value = header.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value.strip())
                    while len(body) < length:
                        chunk = connection.recv(4096)
                        if not chunk:
                            raise EOFError("connection closed")
                        body += chunk
                    print(head.split(b"\r\n")[0].split(b" ")[1].decode(), flush=True)
                except Exception as error:
                    print(f"error {error!r}", flush=True)
            """#
    }
}
