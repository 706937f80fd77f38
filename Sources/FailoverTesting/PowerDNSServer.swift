import Foundation

/// A real PowerDNS Authoritative server (`pdns_server` with the gsqlite3 backend, in the
/// foreground, everything in its own temporary directory) serving zone `example.test.`
/// (SOA, NS, and `app.example.test. 30 IN A 127.0.0.1`) on a free DNS port, with its HTTP
/// API on another free port behind `apiKey`.
///
/// `init` creates the database from the packaged schema, starts the server and waits until
/// the API answers for the zone; a server that cannot start throws with its log. It is
/// stopped by its pid only.
public final class PowerDNSServer: @unchecked Sendable {
    /// The server binary used.
    public static let executable = "/usr/sbin/pdns_server"
    /// The packaged sqlite schema.
    public static let schema = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"
    /// The zone it serves.
    public static let zone = "example.test."
    /// The record tests move.
    public static let name = "app.example.test."
    /// The record's address at start.
    public static let initialAddress = "127.0.0.1"

    /// The directory holding the config, database and log.
    public let directory: URL
    /// The DNS port (UDP and TCP) on 127.0.0.1.
    public let dnsPort: Int
    /// The HTTP API's port on 127.0.0.1.
    public let apiPort: Int
    /// The API key (`X-API-Key`).
    public let apiKey: String
    private let process: ServerProcess

    /// Creates the database and config, starts PowerDNS, waits until its API answers.
    public init(apiKey: String = "pdns-test-key-\(UUID().uuidString.prefix(8))", timeout: Duration = .seconds(30))
        throws
    {
        for tool in [Self.executable, "/usr/bin/sqlite3"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw HarnessError(
                .startFailed, "\(tool) not found (scripts/install-deps.sh installs pdns-server, sqlite3)")
        }
        self.apiKey = apiKey
        directory = try TemporaryDirectory.make(prefix: "fo-pdns")
        dnsPort = try FreePort.tcp()
        apiPort = try FreePort.tcp()
        try Self.createDatabase(at: directory.appendingPathComponent("pdns.db").path)
        try Self.config(directory: directory.path, dnsPort: dnsPort, apiPort: apiPort, apiKey: apiKey).write(
            to: directory.appendingPathComponent("pdns.conf"), atomically: true, encoding: .utf8)
        process = try ServerProcess(
            name: "pdns", executable: Self.executable,
            arguments: ["--config-dir=\(directory.path)", "--daemon=no", "--guardian=no"],
            workingDirectory: directory, logDirectory: directory)
        try process.waitUntilReady(timeout: timeout) { [self] in
            (try? get("/api/v1/servers/localhost/zones/\(Self.zone)"))?.split(separator: "\n").first?.contains(" 200")
                == true
        }
    }

    /// `init` for async tests: starts PowerDNS without blocking the cooperative pool.
    public static func start(timeout: Duration = .seconds(30)) async throws -> PowerDNSServer {
        try await Blocking.run { try PowerDNSServer(timeout: timeout) }
    }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `http://127.0.0.1:PORT`, the `api:` option.
    public var apiURL: String { "http://127.0.0.1:\(apiPort)" }

    /// `dig +short @127.0.0.1 -p PORT name type`: the answer's lines (blocking).
    public func dig(_ name: String = PowerDNSServer.name, type: String = "A") throws -> [String] {
        let output = try Self.run(
            "/usr/bin/dig", ["+short", "+time=2", "+tries=1", "@127.0.0.1", "-p", String(dnsPort), name, type])
        return output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(";") }
    }

    /// A raw HTTP/1.0 GET of `path` on the API with the key: status line, headers and body.
    public func get(_ path: String) throws -> String {
        let request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nX-API-Key: \(apiKey)\r\n\r\n"
        return try LoopbackExchange.exchange(Array(request.utf8), port: apiPort, timeout: .seconds(5))
    }

    /// The last lines of the server's log, for failure messages.
    public func logTail(lines: Int = 60) -> String { process.logTail(lines: lines) }

    /// Stops PowerDNS (by pid); later queries get no answer. Idempotent.
    public func stop() { process.stop() }

    private static func config(directory: String, dnsPort: Int, apiPort: Int, apiKey: String) -> String {
        """
        launch=gsqlite3
        gsqlite3-database=\(directory)/pdns.db
        local-address=127.0.0.1
        local-port=\(dnsPort)
        api=yes
        api-key=\(apiKey)
        webserver=yes
        webserver-address=127.0.0.1
        webserver-port=\(apiPort)
        webserver-allow-from=127.0.0.0/8
        socket-dir=\(directory)
        security-poll-suffix=
        loglevel=4

        """
    }

    /// The schema, then the zone with its SOA, NS and the `app` A record.
    private static func createDatabase(at path: String) throws {
        _ = try run("/usr/bin/sqlite3", [path, ".read \(schema)"])
        let zone = String(Self.zone.dropLast())
        let rows = [
            "INSERT INTO domains (name, type) VALUES ('\(zone)', 'NATIVE');",
            record(zone, "SOA", "ns1.\(zone). hostmaster.\(zone). 1 10800 3600 604800 300", ttl: 300),
            record(zone, "NS", "ns1.\(zone).", ttl: 300),
            record(String(Self.name.dropLast()), "A", initialAddress, ttl: 30),
        ]
        _ = try run("/usr/bin/sqlite3", [path, rows.joined(separator: "\n")])
    }

    private static func record(_ name: String, _ type: String, _ content: String, ttl: Int) -> String {
        "INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, auth) "
            + "VALUES (1, '\(name)', '\(type)', '\(content)', \(ttl), 0, 0, 1);"
    }

    /// Runs a tool to its end; throws with its output when it fails.
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw HarnessError(.command, "cannot run \(tool): \(error)") }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError(
                .command, "\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)", log: output
            )
        }
        return output
    }
}
