import Coordination
import EventLog
import FailoverCore
import FailoverTesting
import Foundation
import XCTest

/// The etcd coordinator against a real 3-member etcd cluster: votes under leases, one
/// leader, guarded group changes, endpoint failover and the event exchange.
final class EtcdCoordinatorTests: XCTestCase {
    nonisolated(unsafe) static var shared: EtcdCluster?

    override class func tearDown() {
        shared?.stop()
        shared = nil
    }

    func cluster() throws -> EtcdCluster {
        if let cluster = Self.shared { return cluster }
        let cluster = try EtcdCluster()
        Self.shared = cluster
        return cluster
    }

    func config(_ cluster: EtcdCluster, prefix: String, endpoints: [String]? = nil, ttl: Int = 2) -> EtcdConfig {
        EtcdConfig(
            members: ["a", "b", "c"], endpoints: endpoints ?? cluster.endpoints, prefix: prefix, leaseTTL: .seconds(ttl),
            timeout: .milliseconds(500), poll: .milliseconds(100))
    }

    static func prefix() -> String { "/fo-unit-\(UUID().uuidString.prefix(8))" }

    func testOnlyOneLeaderAndOnlyItsGuardedChangesAreWritten() async throws {
        let cluster = try cluster()
        let prefix = Self.prefix()
        let a = EtcdCoordinator(id: "a", config: config(cluster, prefix: prefix))
        let b = EtcdCoordinator(id: "b", config: config(cluster, prefix: prefix))
        // One member alive is not a quorum of 2: nobody leads.
        let alone = await a.refresh()
        XCTAssertFalse(alone.quorate)
        XCTAssertNil(alone.leader)
        XCTAssertEqual(alone.problem, "only 1 of 3 members are alive (2 needed)")
        _ = await b.refresh()
        let first = await a.refresh()
        let second = await b.refresh()
        XCTAssertTrue(first.quorate && second.quorate)
        XCTAssertNotNil(first.leader)
        XCTAssertEqual(first.leader, second.leader, "one leader seen by both")
        let (leader, follower) = first.isLeader ? (a, b) : (b, a)
        XCTAssertTrue(first.isLeader != second.isLeader)

        var state = GroupState(primary: "west")
        state.epoch = 1
        await XCTAssertThrowsLedger(try await follower.commitGroup("web", state: state, incidents: [], expected: 0)) {
            if case .notLeader = $0 { return true } else { return false }
        }
        let revision = try await leader.commitGroup("web", state: state, incidents: [], expected: 0)
        XCTAssertGreaterThan(revision, 0)
        // A write whose answer was lost and that is sent again (to another endpoint) finds its
        // own state stored: that is success, at the stored revision.
        let again = try await leader.commitGroup("web", state: state, incidents: [], expected: 0)
        XCTAssertEqual(again, revision)
        // A change from a stale read is refused and returns the current state.
        var other = state
        other.epoch = 2
        await XCTAssertThrowsLedger(try await leader.commitGroup("web", state: other, incidents: [], expected: revision - 1)) {
            if case .stale(let entry) = $0 { return entry?.revision == revision && entry?.state.primary == "west" } else { return false }
        }
        // Every coordination round's view carries the stored states, read in its transaction.
        let seen = await follower.refresh()
        XCTAssertEqual(seen.groups?["web"], LedgerEntry(state: state, revision: revision))
        XCTAssertNil(seen.term, "the follower holds no leadership term")

        // The leader leaves: its lease, membership and leadership go; one member is no quorum.
        await leader.leave()
        let after = await follower.refresh()
        XCTAssertFalse(after.quorate, "1 of 3 alive after the leader left")
        XCTAssertNil(after.leader)
        await follower.leave()
    }

    /// etcd itself refuses a change from a controller that still believes it leads (its last
    /// view says so) once the leader key is no longer its own; the new leader's term (the
    /// key's creation revision) is greater.
    func testEtcdRefusesAChangeFromALeaderWhoseKeyIsGone() async throws {
        let cluster = try cluster()
        let prefix = Self.prefix()
        let a = EtcdCoordinator(id: "a", config: config(cluster, prefix: prefix))
        let b = EtcdCoordinator(id: "b", config: config(cluster, prefix: prefix))
        _ = await a.refresh()
        _ = await b.refresh()
        let view = await a.refresh()
        XCTAssertTrue(view.quorate, view.problem ?? "")
        let (leader, other, otherID) = view.isLeader ? (a, b, "b") : (b, a, "a")
        let leaderView = await leader.refresh()
        let firstTerm = try XCTUnwrap(leaderView.term, "the leader's view names its term")
        // The leader key disappears behind the leader's back (deleted by hand, here), and the
        // other controller takes it.
        try Self.etcdctl(cluster, ["del", "\(prefix)/leader"])
        let otherView = await other.refresh()
        XCTAssertEqual(otherView.leader, otherID)
        XCTAssertGreaterThan(try XCTUnwrap(otherView.term), firstTerm, "a new leader key, a greater term")
        await XCTAssertThrowsLedger(try await leader.commitGroup("web", state: GroupState(primary: "east"), incidents: [], expected: 0)) {
            if case .notLeader(let current) = $0 { return current == otherID } else { return false }
        }
        for x in [a, b] { await x.leave() }
    }

    /// A watch tells a controller of another's vote at once: called when the watch is
    /// created, then for the vote; a cancelled watch ends.
    func testAWatchSeesAnotherControllersVote() async throws {
        let cluster = try cluster()
        let prefix = Self.prefix()
        let a = EtcdCoordinator(id: "a", config: config(cluster, prefix: prefix))
        let b = EtcdCoordinator(id: "b", config: config(cluster, prefix: prefix))
        for x in [a, b] { _ = await x.refresh() }
        let (calls, sink) = AsyncStream.makeStream(of: Void.self)
        let watch = Task { await a.watchChanges { sink.yield() } }
        var events = calls.makeAsyncIterator()
        _ = await events.next()  // created
        let sent = ContinuousClock.now
        try await b.publish([Vote(controller: "b", site: "east", verdict: .down, since: Timestamp(milliseconds: 1))])
        _ = await events.next()
        let seen = ContinuousClock.now - sent
        XCTAssertLessThan(seen, .seconds(1), "the vote reached the watch after \(seen)")
        let view = await a.refresh()
        XCTAssertEqual(view.verdict(for: "east").votes["b"], .down)
        watch.cancel()
        let ended = await watch.value
        XCTAssertNotNil(ended, "a cancelled watch returns why it ended")
        for x in [a, b] { await x.leave() }
    }

    /// Runs `etcdctl` (API v3) against the cluster.
    static func etcdctl(_ cluster: EtcdCluster, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/etcdctl")
        p.arguments = ["--endpoints", cluster.endpoints.joined(separator: ",")] + args
        p.environment = ["ETCDCTL_API": "3"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "etcdctl \(args)")
    }

    /// A member that answers 503 "no leader" and one that does not answer at all are
    /// skipped within the timeout; a join whose announcement fails is undone and tried again.
    func testUnavailableAndSilentEndpointsAreSkippedAndAFailedJoinIsRetried() async throws {
        let cluster = try cluster()
        let unavailable = try ContractServer { _ in
            ContractServer.Reply(503, #"{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}"#)
        }
        defer { unavailable.close() }
        let silent = try ContractServer { _ in ContractServer.Reply(200, "{}") }
        defer { silent.close() }
        silent.inject(Array(repeating: .slow(.seconds(5)), count: 20))
        let endpoints = ["http://127.0.0.1:\(unavailable.port)", "http://127.0.0.1:\(silent.port)"] + cluster.endpoints
        let a = EtcdCoordinator(id: "a", config: config(cluster, prefix: Self.prefix(), endpoints: endpoints, ttl: 3))
        let start = ContinuousClock.now
        let view = await a.refresh()
        XCTAssertEqual(view.memberStates?.first { $0.id == "a" }?.alive, true, view.problem ?? "")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2), "one 500 ms timeout, then the live member")
        XCTAssertFalse(unavailable.requests.isEmpty, "the 503 member was asked first")
        // The next calls go straight to the member that answered.
        let asked = unavailable.requests.count
        _ = await a.refresh()
        XCTAssertEqual(unavailable.requests.count, asked)
        await a.leave()

        // A lease granted, then the announcement refused: the lease is revoked and the next
        // round joins again, instead of living on unannounced.
        let flaky = try ContractServer { request in
            switch request.path {
            case "/v3/lease/grant": ContractServer.Reply(200, #"{"ID":"7","TTL":"3"}"#)
            case "/v3/lease/revoke": ContractServer.Reply(200, "{}")
            default: ContractServer.Reply(503, #"{"error":"etcdserver: request timed out","code":14}"#)
            }
        }
        defer { flaky.close() }
        let b = EtcdCoordinator(id: "b", config: config(cluster, prefix: Self.prefix(), endpoints: ["http://127.0.0.1:\(flaky.port)"]))
        for _ in 0..<2 {
            let failed = await b.refresh()
            XCTAssertFalse(failed.quorate)
        }
        let paths = flaky.requests.map(\.path)
        XCTAssertEqual(paths.filter { $0 == "/v3/lease/grant" }.count, 2, "\(paths)")
        XCTAssertEqual(paths.filter { $0 == "/v3/lease/revoke" }.count, 2, "\(paths)")
    }

    func testVotesExpireWithTheirControllersLease() async throws {
        let cluster = try cluster()
        let prefix = Self.prefix()
        let a = EtcdCoordinator(id: "a", config: config(cluster, prefix: prefix))
        let b = EtcdCoordinator(id: "b", config: config(cluster, prefix: prefix))
        let c = EtcdCoordinator(id: "c", config: config(cluster, prefix: prefix))
        for x in [a, b, c] { _ = await x.refresh() }
        let at = Timestamp(milliseconds: 1_767_225_600_000)
        try await a.publish([Vote(controller: "a", site: "east", verdict: .down, since: at)])
        try await b.publish([Vote(controller: "b", site: "east", verdict: .down, since: at)])
        try await c.publish([Vote(controller: "c", site: "east", verdict: .up, since: at)])
        let view = await a.refresh()
        XCTAssertEqual(view.verdict(for: "east").verdict, .down)
        XCTAssertEqual(view.verdict(for: "east").votes, ["a": .down, "b": .down, "c": .up])
        XCTAssertEqual(view.memberStates?.map(\.alive), [true, true, true])
        // b goes silent (no keepalive): after its 2 s lease its vote no longer counts.
        let deadline = Date().addingTimeInterval(6)
        var last = view
        while Date() < deadline {
            // a and c renew their leases (CoordinationService's keepalive loop does in a controller).
            _ = await a.keepAlive()
            _ = await c.keepAlive()
            last = await a.refresh()
            _ = await c.refresh()
            if last.verdict(for: "east").votes["b"] == nil { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTAssertEqual(last.verdict(for: "east").votes, ["a": .down, "c": .up])
        XCTAssertNotEqual(last.verdict(for: "east").verdict, .down, "one down vote of two live ones is not a quorum verdict")
        XCTAssertEqual(last.memberStates?.first { $0.id == "b" }?.alive, false)
        for x in [a, c] { await x.leave() }
    }

    func testADeadEndpointIsSkipped() async throws {
        let cluster = try cluster()
        let dead = "http://127.0.0.1:\(try FreePort.tcp())"
        let a = EtcdCoordinator(id: "a", config: config(cluster, prefix: Self.prefix(), endpoints: [dead] + cluster.endpoints))
        let view = await a.refresh()
        XCTAssertFalse(view.problem?.contains("unreachable") ?? false, view.problem ?? "")
        XCTAssertEqual(view.memberStates?.first { $0.id == "a" }?.alive, true)
        await a.leave()
        let none = EtcdCoordinator(id: "a", config: config(cluster, prefix: Self.prefix(), endpoints: [dead]))
        let refused = await none.refresh()
        XCTAssertFalse(refused.quorate)
        XCTAssertTrue(refused.problem?.contains("etcd: coordination backend unreachable: \(dead)") == true, refused.problem ?? "")
    }

    /// etcd with client certificate authentication: the coordinator connects with
    /// `ca_file`, `cert_file` and `key_file`; without the client certificate etcd refuses it.
    func testTLSWithAClientCertificate() async throws {
        let dir = try TemporaryDirectory.make(prefix: "fo-etcd-pki")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pki = try TestCertificates.make(in: dir)
        let secure = try await Blocking.run { try EtcdCluster(size: 1, tls: pki) }
        defer { secure.stop() }
        XCTAssertTrue(secure.endpoints[0].hasPrefix("https://"))
        let client = try pki.leaf(name: "controller-a", days: 30)
        var good = EtcdConfig(
            members: ["a"], endpoints: secure.endpoints, prefix: Self.prefix(), leaseTTL: .seconds(2),
            timeout: .milliseconds(800), poll: .milliseconds(100), caFile: pki.caFile, certFile: client.cert, keyFile: client.key)
        let a = EtcdCoordinator(id: "a", config: good)
        let view = await a.refresh()
        XCTAssertTrue(view.quorate, view.problem ?? "")
        XCTAssertEqual(view.leader, "a")
        await a.leave()
        good.certFile = nil
        good.keyFile = nil
        let refused = await EtcdCoordinator(id: "a", config: good).refresh()
        XCTAssertFalse(refused.quorate)
        XCTAssertNotNil(refused.problem)
    }

    /// Events go out in transactions of up to 100 (one revision each) and come in exactly
    /// once, whatever the page size: a page that ends inside a revision, and one that is a
    /// single revision, lose nothing.
    func testEventsAreExchangedOnceEach() async throws {
        for limit in [120, 50, 500] {
            let cluster = try cluster()
            let prefix = Self.prefix()
            let a = EtcdCoordinator(id: "a", config: config(cluster, prefix: prefix))
            let b = EtcdCoordinator(id: "b", config: config(cluster, prefix: prefix))
            for x in [a, b] { _ = await x.refresh() }
            let at = Timestamp(milliseconds: 1_767_225_600_000)
            let events = (1...250).map {
                Event(id: Int64($0), at: at, controller: "a", kind: .configLoaded, details: .object(["n": .number(Double($0))]))
            }
            try await a.upload(events: events)
            let dir = try TemporaryDirectory.make(prefix: "fo-exchange")
            defer { try? FileManager.default.removeItem(at: dir) }
            let store = try EventStore(path: dir.appendingPathComponent("events.sqlite").path)
            var cursor: Int64 = 0
            var batches = 0
            while batches < 20 {
                let batch = try await b.download(after: cursor, limit: limit)
                guard batch.cursor > cursor else { break }
                try store.recordMirrored(events: batch.events, incidents: batch.incidents, cursor: "received", to: batch.cursor)
                cursor = batch.cursor
                batches += 1
            }
            XCTAssertGreaterThanOrEqual(batches, limit < 250 ? 2 : 1, "limit \(limit)")
            // Uploading the same events again (a crash before the cursor moved) adds nothing.
            try await a.upload(events: Array(events.suffix(10)))
            let again = try await b.download(after: cursor)
            try store.recordMirrored(events: again.events, incidents: again.incidents, cursor: "received", to: again.cursor)
            let stored = try store.events(EventQuery(limit: 1_000))
            XCTAssertEqual(stored.map { $0.details["n"]?.numberValue ?? 0 }, (1...250).map(Double.init), "limit \(limit)")
            XCTAssertEqual(try store.mirrorCursor("received"), again.cursor)
            // A controller never downloads its own events.
            let own = try await a.download(after: 0)
            XCTAssertTrue(own.events.isEmpty)
            for x in [a, b] { await x.leave() }
        }
    }
}

/// Asserts that `body` throws a `LedgerError` that `matches`.
func XCTAssertThrowsLedger<T>(
    _ body: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line,
    _ matches: (LedgerError) -> Bool
) async {
    do {
        _ = try await body()
        XCTFail("expected a LedgerError", file: file, line: line)
    } catch let error as LedgerError {
        XCTAssertTrue(matches(error), "unexpected \(error)", file: file, line: line)
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
}
