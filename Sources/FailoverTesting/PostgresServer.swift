import FailoverCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL 15 primary and a streaming replica on 127.0.0.1 (free ports), both
/// in one temporary directory owned by user `postgres`, run as that user.
///
/// Authentication: trust for everyone over the unix socket (in the directory) and TCP,
/// except `passwordUser`, who must give `password` (scram-sha-256) over TCP. `init` waits
/// until both servers answer queries and the replica streams from the primary; a server
/// that cannot start throws a `HarnessError` carrying its log. Servers are stopped by
/// their own PIDs (fast shutdown, `pg_ctl stop -m immediate` as the fallback).
public final class PostgresCluster: @unchecked Sendable {
    /// The PostgreSQL binaries used.
    public static let bin = "/usr/lib/postgresql/15/bin"
    /// The role that must authenticate with a password.
    public static let passwordUser = "failover_pw"
    /// Its password.
    public static let password = "Pw-5ecret-Do-Not-Print"

    /// The directory holding both data directories, the sockets and the logs.
    public let directory: URL
    /// The primary.
    public let primary: PostgresNode
    /// The streaming replica of `primary`.
    public let replica: PostgresNode

    /// Creates both servers and waits until the replica streams. `walLogHints` off makes
    /// a cluster that `pg_rewind` refuses (no data checksums either).
    public init(timeout: Duration = .seconds(60), walLogHints: Bool = true) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.bin + "/postgres") else {
            throw HarnessError(.startFailed, "\(Self.bin)/postgres not found (scripts/install-deps.sh installs postgresql-15)")
        }
        directory = try TemporaryDirectory.make(prefix: "fo-pg")
        try PGCommand.chownToPostgres(directory.path)
        primary = try PostgresNode.initPrimary(in: directory, timeout: timeout, walLogHints: walLogHints)
        try primary.psql(
            "CREATE ROLE \(Self.passwordUser) LOGIN SUPERUSER PASSWORD '\(Self.password)'")
        replica = try PostgresNode.cloneReplica(of: primary, in: directory, timeout: timeout)
        try primary.waitUntil("the replica streams", timeout: timeout) {
            try $0.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1"
        }
    }

    /// `init` for async tests, off the cooperative pool.
    public static func start(timeout: Duration = .seconds(60), walLogHints: Bool = true) async throws -> PostgresCluster {
        try await Blocking.run { try PostgresCluster(timeout: timeout, walLogHints: walLogHints) }
    }

    deinit {
        replica.stop()
        primary.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A DSN of `passwordUser` on `node` with `password` (right or wrong).
    public func passwordDSN(_ node: PostgresNode, password: String) -> String {
        "postgres://\(Self.passwordUser):\(password)@127.0.0.1:\(node.port)/postgres"
    }

    /// Both servers' log tails, for failure messages.
    public func logs() -> String { primary.logTail() + "\n" + replica.logTail() }
}

/// One server of a `PostgresCluster`.
public final class PostgresNode: @unchecked Sendable {
    /// `primary` or `replica`.
    public let name: String
    /// The TCP port on 127.0.0.1.
    public let port: Int
    /// The data directory.
    public let dataDirectory: String
    private let socketDirectory: String
    private let process: ServerProcess

    private init(name: String, port: Int, dataDirectory: String, socketDirectory: String, timeout: Duration) throws {
        self.name = name
        self.port = port
        self.dataDirectory = dataDirectory
        self.socketDirectory = socketDirectory
        process = try ServerProcess(
            name: "postgres-\(name)", executable: "/usr/bin/setpriv",
            arguments: ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", PostgresCluster.bin + "/postgres",
                "-D", dataDirectory],
            logDirectory: URL(fileURLWithPath: socketDirectory))
        try process.waitUntilReady(timeout: timeout) { [self] in (try? psql("SELECT 1")) == "1" }
    }

    deinit { stop() }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` (trust).
    public var dsn: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    /// The server's PID (the postmaster's own: it is exec'd by `setpriv`, not forked).
    public var pid: Int32 { process.pid }

    /// Runs `sql` with psql over the unix socket as `postgres`; the unaligned, tuples-only
    /// output, trimmed. Throws with psql's message on error.
    @discardableResult
    public func psql(_ sql: String) throws -> String {
        try PGCommand.run(
            PostgresCluster.bin + "/psql",
            ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", String(port), "-U",
                "postgres", "-d", "postgres", "-c", sql])
    }

    /// Polls `condition` every 20 ms until true; throws with the log after `timeout`.
    public func waitUntil(_ what: String, timeout: Duration, _ condition: (PostgresNode) throws -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while (try? condition(self)) != true {
            guard ContinuousClock.now < deadline else {
                throw HarnessError(.notReady, "\(name): \(what) not seen after \(timeout)", log: logTail())
            }
            usleep(20_000)
        }
    }

    /// Stops the server: SIGINT (fast shutdown) to its PID, then `pg_ctl stop -m immediate`
    /// if it is still running after 10 s, or when a test restarted it through `pg_ctl`
    /// (its `postmaster.pid` is still there). Idempotent.
    public func stop() {
        if process.isRunning {
            kill(process.pid, SIGINT)
            let deadline = ContinuousClock.now + .seconds(10)
            while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
            if process.isRunning { _ = try? PGCommand.asPostgres("pg_ctl", ["stop", "-D", dataDirectory, "-m", "immediate"]) }
        }
        process.stop(grace: .seconds(2))
        if FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") {
            _ = try? PGCommand.asPostgres("pg_ctl", ["stop", "-D", dataDirectory, "-m", "immediate", "-w", "-t", "10"])
        }
    }

    /// Kills the postmaster with SIGKILL (a crash its children notice) and waits for it:
    /// the one the harness started, or the one a test restarted with `pg_ctl` (from
    /// `postmaster.pid`).
    public func killNine() {
        if process.isRunning {
            kill(process.pid, SIGKILL)
            process.stop(grace: .seconds(10))
            return
        }
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }), pid > 1
        else { return }
        kill(pid, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(10)
        while kill(pid, 0) == 0, ContinuousClock.now < deadline { usleep(10_000) }
    }

    /// How a `host` block drives this server: `pg_ctl` stop (fast) and start (log beside
    /// the data directory, its own port on the command line: `pg_rewind` copies the other
    /// server's `postgresql.conf`, whose port is the other's here on one machine), this
    /// machine's `pg_rewind`, run as `postgres` when local.
    public func host(_ access: DatabaseHost.Access) -> DatabaseHost {
        let bin = PostgresCluster.bin
        return DatabaseHost(
            access: access, dataDirectory: dataDirectory, stop: [bin + "/pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "stop"],
            start: [bin + "/pg_ctl", "-D", dataDirectory, "-l", dataDirectory + ".restarted.log", "-o", "-p \(port)", "-w", "start"],
            pgRewind: bin + "/pg_rewind", runAs: access == .local ? "postgres" : nil)
    }

    /// Kills the server like a crash (SIGQUIT: immediate shutdown) and waits for it to exit.
    public func crash() {
        if process.isRunning { kill(process.pid, SIGQUIT) }
        process.stop(grace: .seconds(10))
    }

    /// The log's last lines.
    public func logTail() -> String { process.logTail(lines: 60) }

    static func initPrimary(in directory: URL, timeout: Duration, walLogHints: Bool) throws -> PostgresNode {
        let data = directory.appendingPathComponent("primary").path
        try PGCommand.asPostgres(
            "initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        let port = try FreePort.tcp()
        try PGCommand.append(
            """
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(directory.path)'
            fsync = off
            wal_level = replica
            max_wal_senders = 5
            hot_standby = on
            wal_receiver_status_interval = 1s
            wal_log_hints = \(walLogHints ? "on" : "off")
            wal_keep_size = '256MB'
            max_wal_size = '256MB'
            min_wal_size = '64MB'
            """, to: data + "/postgresql.conf")
        try """
        local all all trust
        host all \(PostgresCluster.passwordUser) 127.0.0.1/32 scram-sha-256
        host all all 127.0.0.1/32 trust
        host replication all 127.0.0.1/32 trust

        """.write(toFile: data + "/pg_hba.conf", atomically: false, encoding: .utf8)
        return try PostgresNode(
            name: "primary", port: port, dataDirectory: data, socketDirectory: directory.path, timeout: timeout)
    }

    static func cloneReplica(of primary: PostgresNode, in directory: URL, timeout: Duration) throws -> PostgresNode {
        let data = directory.appendingPathComponent("replica").path
        try PGCommand.asPostgres(
            "pg_basebackup",
            ["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", data, "-R", "-X", "stream", "-c",
                "fast"])
        let port = try FreePort.tcp()
        try PGCommand.append("port = \(port)", to: data + "/postgresql.conf")
        return try PostgresNode(
            name: "replica", port: port, dataDirectory: data, socketDirectory: directory.path, timeout: timeout)
    }
}

/// The command-line tools the cluster runs.
enum PGCommand {
    /// Runs a PostgreSQL binary as user `postgres` (`runuser`).
    @discardableResult
    static func asPostgres(_ tool: String, _ arguments: [String]) throws -> String {
        try run("/usr/sbin/runuser", ["-u", "postgres", "--", PostgresCluster.bin + "/" + tool] + arguments)
    }

    /// Runs `executable`; its combined output (trimmed), or a `HarnessError` quoting it.
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { throw HarnessError(.command, "cannot run \(executable): \(error)") }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            let tool = (arguments.first { $0.hasPrefix("/") } ?? executable as String)
            throw HarnessError(.command, "\(tool) exited with \(process.terminationStatus)", log: text)
        }
        return text
    }

    static func append(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw HarnessError(.system, "cannot open \(path) for writing")
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(("\n" + text + "\n").utf8))
    }

    static func chownToPostgres(_ path: String) throws {
        do {
            try FileManager.default.setAttributes(
                [.ownerAccountName: "postgres", .groupOwnerAccountName: "postgres", .posixPermissions: 0o700],
                ofItemAtPath: path)
        } catch {
            throw HarnessError(.system, "cannot give \(path) to user postgres (tests must run as root): \(error)")
        }
    }
}
