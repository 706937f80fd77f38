import Actions
import FailoverCore
import FailoverTesting
import Foundation
import PGWire
import Testing

/// One attempt of a postgres `kind` step with `options` (east: the failed primary for
/// fence, the target for promote).
private func request(
    _ options: PostgresOptions, _ kind: StepKind, run: RunKind = .failover, force: Bool = false,
    timeout: Duration = .seconds(20)
) -> ActionRequest {
    var context = Fixture.context(kind: run)
    context.force = force
    return ActionRequest(
        context: context, step: PluginFixture.step(.postgres(options), kind: kind, timeout: timeout), timeout: timeout)
}

/// The postgres plugin against a real PostgreSQL 15 primary and streaming replica.
@Suite(.serialized) struct PostgresActionTests {
    @Test func promoteMakesTheReplicaTakeWritesReportsLagAndIsIdempotent() async throws {
        let cluster = try await PostgresCluster.start()
        try cluster.primary.psql("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)")
        try cluster.replica.waitUntil("orders replicated", timeout: .seconds(10)) {
            try $0.psql("SELECT count(*) FROM orders") == "1"
        }
        let options = PostgresOptions(dsn: cluster.replica.dsn)
        let (report, _) = try await PluginFixture.timed("postgres promote") {
            try await PostgresAction().perform(request(options, .promote))
        }
        #expect(report.lag?.bytes != nil && report.lag?.seconds != nil)
        #expect(report.changed.first?.contains("promoted") == true)
        #expect(report.changed.first?.contains("timeline 2") == true)
        #expect(try cluster.replica.psql("SELECT pg_is_in_recovery()") == "f")
        try cluster.replica.psql("INSERT INTO orders VALUES (2)")
        #expect(try cluster.replica.psql("SELECT count(*) FROM orders") == "2")
        let again = try await PostgresAction().perform(request(options, .promote))
        #expect(again.changed.first?.contains("already primary") == true)
        #expect(again.lag == nil)
    }

    @Test func fenceMakesTheOldPrimaryReadOnlyTerminatesSessionsAndIsIdempotent() async throws {
        let cluster = try await PostgresCluster.start()
        let session = Task {
            try await PGClient.run(dsn: cluster.primary.dsn, timeout: .seconds(60)) { try $0.value("SELECT pg_sleep(50)") }
        }
        try await Blocking.run {
            try cluster.primary.waitUntil("the sleeping session", timeout: .seconds(10)) {
                try $0.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(50)%'") == "1"
            }
        }
        let options = PostgresOptions(dsn: cluster.primary.dsn)
        let (report, _) = try await PluginFixture.timed("postgres fence") {
            try await PostgresAction().perform(request(options, .fence))
        }
        #expect(report.changed.contains { $0.contains("read-only (default_transaction_read_only = on") })
        #expect(report.changed.contains("terminated 1 client session"))
        await #expect(throws: PGError.self) { try await session.value }
        #expect(throws: HarnessError.self) { try cluster.primary.psql("CREATE TABLE fenced (id int)") }
        let again = try await PostgresAction().perform(request(options, .fence))
        #expect(again.changed.contains { $0.contains("was already read-only") })
        #expect(again.changed.contains("terminated 0 client sessions"))
    }

    @Test func promotingAFencedPrimaryLiftsTheFence() async throws {
        let cluster = try await PostgresCluster.start()
        let options = PostgresOptions(dsn: cluster.primary.dsn)
        _ = try await PostgresAction().perform(request(options, .fence))
        #expect(throws: HarnessError.self) { try cluster.primary.psql("CREATE TABLE fenced (id int)") }
        let report = try await PostgresAction().perform(request(options, .promote, run: .drill))
        #expect(report.changed.contains { $0.contains("already primary") })
        #expect(report.changed.contains { $0.contains("reset the read-only fence") })
        try cluster.primary.psql("CREATE TABLE writable (id int)")
        let again = try await PostgresAction().perform(request(options, .promote))
        #expect(!again.changed.contains { $0.contains("reset") })
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
            try await PostgresAction().perform(request(options, .promote))
        }
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("credentials") == true)
        #expect(error?.description.contains(wrong) == false)
        #expect(ActionSpec.postgres(options).summary.contains(wrong) == false)
        let right = PostgresOptions(dsn: cluster.passwordDSN(cluster.replica, password: PostgresCluster.password))
        let report = try await PostgresAction().perform(request(right, .promote))
        #expect(report.changed.joined().contains(PostgresCluster.password) == false)
    }

    @Test func aDrillDoesNotPromoteAReplicaCutOffFromItsPrimary() async throws {
        let cluster = try await PostgresCluster.start()
        cluster.primary.crash()
        let options = PostgresOptions(dsn: cluster.replica.dsn)
        let error = await #expect(throws: ActionError.self) {
            try await PostgresAction().perform(request(options, .promote, run: .drill, timeout: .seconds(2)))
        }
        #expect(error?.isRetryable == true, "a timeout: the replica cannot prove it has everything")
        #expect(try cluster.replica.psql("SELECT pg_is_in_recovery()") == "t", "not promoted")
        // An unplanned failover does promote it: the primary is gone, its lag is the RPO.
        let report = try await PostgresAction().perform(request(options, .promote))
        #expect(report.changed.contains { $0.contains("promoted") })
    }

    @Test func maxLagRefusesAndADrillWaitsForZeroLag() async throws {
        let cluster = try await lagging()
        let limited = PostgresOptions(dsn: cluster.replica.dsn, maxLag: 1)
        let refused = await #expect(throws: ActionError.self) {
            try await PostgresAction().perform(request(limited, .promote))
        }
        #expect(refused?.isRetryable == false && refused?.description.contains("max_lag") == true)
        let drill = Task { try await PostgresAction().perform(request(limited, .promote, run: .drill)) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try cluster.replica.psql("SELECT pg_is_in_recovery()") == "t", "a drill must wait for zero lag")
        try cluster.replica.psql("SELECT pg_wal_replay_resume()")
        let report = try await drill.value
        #expect(report.lag?.bytes == 0)
        #expect(try cluster.replica.psql("SELECT count(*) FROM filler") == "20000")
    }

    @Test func aForcedPromotionGoesAboveMaxLagAndSaysSo() async throws {
        let cluster = try await lagging()
        let limited = PostgresOptions(dsn: cluster.replica.dsn, maxLag: 1)
        let report = try await PostgresAction().perform(request(limited, .promote, force: true))
        #expect((report.lag?.bytes ?? 0) > 1)
        #expect(report.changed.first?.contains("forced above max_lag") == true)
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
