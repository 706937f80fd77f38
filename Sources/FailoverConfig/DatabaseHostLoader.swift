import FailoverCore
import Foundation

/// Reads a `host:` block: how to reach a database host and drive its server there.
///
/// ```yaml
/// host:
///   ssh: postgres@db-east.example      # or local: true (exactly one of the two)
///   port: 22
///   identity_file: /etc/failoverctl/id_ed25519
///   known_hosts: /etc/failoverctl/known_hosts
///   ssh_config: /etc/failoverctl/ssh_config
///   connect_timeout: 5s
///   data_directory: /var/lib/postgresql/15/main   # required
///   stop: [pg_ctlcluster, "15", main, stop, -m, fast]
///   start: [pg_ctlcluster, "15", main, start]
///   pg_rewind: /usr/lib/postgresql/15/bin/pg_rewind
///   run_as: postgres
/// ```
///
/// Files the controller's ssh reads (identity, known_hosts, ssh config) must exist on this
/// machine. With `local: true` the data directory, the programs written and the `run_as`
/// user must exist here too; over ssh they are the remote host's business.
struct DatabaseHostLoader {
    /// The `host:` mapping.
    let reader: YAMLReader

    /// The keys a `host:` block may hold.
    static let keys: Set<String> = [
        "ssh", "local", "port", "identity_file", "known_hosts", "ssh_config", "connect_timeout", "data_directory",
        "stop", "start", "pg_rewind", "run_as",
    ]
    /// The keys that only mean something over ssh.
    static let sshKeys = ["port", "identity_file", "known_hosts", "ssh_config", "connect_timeout"]

    func load() throws -> DatabaseHost {
        try reader.rejectUnknown(Self.keys)
        let access = try access()
        let local = access == .local
        var host = DatabaseHost(access: access, dataDirectory: try dataDirectory(local: local))
        host.stop = try command("stop", local: local) ?? host.stop
        host.start = try command("start", local: local) ?? host.start
        host.pgRewind = try pgRewind(local: local) ?? host.pgRewind
        host.runAs = try runAs(local: local)
        return host
    }

    /// `ssh: DESTINATION` or `local: true`, exactly one.
    private func access() throws -> DatabaseHost.Access {
        switch (reader.has("ssh"), reader.has("local")) {
        case (true, true):
            throw reader.error("local", "write either ssh or local, not both")
        case (false, false):
            throw reader.error(
                "ssh",
                "is required: the host's ssh destination (user@host), or local: true when the controller runs there")
        case (false, true):
            guard try reader.bool("local") == true else {
                throw reader.error(
                    "local", "only local: true is meaningful (to reach the host over ssh, write ssh: user@host)")
            }
            if let key = Self.sshKeys.first(where: reader.has) {
                throw reader.error(key, "applies only to ssh (this host is local: true)")
            }
            return .local
        case (true, false):
            return .ssh(try sshTarget())
        }
    }

    private func sshTarget() throws -> DatabaseHost.SSHTarget {
        guard let destination = try reader.nonEmptyString("ssh") else {
            throw reader.error("ssh", "is required: the host's ssh destination, e.g. ssh: postgres@db-east.example")
        }
        guard !destination.hasPrefix("-"), !destination.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw reader.error(
                "ssh",
                "\"\(destination)\" is not an ssh destination (user@host or a Host alias: no spaces, no leading -)")
        }
        var target = DatabaseHost.SSHTarget(destination: destination)
        target.port = try reader.int("port", range: 1...65_535)
        target.identityFile = try controllerFile("identity_file")
        target.knownHostsFile = try controllerFile("known_hosts")
        target.configFile = try controllerFile("ssh_config")
        if let timeout = try reader.duration("connect_timeout") {
            guard timeout >= .seconds(1), timeout <= .seconds(300) else {
                throw reader.error("connect_timeout", "\(timeout.text) is outside 1s...5m")
            }
            target.connectTimeout = timeout
        }
        return target
    }

    /// An absolute path of a file on this machine that the ssh client reads. Never read
    /// here: an identity file is a secret, and only its path is ever shown.
    private func controllerFile(_ key: String) throws -> String? {
        guard let path = try reader.nonEmptyString(key) else { return nil }
        guard path.hasPrefix("/") else { throw reader.error(key, "\"\(path)\" must be an absolute path") }
        // ssh splits an -o value at spaces (UserKnownHostsFile takes a list of files).
        guard !path.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw reader.error(key, "\"\(path)\" holds a space; ssh cannot take such a path")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw reader.error(key, "\(path) does not exist on this machine (the controller's ssh reads it)")
        }
        guard !isDir.boolValue else { throw reader.error(key, "\(path) is a directory, not a file") }
        return path
    }

    private func dataDirectory(local: Bool) throws -> String {
        guard let path = try reader.nonEmptyString("data_directory") else {
            throw reader.error(
                "data_directory",
                "is required: the PostgreSQL data directory on that host, e.g. /var/lib/postgresql/15/main")
        }
        guard path.hasPrefix("/") else { throw reader.error("data_directory", "\"\(path)\" must be an absolute path") }
        guard local else { return path }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw reader.error("data_directory", "\(path) does not exist on this machine (the host is local: true)")
        }
        guard isDir.boolValue else { throw reader.error("data_directory", "\(path) is not a directory") }
        return path
    }

    /// A command as argv. Locally its program must be found here (as for `exec`); over
    /// ssh it is looked up on the remote host when it runs.
    private func command(_ key: String, local: Bool) throws -> [String]? {
        if local { return try reader.command(key) }
        guard let node = reader.node(key) else { return nil }
        guard let list = node.sequence else {
            throw reader.error(
                key, "expected a command as a list of strings (argv), e.g. [pg_ctlcluster, \"15\", main, \(key)]")
        }
        let argv = try list.map { try reader.scalarText($0, key: key) }
        guard let program = argv.first, !program.isEmpty else {
            throw reader.error(key, "the command is empty (expected [program, args...])")
        }
        return argv
    }

    private func pgRewind(local: Bool) throws -> String? {
        guard let path = try reader.nonEmptyString("pg_rewind") else { return nil }
        guard path.hasPrefix("/") else { throw reader.error("pg_rewind", "\"\(path)\" must be an absolute path") }
        if local, let problem = ProgramLookup.problem(atPath: path) { throw reader.error("pg_rewind", problem) }
        return path
    }

    /// A user name; locally it must exist here (`runuser` needs it). Over ssh it is
    /// accepted and ignored: the destination's user runs the commands.
    private func runAs(local: Bool) throws -> String? {
        guard let user = try reader.identifier("run_as", extra: "-_.", maxLength: 32) else { return nil }
        guard !user.hasPrefix("-") else { throw reader.error("run_as", "\"\(user)\" is not a user name") }
        if local, getpwnam(user) == nil {
            throw reader.error("run_as", "user \(user) does not exist on this machine (the host is local: true)")
        }
        return user
    }
}
