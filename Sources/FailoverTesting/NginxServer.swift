import Foundation

/// A real nginx (`/usr/sbin/nginx`, one process, everything inside its own temporary
/// directory) serving N virtual servers, each on its own free 127.0.0.1 port, plain
/// HTTP or TLS. Every server answers:
/// - `/health`: 200 `ok\n`, or 503 `down\n` while the server is unhealthy (`setHealthy`);
/// - `/redirect`: 302 to `/health`;
/// - `/body`: 200 `something else\n`;
/// - `/no-content`: 204.
public final class NginxServer: @unchecked Sendable {
    /// How one virtual server listens.
    public enum Endpoint: Sendable {
        /// Plain HTTP.
        case http
        /// TLS with the given certificate and key (PEM paths).
        case https(certificate: String, key: String)
    }

    /// One virtual server.
    public struct Server: Sendable {
        /// Its position in the list given to `init`.
        public let index: Int
        /// Its port on 127.0.0.1.
        public let port: Int
        /// Whether it speaks TLS.
        public let isTLS: Bool
        /// The file whose existence makes `/health` answer 503.
        let downFlag: String

        /// `http(s)://127.0.0.1:PORT` followed by `path`.
        public func url(_ path: String = "/health") -> String {
            "\(isTLS ? "https" : "http")://127.0.0.1:\(port)\(path)"
        }
    }

    /// The nginx binary used.
    public static let executable = "/usr/sbin/nginx"
    /// The directory holding the config, logs, pid file and temp paths.
    public let directory: URL
    /// The virtual servers, in the order of `init`'s endpoints.
    public let servers: [Server]
    private let process: ServerProcess

    /// Writes the config for `endpoints`, starts nginx and waits until every port
    /// accepts TCP connections; throws with nginx's log otherwise.
    ///
    /// `reloadable` runs a master process with one worker, so `reload()` works (nginx's
    /// single-process mode does not reload reliably); stopping it still signals the master only.
    public init(_ endpoints: [Endpoint], reloadable: Bool = false, timeout: Duration = .seconds(30)) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw HarnessError(.startFailed, "\(Self.executable) not found (apt-get install nginx-light)")
        }
        directory = try TemporaryDirectory.make(prefix: "fo-nginx")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        var servers: [Server] = []
        for (index, endpoint) in endpoints.enumerated() {
            let isTLS = if case .https = endpoint { true } else { false }
            let flag = directory.appendingPathComponent("down-\(index)").path
            servers.append(Server(index: index, port: try FreePort.tcp(), isTLS: isTLS, downFlag: flag))
        }
        self.servers = servers
        let config = directory.appendingPathComponent("nginx.conf").path
        try Self.config(directory: directory.path, servers: zip(servers, endpoints).map { ($0, $1) }, master: reloadable)
            .write(toFile: config, atomically: true, encoding: .utf8)
        process = try ServerProcess(
            name: "nginx", executable: Self.executable,
            arguments: ["-p", directory.path, "-c", config, "-e", "stderr", "-g", "daemon off;"],
            workingDirectory: directory, logDirectory: directory)
        try process.waitUntilReady(timeout: timeout) {
            servers.allSatisfy { FreePort.accepts(port: $0.port) }
        }
    }

    /// `init` for async tests: starts nginx without blocking the cooperative pool.
    public static func start(_ endpoints: [Endpoint], timeout: Duration = .seconds(30)) async throws -> NginxServer {
        try await Blocking.run { try NginxServer(endpoints, timeout: timeout) }
    }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The port of server `index`.
    public func port(_ index: Int = 0) -> Int { servers[index].port }

    /// The URL of `path` on server `index`.
    public func url(_ index: Int = 0, path: String = "/health") -> String { servers[index].url(path) }

    /// Makes `/health` of server `index` answer 200 (`true`) or 503 (`false`); nginx
    /// checks on every request, so the change is immediate.
    public func setHealthy(_ healthy: Bool, server index: Int = 0) throws {
        let flag = servers[index].downFlag
        if healthy {
            if FileManager.default.fileExists(atPath: flag) { try FileManager.default.removeItem(atPath: flag) }
        } else {
            guard FileManager.default.createFile(atPath: flag, contents: Data("down\n".utf8)) else {
                throw HarnessError(.system, "cannot create \(flag)")
            }
        }
    }

    /// Stops nginx; later connects to its ports are refused. Idempotent.
    public func stop() { process.stop() }

    /// Re-reads the configuration and certificate files (SIGHUP; needs `reloadable`), e.g. after a test
    /// replaced a certificate, and waits until the error log says the reload is done.
    public func reload(timeout: Duration = .seconds(10)) throws {
        let errorLog = directory.appendingPathComponent("error.log").path
        let reloads = { (try? String(contentsOfFile: errorLog, encoding: .utf8))?.components(separatedBy: "reconfiguring").count ?? 0 }
        let before = reloads()
        guard kill(process.pid, SIGHUP) == 0 else { throw HarnessError(.startFailed, "cannot signal nginx: errno \(errno)") }
        try process.waitUntilReady(timeout: timeout) { reloads() > before }
    }

    /// The last `lines` lines of nginx's log (stderr and error log).
    public func logTail(lines: Int = 60) -> String { process.logTail(lines: lines) }

    private static func config(directory: String, servers: [(Server, Endpoint)], master: Bool) -> String {
        let blocks = servers.map { serverBlock($0.0, $0.1) }.joined(separator: "\n")
        return """
            master_process \(master ? "on" : "off");
            worker_processes 1;
            worker_rlimit_nofile 8192;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log info;
            error_log stderr warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                default_type text/plain;
                absolute_redirect off;
                keepalive_timeout 5s;
                client_body_temp_path \(directory)/tmp/client_body;
                proxy_temp_path \(directory)/tmp/proxy;
                fastcgi_temp_path \(directory)/tmp/fastcgi;
                uwsgi_temp_path \(directory)/tmp/uwsgi;
                scgi_temp_path \(directory)/tmp/scgi;
            \(blocks)
            }

            """
    }

    private static func serverBlock(_ server: Server, _ endpoint: Endpoint) -> String {
        var tls = ""
        if case .https(let certificate, let key) = endpoint {
            tls = """
                    ssl_certificate \(certificate);
                    ssl_certificate_key \(key);

                """
        }
        return """
                server {
                    listen 127.0.0.1:\(server.port)\(server.isTLS ? " ssl" : "");
                    server_name localhost;
            \(tls)        location = /health {
                        if (-f \(server.downFlag)) { return 503 "down\\n"; }
                        return 200 "ok\\n";
                    }
                    location = /redirect { return 302 /health; }
                    location = /body { return 200 "something else\\n"; }
                    location = /no-content { return 204; }
                }
            """
    }
}
