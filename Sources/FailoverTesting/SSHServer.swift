import FailoverCore
import Foundation

/// A real OpenSSH server (`/usr/sbin/sshd -D -e`) on 127.0.0.1 and a free port, with its
/// host key, a client key pair, `authorized_keys`, `known_hosts` and a client ssh config,
/// all in one temporary directory.
///
/// Any local user whose key is the client key may log in, `root` and `postgres` among
/// them (tests run as root). `UsePAM yes`: with it off, sshd refuses accounts whose
/// password is locked (`!` in /etc/shadow), as Debian's `postgres` is. `init` waits until
/// the port accepts connections; a server that cannot start throws a `HarnessError`
/// carrying its log. It is stopped through its supervising shell's pid only (`supervisor`).
public final class SSHServer: @unchecked Sendable {
    /// The sshd binary used.
    public static let executable = "/usr/sbin/sshd"
    /// The privilege separation directory sshd requires.
    static let privilegeSeparationDirectory = "/run/sshd"

    /// The directory holding keys, config, pid file and log.
    public let directory: URL
    /// The port on 127.0.0.1.
    public let port: Int
    /// The private key `authorized_keys` accepts.
    public let clientKeyPath: String
    /// A `known_hosts` file with this server's host key as `[127.0.0.1]:PORT`.
    public let knownHostsPath: String
    /// A client ssh config (for `ssh -F`) that keeps the system's and root's out of tests.
    public let clientConfigPath: String
    private let process: ServerProcess

    /// Creates the keys and config, starts sshd and waits until it accepts connections.
    public init(timeout: Duration = .seconds(30)) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw HarnessError(
                .startFailed, "\(Self.executable) not found (scripts/install-deps.sh installs openssh-server)")
        }
        directory = try TemporaryDirectory.make(prefix: "fo-sshd")
        // Users other than root read authorized_keys here; the private keys stay 0600.
        try Self.setPermissions(0o755, directory.path)
        try Self.ensurePrivilegeSeparationDirectory()
        port = try FreePort.tcp()
        let hostKey = try Self.generateKey(in: directory, name: "host_key")
        clientKeyPath = try Self.generateKey(in: directory, name: "client_key")
        knownHostsPath = directory.appendingPathComponent("known_hosts").path
        clientConfigPath = directory.appendingPathComponent("ssh_config").path
        let authorizedKeys = directory.appendingPathComponent("authorized_keys").path
        try Self.write(try Self.publicKey(clientKeyPath), to: authorizedKeys, mode: 0o644)
        try Self.write("[127.0.0.1]:\(port) \(try Self.publicKey(hostKey))", to: knownHostsPath, mode: 0o644)
        try Self.write(
            "Host *\n    GSSAPIAuthentication no\n    HashKnownHosts no\n", to: clientConfigPath, mode: 0o644)
        let config = directory.appendingPathComponent("sshd_config").path
        try Self.write(
            Self.serverConfig(port: port, hostKey: hostKey, authorizedKeys: authorizedKeys, directory: directory.path),
            to: config, mode: 0o600)
        process = try ServerProcess(
            name: "sshd", executable: "/bin/sh", arguments: ["-c", Self.supervisor, "sshd", config],
            logDirectory: directory)
        try process.waitUntilReady(timeout: timeout) { [port] in FreePort.accepts(port: port) }
    }

    /// `init` for async tests: starts sshd without blocking the cooperative pool.
    public static func start(timeout: Duration = .seconds(30)) async throws -> SSHServer {
        try await Blocking.run { try SSHServer(timeout: timeout) }
    }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `user@127.0.0.1`.
    public func destination(user: String = "postgres") -> String { "\(user)@127.0.0.1" }

    /// A `DatabaseHost` reached through this server as `user`, with its port, the client
    /// key (or `identityFile`), its `known_hosts` and its client config.
    public func databaseHost(
        user: String = "postgres", identityFile: String? = nil, dataDirectory: String = "/var/lib/postgresql/15/main",
        connectTimeout: Duration = .seconds(5)
    ) -> DatabaseHost {
        let target = DatabaseHost.SSHTarget(
            destination: destination(user: user), port: port, identityFile: identityFile ?? clientKeyPath,
            knownHostsFile: knownHostsPath, configFile: clientConfigPath, connectTimeout: connectTimeout)
        return DatabaseHost(access: .ssh(target), dataDirectory: dataDirectory)
    }

    /// Creates another ed25519 key pair, one `authorized_keys` does not hold; returns
    /// the private key's path.
    public func makeUnauthorizedKey() async throws -> String {
        let directory = directory
        return try await Blocking.run {
            try Self.generateKey(in: directory, name: "unauthorized_key_\(UUID().uuidString.prefix(8))")
        }
    }

    /// Stops sshd (SIGTERM to its pid, then SIGKILL); open sessions end with their
    /// connections. Idempotent.
    public func stop() { process.stop() }

    /// The last lines of sshd's log (`LogLevel VERBOSE`), for failure messages.
    public func logTail(lines: Int = 60) -> String { process.logTail(lines: lines) }

    /// Runs sshd as a child of `sh`, which forwards SIGTERM to it and exits when it does.
    ///
    /// Why not sshd directly: `Process` learns that a child ended from EOF on a socket the
    /// child inherits, then reaps it with a blocking `waitpid` on the one thread that
    /// serves every `Process`. sshd closes all inherited descriptors at startup, so that
    /// thread would wait for sshd's exit, and no other `Process` of the test run (another
    /// server, a command) could be seen ending until then. `sh` keeps the socket open.
    static let supervisor = """
        trap 'kill -TERM "$sshd" 2>/dev/null; wait "$sshd"; exit 143' TERM
        \(executable) -D -e -f "$1" &
        sshd=$!
        wait "$sshd"
        """

    private static func serverConfig(port: Int, hostKey: String, authorizedKeys: String, directory: String) -> String {
        """
        ListenAddress 127.0.0.1
        Port \(port)
        HostKey \(hostKey)
        PidFile \(directory)/sshd.pid
        AuthorizedKeysFile \(authorizedKeys)
        StrictModes no
        UsePAM yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        PrintMotd no
        LogLevel VERBOSE

        """
    }

    /// `ssh-keygen -t ed25519` without a passphrase into `directory/name` (0600) and
    /// `name.pub`; returns the private key's path. A `ChildProcess`, reaped here, so no
    /// other server's child can delay seeing its end (see `supervisor`).
    private static func generateKey(in directory: URL, name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        let argv = ["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]
        let result = try ChildProcess.run(argv, environment: ProcessInfo.processInfo.environment)
        guard result.status == 0 else {
            throw HarnessError(.command, "ssh-keygen exited with \(result.status)", log: result.stdout + result.stderr)
        }
        return path
    }

    /// `TYPE BASE64` of the public half of `privateKey` (its `.pub`, without the comment).
    private static func publicKey(_ privateKey: String) throws -> String {
        let path = privateKey + ".pub"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw HarnessError(.system, "cannot read \(path)")
        }
        return text.split(separator: " ").prefix(2).joined(separator: " ") + "\n"
    }

    private static func ensurePrivilegeSeparationDirectory() throws {
        let path = privilegeSeparationDirectory
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw HarnessError(.system, "cannot create \(path), which sshd needs (tests must run as root): \(error)")
        }
        try setPermissions(0o755, path)
    }

    private static func write(_ text: String, to path: String, mode: Int) throws {
        do {
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw HarnessError(.system, "cannot write \(path): \(error)")
        }
        try setPermissions(mode, path)
    }

    private static func setPermissions(_ mode: Int, _ path: String) throws {
        do {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        } catch {
            throw HarnessError(.system, "cannot set the mode of \(path): \(error)")
        }
    }
}
