import Actions
import FailoverCore
import FailoverTesting
import Foundation
import PGWire
import Testing

/// One attempt of a postgres `kind` step with `options` (east: the failed primary for
/// fence, the target for promote); `old` is the old primary's postgres action.
private func request(
    _ options: PostgresOptions, _ kind: StepKind, run: RunKind = .failover, force: Bool = false,
    timeout: Duration = .seconds(20), old: PostgresOptions? = nil
) -> ActionRequest {
    var context = Fixture.context(kind: run)
    context.force = force
    var step = PluginFixture.step(.postgres(options), kind: kind, timeout: timeout)
    step.peer = old.map { .postgres($0) }
    return ActionRequest(context: context, step: step, timeout: timeout)
}

/// The plugin with a short catch-up bound for unplanned promotions.
private let plugin = PostgresAction(catchUp: .milliseconds(300))

/// The postgres plugin against a real PostgreSQL 15 primary and streaming replica.
@Suite(.serialized) struct PostgresActionTests {
    @Test func aPlannedSwitchoverLosesNoAcknowledgedWriteAndOnlyThePromotedReplicaCountsAsAlreadyPrimary()
        async throws
    {
        let cluster = try await PostgresCluster.start()
        try cluster.primary.psql("CREATE TABLE acked (id int PRIMARY KEY)")
        let old = PostgresOptions(dsn: cluster.primary.dsn)
        let new = PostgresOptions(dsn: cluster.replica.dsn)
        let writer = AckedWriter(dsns: [cluster.replica.dsn, cluster.primary.dsn])
        writer.start()
        try await writer.waitForMore(10)
        let fence = try await plugin.perform(request(old, .fence, run: .drill))
        #expect(fence.changed.contains { $0.contains("read-only") })
        let (report, elapsed) = try await PluginFixture.timed("postgres lossless promote") {
            try await plugin.perform(request(new, .promote, run: .drill, old: old))
        }
        try await writer.waitForMore(10)
        let acks = await writer.stop()
        #expect(report.lag?.bytes == 0 && report.lag?.seconds == 0)
        #expect(report.changed.first?.contains("RPO 0 B") == true, "\(report.changed)")
        #expect(elapsed < .seconds(2), "no waiting on status messages or timers")
        let rows = Set(try cluster.replica.psql("SELECT id FROM acked").split(separator: "\n").compactMap { Int($0) })
        let lost = acks.map(\.id).filter { !rows.contains($0) }
        #expect(lost.isEmpty, "acknowledged but lost: \(lost)")
        #expect(acks.contains { $0.server == 0 } && acks.contains { $0.server == 1 }, "both servers acknowledged writes")
        // A re-run of the same promotion is success; the old primary is no promoted replica.
        let again = try await plugin.perform(request(new, .promote, run: .drill, old: old))
        #expect(again.changed.first?.contains("already primary on timeline 2, promoted from east's timeline 1") == true)
        let back = await #expect(throws: ActionError.self) {
            try await plugin.perform(request(old, .promote, run: .drill, old: new))
        }
        #expect(back?.isRetryable == false)
        #expect(back?.description.contains("rejoin it as a replica") == true, "\(back?.description ?? "")")
        #expect(try cluster.primary.psql("SHOW default_transaction_read_only") == "on", "east stays fenced")
    }

    @Test func aStandalonePrimaryOrAStrangeSystemIsNeverPromoted() async throws {
        let cluster = try await PostgresCluster.start()
        let other = try await PostgresCluster.start()
        let old = PostgresOptions(dsn: cluster.primary.dsn)
        _ = try await plugin.perform(request(old, .fence))
        for (node, words) in [(other.primary, "not a replica of east's"), (other.replica, "not a replica of east's")] {
            let refused = await #expect(throws: ActionError.self) {
                try await plugin.perform(request(PostgresOptions(dsn: node.dsn), .promote, old: old))
            }
            #expect(refused?.isRetryable == false)
            #expect(refused?.description.contains(words) == true, "\(refused?.description ?? "")")
        }
        #expect(try other.replica.psql("SELECT pg_is_in_recovery()") == "t")
    }

    @Test func fenceRolesLockApplicationsOutAndThePromotionLetsThemIn() async throws {
        let cluster = try await PostgresCluster.start()
        try cluster.primary.psql("CREATE ROLE app LOGIN; CREATE TABLE acked (id int); GRANT INSERT ON acked TO app")
        let appDSN = { (node: PostgresNode) in "postgres://app@127.0.0.1:\(node.port)/postgres" }
        let old = PostgresOptions(dsn: cluster.primary.dsn, fenceRoles: ["app"])
        let fence = try await plugin.perform(request(old, .fence))
        #expect(fence.changed.contains("revoked LOGIN from role app"))
        let undone = await #expect(throws: PGError.self) {
            try await PGClient.run(dsn: appDSN(cluster.primary), timeout: .seconds(5)) {
                try $0.rows("SET default_transaction_read_only = off; BEGIN READ WRITE; INSERT INTO acked VALUES (1); COMMIT")
            }
        }
        #expect(undone?.description.contains("not permitted to log in") == true, "\(undone?.description ?? "")")
        let again = try await plugin.perform(request(old, .fence))
        #expect(!again.changed.contains { $0.contains("revoked") }, "idempotent")
        let promote = try await plugin.perform(request(PostgresOptions(dsn: cluster.replica.dsn), .promote, old: old))
        #expect(promote.changed.contains("restored LOGIN of role app"))
        _ = try await PGClient.run(dsn: appDSN(cluster.replica), timeout: .seconds(5)) {
            try $0.rows("INSERT INTO acked VALUES (2)")
        }
        #expect(try cluster.replica.psql("SELECT count(*) FROM acked") == "1")
        #expect(try cluster.primary.psql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app'") == "f")
    }

    @Test func fenceOfAnUnreachableServerIsRetryableWithinTheBound() async throws {
        let closed = PostgresOptions(dsn: "postgres://postgres@127.0.0.1:\(try FreePort.tcp())/postgres")
        let refused = await #expect(throws: ActionError.self) {
            try await PostgresAction().perform(request(closed, .fence, timeout: .seconds(2)))
        }
        #expect(refused?.isRetryable == true)
        let silent = try HangingServer()
        defer { silent.close() }
        let hanging = PostgresOptions(dsn: "host=127.0.0.1 port=\(silent.port) user=postgres sslmode=disable")
        let clock = ContinuousClock()
        let start = clock.now
        let timedOut = await #expect(throws: ActionError.self) {
            try await PostgresAction().perform(request(hanging, .fence, timeout: .milliseconds(800)))
        }
        let elapsed = start.duration(to: clock.now)
        #expect(timedOut?.isTimeout == true && timedOut?.isRetryable == true)
        #expect(elapsed >= .milliseconds(700) && elapsed < .milliseconds(1_500), "took \(elapsed)")
    }

    @Test func aBadPasswordIsPermanentAndNeverQuoted() async throws {
        let cluster = try await PostgresCluster.start()
        let wrong = "Wrong-Pa55-Never-Shown"
        let options = PostgresOptions(dsn: cluster.passwordDSN(cluster.replica, password: wrong))
        let error = await #expect(throws: ActionError.self) {
            try await plugin.perform(request(options, .promote))
        }
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("credentials") == true)
        #expect(error?.description.contains(wrong) == false)
        #expect(ActionSpec.postgres(options).summary.contains(wrong) == false)
        let right = PostgresOptions(dsn: cluster.passwordDSN(cluster.replica, password: PostgresCluster.password))
        let report = try await plugin.perform(request(right, .promote))
        #expect(report.changed.joined().contains(PostgresCluster.password) == false)
    }

    @Test func aDrillNeedsTheOldPrimaryAndAnUnplannedFailoverGoesWithoutIt() async throws {
        let cluster = try await PostgresCluster.start()
        let old = PostgresOptions(dsn: cluster.primary.dsn)
        let options = PostgresOptions(dsn: cluster.replica.dsn)
        let writable = await #expect(throws: ActionError.self) {
            try await plugin.perform(request(options, .promote, run: .drill, old: old))
        }
        #expect(writable?.isRetryable == true && writable?.description.contains("still takes writes") == true)
        cluster.primary.crash()
        let error = await #expect(throws: ActionError.self) {
            try await plugin.perform(request(options, .promote, run: .drill, timeout: .seconds(2), old: old))
        }
        #expect(error?.isRetryable == true, "the replica cannot prove it has everything")
        #expect(error?.description.contains("answers") == true, "\(error?.description ?? "")")
        #expect(try cluster.replica.psql("SELECT pg_is_in_recovery()") == "t", "not promoted")
        // An unplanned failover does promote it: the primary is gone; unseen, the RPO is unknown.
        let report = try await plugin.perform(request(options, .promote, old: old))
        #expect(report.changed.first?.contains("promoted") == true)
        #expect(report.changed.first?.contains("RPO not measured") == true, "\(report.changed)")
    }

    @Test func theRPOIsDataAtRiskNotReplayDelayAndMaxLagJudgesIt() async throws {
        let cluster = try await lagging()
        let old = PostgresOptions(dsn: cluster.primary.dsn)
        _ = try await plugin.perform(request(old, .fence))
        let limited = PostgresOptions(dsn: cluster.replica.dsn, maxLag: 1)
        // Replay is paused but everything was received: nothing is at risk.
        let report = try await plugin.perform(request(limited, .promote, old: old))
        #expect(report.lag?.bytes == 0, "\(report.changed)")
        #expect(report.changed.first?.contains("replayed") == true, "replay delay shown apart: \(report.changed)")
        #expect(try cluster.replica.psql("SELECT count(*) FROM filler") == "20000")
    }

    @Test func theOldPrimarysLastSeenPositionBoundsTheRPOAndMaxLagRefusesAboveIt() async throws {
        let cluster = try await PostgresCluster.start()
        let old = PostgresOptions(dsn: cluster.primary.dsn)
        let seen = try await PGClient.run(dsn: cluster.primary.dsn, timeout: .seconds(5)) { try $0.serverState() }
        cluster.primary.crash()
        var ahead = seen.observation
        ahead.position = WALPosition((seen.observation.position?.offset ?? 0) + 1_000_000)
        let wall = ManualWallClock()
        let seenAt = wall.now()
        wall.advance(by: .milliseconds(2_500))
        let reading = ahead
        let withHistory = PostgresAction(catchUp: .milliseconds(300), lastSeen: { _ in (reading, seenAt) }, wallClock: wall)
        let limited = PostgresOptions(dsn: cluster.replica.dsn, maxLag: 1_000)
        let refused = await #expect(throws: ActionError.self) {
            try await withHistory.perform(request(limited, .promote, old: old))
        }
        #expect(refused?.isRetryable == false && refused?.description.contains("max_lag") == true)
        let report = try await withHistory.perform(request(limited, .promote, force: true, old: old))
        #expect((report.lag?.bytes ?? 0) >= 1_000_000 && report.lag?.seconds == 2.5, "\(report.changed)")
        #expect(report.changed.first?.contains("forced above max_lag") == true)
        #expect(report.changed.first?.contains("seen 2.5 s before") == true, "\(report.changed)")
        #expect(try cluster.replica.psql("SELECT pg_is_in_recovery()") == "f")
    }

    /// A cluster whose replica has received WAL it has not replayed (replay paused).
    private func lagging() async throws -> PostgresCluster {
        let cluster = try await PostgresCluster.start()
        try await Blocking.run {
            try cluster.replica.psql("SELECT pg_wal_replay_pause()")
            try cluster.primary.psql("CREATE TABLE filler AS SELECT generate_series(1, 20000) AS id")
            try cluster.replica.waitUntil("lag", timeout: .seconds(10)) {
                Int(try $0.psql("SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())")) ?? 0 > 0
            }
        }
        return cluster
    }
}
