import Actions
import FailoverCore
import FailoverTesting
import Foundation
import PGWire
import Testing

/// One attempt of a postgres `kind` step of a failover from `from` to `to`; `peer` is the
/// other server's postgres action (the old primary for promote, the new one for rejoin).
private func step(
    _ options: PostgresOptions, _ kind: StepKind, from: String, to: String, run: RunKind = .failover,
    peer: PostgresOptions?, timeout: Duration = .seconds(30)
) -> ActionRequest {
    let context = RunContext(group: "web", incident: "web-1", kind: run, from: from, to: to, epoch: 1)
    var resolved = Fixture.step(kind, site: kind.actsOnOldPrimary ? from : to, action: .plugin(.postgres(options)), timeout: timeout)
    resolved.peer = peer.map { .postgres($0) }
    return ActionRequest(context: context, step: resolved, timeout: timeout)
}

private let plugin = PostgresAction(catchUp: .milliseconds(300))

/// `rejoin` against a real PostgreSQL 15 primary and replica, over a real sshd on
/// loopback and locally; every test asserts on the rows a client wrote.
@Suite(.serialized) struct PostgresRejoinTests {
    @Test func aCrashedPrimaryRejoinsThroughPgRewindOverSSHAndTheDrillBackLosesNoAcknowledgedWrite() async throws {
        let cluster = try await PostgresCluster.start()
        let ssh = try await SSHServer.start()
        let (east, west) = (cluster.primary, cluster.replica)
        try east.psql("CREATE TABLE acked (id int PRIMARY KEY); CREATE TABLE diverged (id int)")
        try await Blocking.run {
            try west.waitUntil("the tables", timeout: .seconds(10)) { try $0.psql("SELECT count(*) FROM acked") == "0" }
            // west stops receiving; east writes what west will never see, then dies.
            try west.psql("ALTER SYSTEM SET primary_conninfo = ''")
            try west.psql("SELECT pg_reload_conf()")
            try west.waitUntil("no WAL receiver", timeout: .seconds(10)) { try $0.psql("SELECT count(*) FROM pg_stat_wal_receiver") == "0" }
            try east.psql("INSERT INTO diverged SELECT generate_series(1, 1000)")
            east.killNine()
        }
        var eastOptions = PostgresOptions(dsn: east.dsn)
        eastOptions.host = east.host(.ssh(ssh.databaseHost().sshTarget!))
        var westOptions = PostgresOptions(dsn: west.dsn)
        westOptions.host = west.host(.local)
        let promoted = try await plugin.perform(step(westOptions, .promote, from: "east", to: "west", peer: eastOptions))
        #expect(promoted.changed.first?.contains("promoted") == true)
        let (rejoined, took) = try await PluginFixture.timed("rejoin east over ssh") {
            do {
                return try await plugin.perform(step(eastOptions, .rejoin, from: "east", to: "west", peer: westOptions))
            } catch {
                let log = (try? String(contentsOfFile: east.dataDirectory + ".restarted.log", encoding: .utf8)) ?? "no log"
                let auto = (try? String(contentsOfFile: east.dataDirectory + "/postgresql.auto.conf", encoding: .utf8)) ?? ""
                Issue.record("rejoin failed: \(error)\nrestarted log:\n\(log.suffix(3_000))\nauto.conf:\n\(auto)")
                throw error
            }
        }
        #expect(rejoined.changed.contains { $0.contains("rewound east from west with pg_rewind") }, "\(rejoined.changed)")
        #expect(rejoined.changed.last?.contains("east streams from west as a replica on timeline 2") == true)
        #expect(took < .seconds(30))
        #expect(try east.psql("SELECT pg_is_in_recovery()") == "t")
        #expect(try west.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1")
        #expect(try east.psql("SELECT count(*) FROM diverged") == "0", "east's diverged writes were rewound away")
        let again = try await plugin.perform(step(eastOptions, .rejoin, from: "east", to: "west", peer: westOptions))
        #expect(again.changed == ["east is already a streaming replica of west on timeline 2"])

        // The drill back to east, with a client writing through whichever server accepts.
        let writer = AckedWriter(dsns: [east.dsn, west.dsn])
        writer.start()
        try await writer.waitForMore(10)
        _ = try await plugin.perform(step(westOptions, .fence, from: "west", to: "east", run: .drill, peer: nil))
        let back = try await plugin.perform(step(eastOptions, .promote, from: "west", to: "east", run: .drill, peer: westOptions))
        try await writer.waitForMore(10)
        let acks = await writer.stop()
        #expect(back.lag?.bytes == 0 && back.changed.first?.contains("RPO 0 B") == true, "\(back.changed)")
        let rows = Set(try east.psql("SELECT id FROM acked").split(separator: "\n").compactMap { Int($0) })
        #expect(acks.map(\.id).filter { !rows.contains($0) }.isEmpty, "every acknowledged write is on east")
        #expect(acks.contains { $0.server == 1 } && acks.contains { $0.server == 0 })
        // And west, fenced over SQL, rejoins east locally (no rewind needed or a rewind).
        let local = try await plugin.perform(step(westOptions, .rejoin, from: "west", to: "east", peer: eastOptions))
        #expect(local.changed.last?.contains("west streams from east as a replica on timeline 3") == true, "\(local.changed)")
        #expect(try east.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1")
        _ = ssh
    }

    @Test func aRejoinThatCannotRewindSaysWhyAndLeavesTheServerStopped() async throws {
        let cluster = try await PostgresCluster.start(walLogHints: false)
        let (east, west) = (cluster.primary, cluster.replica)
        var eastOptions = PostgresOptions(dsn: east.dsn)
        eastOptions.host = east.host(.local)
        let westOptions = PostgresOptions(dsn: west.dsn)
        _ = try await plugin.perform(step(eastOptions, .fence, from: "east", to: "west", run: .drill, peer: nil))
        _ = try await plugin.perform(step(westOptions, .promote, from: "east", to: "west", run: .drill, peer: eastOptions))
        try west.psql("CREATE TABLE after (id int)")
        let error = await #expect(throws: ActionError.self) {
            try await plugin.perform(step(eastOptions, .rejoin, from: "east", to: "west", peer: westOptions))
        }
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("pg_rewind needs wal_log_hints = on or data checksums") == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("stays stopped") == true)
        await #expect(throws: PGError.self, "east must not come back as a second writable primary") {
            try await PGClient.run(dsn: east.dsn, timeout: .seconds(2)) { try $0.value("SELECT 1") }
        }
    }

    @Test func anSSHHostThatRefusesTheKeyFailsAtOnceAndAnUnreachableOneWithinTheBound() async throws {
        let cluster = try await PostgresCluster.start()
        let ssh = try await SSHServer.start()
        let wrongKey = try await ssh.makeUnauthorizedKey()
        var eastOptions = PostgresOptions(dsn: cluster.primary.dsn)
        eastOptions.host = cluster.primary.host(.ssh(ssh.databaseHost(identityFile: wrongKey).sshTarget!))
        eastOptions.mode = .stop
        let (refused, took) = try await PluginFixture.timed("ssh refused key") {
            await #expect(throws: ActionError.self) {
                try await plugin.perform(step(eastOptions, .fence, from: "east", to: "west", peer: nil))
            }
        }
        #expect(refused?.isRetryable == false && took < .seconds(3), "\(refused?.description ?? "") in \(took)")
        #expect(refused?.description.contains("refused the key") == true, "\(refused?.description ?? "")")
        let key = try String(contentsOfFile: wrongKey, encoding: .utf8)
        let body = key.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        #expect(!(refused?.description.contains(body.prefix(20)) ?? true), "no key material")
        let silent = try HangingServer()
        defer { silent.close() }
        var target = ssh.databaseHost(connectTimeout: .seconds(30)).sshTarget!
        target.port = silent.port
        eastOptions.host = cluster.primary.host(.ssh(target))
        let clock = ContinuousClock()
        let start = clock.now
        let hung = await #expect(throws: ActionError.self) {
            try await plugin.perform(step(eastOptions, .fence, from: "east", to: "west", peer: nil, timeout: .seconds(2)))
        }
        #expect(hung?.isRetryable == true)
        #expect(start.duration(to: clock.now) < .seconds(3), "bounded by the step's 2 s")
        #expect(try cluster.primary.psql("SELECT 1") == "1", "nothing was stopped")
    }
}


/// `mode: stop`: the fence stops the old primary on its host; the drill's promotion reads
/// its final position from its control file.
@Suite(.serialized) struct PostgresStopFenceTests {
    @Test func aStoppingFenceLocksEveryoneOutAndTheDrillLosesNoAcknowledgedWrite() async throws {
        let cluster = try await PostgresCluster.start()
        let (east, west) = (cluster.primary, cluster.replica)
        try east.psql("CREATE ROLE app LOGIN; CREATE TABLE acked (id int PRIMARY KEY); GRANT INSERT ON acked TO app")
        var eastOptions = PostgresOptions(dsn: east.dsn, mode: .stop)
        eastOptions.host = east.host(.local)
        let westOptions = PostgresOptions(dsn: west.dsn)
        let writer = AckedWriter(dsns: [east.dsn, west.dsn])
        writer.start()
        try await writer.waitForMore(10)
        let fence = try await plugin.perform(step(eastOptions, .fence, from: "east", to: "west", run: .drill, peer: nil))
        #expect(fence.changed == ["stopped east's server (pg_ctl)"])
        let app = "postgres://app@127.0.0.1:\(east.port)/postgres"
        await #expect(throws: PGError.self, "no client, application or superuser, reaches a stopped server") {
            try await PGClient.run(dsn: app, timeout: .seconds(2)) {
                try $0.rows("SET default_transaction_read_only = off; INSERT INTO acked VALUES (-1)")
            }
        }
        let promote = try await plugin.perform(step(westOptions, .promote, from: "east", to: "west", run: .drill, peer: eastOptions))
        try await writer.waitForMore(10)
        let acks = await writer.stop()
        #expect(promote.lag?.bytes == 0 && promote.lag?.seconds == 0, "\(promote.changed)")
        let rows = Set(try west.psql("SELECT id FROM acked").split(separator: "\n").compactMap { Int($0) })
        #expect(acks.map(\.id).filter { !rows.contains($0) }.isEmpty, "every acknowledged write is on west")
        #expect(acks.contains { $0.server == 0 } && acks.contains { $0.server == 1 })
        let rejoin = try await plugin.perform(step(eastOptions, .rejoin, from: "east", to: "west", peer: westOptions))
        #expect(rejoin.changed.first == "east's server was already stopped", "\(rejoin.changed)")
        #expect(try east.psql("SELECT pg_is_in_recovery()") == "t")
    }
}
