import FailoverCore
import FailoverTesting
import Foundation
import Probes
import Testing

/// Probes `check` once through the production prober.
private func probe(_ check: PostgresCheck, timeout: Duration = .seconds(5)) async -> ProbeResult {
    await CheckProber().probe(
        CheckConfig(name: "db", kind: .postgres(check)), timeout: timeout, at: Timestamp(milliseconds: 0))
}

/// `postgres` checks against a real PostgreSQL 15 primary and streaming replica.
@Suite(.serialized) struct PostgresProbeTests {
    @Test func reportsRoleAndLagOfThePrimaryAndTheReplica() async throws {
        let cluster = try await PostgresCluster.start()
        let primary = await probe(PostgresCheck(dsn: cluster.primary.dsn))
        #expect(primary.diagnosis == .ok, "\(primary.error ?? "")")
        #expect(primary.kind == "postgres" && primary.role == "primary")
        #expect(primary.lagBytes == 0 && primary.lagSeconds == 0)
        let replica = await probe(PostgresCheck(dsn: cluster.replica.dsn))
        #expect(replica.diagnosis == .ok, "\(replica.error ?? "")")
        #expect(replica.role == "replica")
        #expect((replica.lagBytes ?? -1) >= 0 && (replica.lagSeconds ?? -1) >= 0)
        let json = String(decoding: try JSONEncoder().encode(replica), as: UTF8.self)
        #expect(json.contains("\"role\":\"replica\"") && json.contains("\"lag_bytes\""))
        #expect(try JSONDecoder().decode(ProbeResult.self, from: Data(json.utf8)) == replica)
    }

    @Test func aLaggingReplicaFailsAboveMaxLag() async throws {
        let cluster = try await PostgresCluster.start()
        try cluster.replica.psql("SELECT pg_wal_replay_pause()")
        try cluster.primary.psql("CREATE TABLE filler AS SELECT generate_series(1, 20000) AS id")
        try cluster.replica.waitUntil("lag", timeout: .seconds(10)) {
            Int(try $0.psql("SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())")) ?? 0 > 0
        }
        let lagging = await probe(PostgresCheck(dsn: cluster.replica.dsn, maxLag: 1))
        #expect(lagging.outcome == .fail && (lagging.lagBytes ?? 0) > 1)
        #expect(lagging.error?.contains("max_lag") == true)
    }

    @Test func unreachableAndBadCredentialsFailWithoutThePassword() async throws {
        let closed = await probe(PostgresCheck(dsn: "postgres://postgres@127.0.0.1:\(try FreePort.tcp())/postgres"))
        #expect(closed.diagnosis == .refused, "\(closed.error ?? "")")
        let cluster = try await PostgresCluster.start()
        let wrong = "Wrong-Pa55-Never-Shown"
        let denied = await probe(PostgresCheck(dsn: cluster.passwordDSN(cluster.primary, password: wrong)))
        #expect(denied.outcome == .fail)
        #expect(denied.error?.contains("authentication failed") == true)
        #expect(denied.error?.contains(wrong) == false)
        let check = CheckKind.postgres(PostgresCheck(dsn: cluster.passwordDSN(cluster.primary, password: wrong)))
        #expect(!check.redactedTarget.contains(wrong) && check.label == "postgres")
    }
}
