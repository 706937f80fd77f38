import Foundation

/// How the controller reaches the machine of a PostgreSQL server and drives the server
/// there: stop it, start it, run `pg_rewind` against its data directory.
///
/// Commands are argv lists, never shell text. Over ssh the system's OpenSSH client runs
/// them as the destination's user, with the user's keys, `known_hosts` and ssh config;
/// locally they run as the controller's user, or as `runAs` through `runuser`.
public struct DatabaseHost: Sendable, Equatable {
    /// Where the commands run.
    public enum Access: Sendable, Equatable {
        /// On this machine (the controller runs on the database host).
        case local
        /// On the host behind an ssh destination.
        case ssh(SSHTarget)
    }

    /// An ssh destination and the client options used to reach it.
    public struct SSHTarget: Sendable, Equatable {
        /// `user@host`, a bare host, or a `Host` alias of the ssh config
        /// (`postgres@db-east.example`).
        public var destination: String
        /// The port (`ssh -p`); nil: the ssh config's, else 22.
        public var port: Int?
        /// The private key to offer, and only it (`-i`, `IdentitiesOnly=yes`); nil: the
        /// ssh config's and the agent's keys.
        public var identityFile: String?
        /// The only `known_hosts` file to trust, checked strictly; nil: the user's.
        public var knownHostsFile: String?
        /// An ssh config file used instead of the user's and the system's (`ssh -F`).
        public var configFile: String?
        /// How long ssh may take to connect and exchange banners (`ConnectTimeout`,
        /// rounded up to whole seconds).
        public var connectTimeout: Duration

        /// Creates a target; only `destination` is required.
        public init(
            destination: String, port: Int? = nil, identityFile: String? = nil, knownHostsFile: String? = nil,
            configFile: String? = nil, connectTimeout: Duration = .seconds(5)
        ) {
            self.destination = destination
            self.port = port
            self.identityFile = identityFile
            self.knownHostsFile = knownHostsFile
            self.configFile = configFile
            self.connectTimeout = connectTimeout
        }
    }

    /// Where the commands run.
    public var access: Access
    /// The server's data directory on that host (`/var/lib/postgresql/15/main`).
    public var dataDirectory: String
    /// The command stopping the server (argv).
    public var stop: [String]
    /// The command starting the server (argv).
    public var start: [String]
    /// The path of `pg_rewind` on that host.
    public var pgRewind: String
    /// The user local commands run as (`runuser -u USER --`); nil: the controller's user.
    /// Ignored over ssh, where the destination's user runs them.
    public var runAs: String?

    /// Creates a host; `stop`, `start` and `pgRewind` default to those of Debian's
    /// PostgreSQL 15 cluster `main` (`pg_ctlcluster 15 main ...`).
    public init(
        access: Access, dataDirectory: String, stop: [String]? = nil, start: [String]? = nil, pgRewind: String? = nil,
        runAs: String? = nil
    ) {
        let debian = Self.debianDefaults()
        self.access = access
        self.dataDirectory = dataDirectory
        self.stop = stop ?? debian.stop
        self.start = start ?? debian.start
        self.pgRewind = pgRewind ?? debian.pgRewind
        self.runAs = runAs
    }

    private init(debian version: Int, cluster: String) {
        access = .local
        dataDirectory = "/var/lib/postgresql/\(version)/\(cluster)"
        stop = ["pg_ctlcluster", String(version), cluster, "stop", "-m", "fast"]
        start = ["pg_ctlcluster", String(version), cluster, "start"]
        pgRewind = "/usr/lib/postgresql/\(version)/bin/pg_rewind"
        runAs = nil
    }

    /// The ssh target when the host is reached over ssh; nil when it is local.
    public var sshTarget: SSHTarget? {
        guard case .ssh(let target) = access else { return nil }
        return target
    }

    /// A local host with the layout of Debian's `postgresql-common`: data in
    /// `/var/lib/postgresql/VERSION/CLUSTER`, stopped (fast) and started with
    /// `pg_ctlcluster`, `pg_rewind` in `/usr/lib/postgresql/VERSION/bin`. Set `access`
    /// to reach it over ssh.
    public static func debianDefaults(version: Int = 15, cluster: String = "main") -> DatabaseHost {
        DatabaseHost(debian: version, cluster: cluster)
    }
}
