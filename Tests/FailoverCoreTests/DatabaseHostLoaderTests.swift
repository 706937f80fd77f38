import FailoverCore
import Foundation
import Testing

@testable import FailoverConfig

/// Loads the `host:` block of `yaml` (a whole file, `host:` on its first line), written
/// into `files` as `db.yaml`.
private func loadHost(_ yaml: String, in files: TestFiles) throws -> DatabaseHost {
    let path = try files.write("db.yaml", yaml)
    let root = try YAMLReader(
        node: YAMLFile.parse(path), file: path, path: "",
        interpolator: Interpolator(environment: ["PATH": "/usr/bin:/bin"]))
    guard let host = try root.object("host") else {
        throw ConfigError(file: path, line: nil, key: "host", message: "missing")
    }
    return try DatabaseHostLoader(reader: host).load()
}

/// The error loading `body` (the lines under `host:`, indented by two) gives, as the one
/// line users see with the file name only. `ROOT` in `body` stands for a scratch directory.
private func hostError(_ body: String) -> String? {
    do {
        let files = try TestFiles()
        _ = try loadHost("host:\n" + body.replacingOccurrences(of: "ROOT", with: files.root), in: files)
        return nil
    } catch let error as ConfigError {
        return "db.yaml:\(error.line.map(String.init) ?? "?"): \(error.key): \(error.message)"
    } catch {
        return "\(error)"
    }
}

/// Good and bad `host:` blocks of the postgres action.
@Suite struct DatabaseHostLoaderTests {
    @Test func aFullSSHBlockLoads() throws {
        let files = try TestFiles()
        for name in ["id_ed25519", "known_hosts", "ssh_config"] { try files.write(name, "") }
        let host = try loadHost(
            """
            host:
              ssh: postgres@db-east.example
              port: 2222
              identity_file: \(files.path("id_ed25519"))
              known_hosts: \(files.path("known_hosts"))
              ssh_config: \(files.path("ssh_config"))
              connect_timeout: 3s
              data_directory: /var/lib/postgresql/16/main
              stop: [pg_ctlcluster, "16", main, stop, -m, fast]
              start: [pg_ctlcluster, "16", main, start]
              pg_rewind: /usr/lib/postgresql/16/bin/pg_rewind
              run_as: postgres

            """, in: files)
        let target = DatabaseHost.SSHTarget(
            destination: "postgres@db-east.example", port: 2222, identityFile: files.path("id_ed25519"),
            knownHostsFile: files.path("known_hosts"), configFile: files.path("ssh_config"), connectTimeout: .seconds(3)
        )
        var expected = DatabaseHost.debianDefaults(version: 16)
        expected.access = .ssh(target)
        expected.runAs = "postgres"
        #expect(host == expected)
    }

    @Test func anSSHDestinationAndADataDirectoryAreEnoughAndGiveDebianDefaults() throws {
        let files = try TestFiles()
        let host = try loadHost("host: { ssh: db-east, data_directory: /srv/pg/data }\n", in: files)
        #expect(
            host
                == DatabaseHost(
                    access: .ssh(.init(destination: "db-east")), dataDirectory: "/srv/pg/data",
                    stop: ["pg_ctlcluster", "15", "main", "stop", "-m", "fast"],
                    start: ["pg_ctlcluster", "15", "main", "start"],
                    pgRewind: "/usr/lib/postgresql/15/bin/pg_rewind"))
        let target = try #require(host.sshTarget)
        #expect(target.connectTimeout == .seconds(5) && target.port == nil && target.identityFile == nil)
    }

    @Test func aLocalHostLoadsWithAnExistingDirectoryAndUser() throws {
        let files = try TestFiles()
        let host = try loadHost(
            """
            host:
              local: true
              data_directory: \(files.root)
              stop: [true, stop]
              run_as: postgres

            """, in: files)
        #expect(host.access == .local && host.sshTarget == nil)
        #expect(host.dataDirectory == files.root)
        #expect(host.stop == ["true", "stop"] && host.start == ["pg_ctlcluster", "15", "main", "start"])
        #expect(host.runAs == "postgres")
    }

    @Test(arguments: [
        (
            "  ssh: db\n",
            "db.yaml:2: host.data_directory: is required: the PostgreSQL data directory on that host, "
                + "e.g. /var/lib/postgresql/15/main"
        ),
        (
            "  local: true\n  data_directory: ROOT/missing\n",
            "db.yaml:3: host.data_directory: ROOT/missing does not exist on this machine (the host is local: true)"
        ),
        (
            "  ssh: db\n  local: true\n  data_directory: /d\n",
            "db.yaml:3: host.local: write either ssh or local, not both"
        ),
        (
            "  data_directory: /d\n",
            "db.yaml:2: host.ssh: is required: the host's ssh destination (user@host), or local: true when the "
                + "controller runs there"
        ),
        (
            "  local: false\n  data_directory: /d\n",
            "db.yaml:2: host.local: only local: true is meaningful (to reach the host over ssh, write ssh: user@host)"
        ),
        (
            "  local: true\n  port: 22\n  data_directory: /d\n",
            "db.yaml:3: host.port: applies only to ssh (this host is local: true)"
        ),
        (
            "  ssh: db\n  connect_timeout: 500ms\n  data_directory: /d\n",
            "db.yaml:3: host.connect_timeout: 500ms is outside 1s...5m"
        ),
        (
            "  ssh: db\n  connect_timeout: 6m\n  data_directory: /d\n",
            "db.yaml:3: host.connect_timeout: 6m is outside 1s...5m"
        ),
        ("  ssh: db\n  port: 0\n  data_directory: /d\n", "db.yaml:3: host.port: 0 is out of range 1...65535"),
        (
            "  ssh: db\n  data_directory: /d\n  user: postgres\n",
            "db.yaml:4: host.user: unknown key (expected one of: connect_timeout, data_directory, identity_file, "
                + "known_hosts, local, pg_rewind, port, run_as, ssh, ssh_config, start, stop)"
        ),
        (
            "  ssh: -oProxyCommand=sh\n  data_directory: /d\n",
            "db.yaml:2: host.ssh: \"-oProxyCommand=sh\" is not an ssh destination (user@host or a Host alias: "
                + "no spaces, no leading -)"
        ),
        (
            "  ssh: db\n  data_directory: pgdata\n",
            "db.yaml:3: host.data_directory: \"pgdata\" must be an absolute path"
        ),
        (
            "  ssh: db\n  identity_file: id_ed25519\n  data_directory: /d\n",
            "db.yaml:3: host.identity_file: \"id_ed25519\" must be an absolute path"
        ),
        (
            "  ssh: db\n  known_hosts: ROOT/kh\n  data_directory: /d\n",
            "db.yaml:3: host.known_hosts: ROOT/kh does not exist on this machine (the controller's ssh reads it)"
        ),
        (
            "  ssh: db\n  data_directory: /d\n  stop: pg_ctlcluster 15 main stop\n",
            "db.yaml:4: host.stop: expected a command as a list of strings (argv), e.g. [pg_ctlcluster, \"15\", main, stop]"
        ),
        (
            "  ssh: db\n  data_directory: /d\n  start: []\n",
            "db.yaml:4: host.start: the command is empty (expected [program, args...])"
        ),
        (
            "  local: true\n  data_directory: ROOT\n  stop: [no-such-pg-ctl]\n",
            "db.yaml:4: host.stop: command \"no-such-pg-ctl\" is not found on the controller's PATH (write its full path)"
        ),
        (
            "  ssh: db\n  data_directory: /d\n  pg_rewind: pg_rewind\n",
            "db.yaml:4: host.pg_rewind: \"pg_rewind\" must be an absolute path"
        ),
        (
            "  local: true\n  data_directory: ROOT\n  run_as: no-such-user-x\n",
            "db.yaml:4: host.run_as: user no-such-user-x does not exist on this machine (the host is local: true)"
        ),
    ])
    func badBlocksAreLocated(body: String, expected: String) throws {
        let error = try #require(hostError(body))
        // The scratch directory differs per call; compare with its path taken out.
        let root = #"/[^ ]*fo-core-[0-9A-F-]+"#
        #expect(error.replacingOccurrences(of: root, with: "ROOT", options: .regularExpression) == expected)
    }

    @Test func theKeysAreThoseOfTheBlock() {
        #expect(DatabaseHostLoader.keys.count == 12)
        #expect(DatabaseHostLoader.keys.isSuperset(of: DatabaseHostLoader.sshKeys))
    }
}
