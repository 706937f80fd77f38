import FailoverCore
import Testing

/// The database rules shared by the election, the postgres plugin and `status`: only a
/// replica of the current primary is a target; split brain is two writable primaries.
@Suite struct DatabaseRoleTests {
    static let t0 = Timestamp(milliseconds: 0)

    static func database(_ role: DatabaseObservation.Role, timeline: Int = 1, system: String = "7001", streaming: Bool = true)
        -> DatabaseObservation
    {
        DatabaseObservation(
            systemIdentifier: system, timeline: timeline, role: role, position: WALPosition(0x300_0060),
            streaming: role == .replica && streaming)
    }

    static func group() -> GroupConfig {
        GroupConfig(
            name: "web", primary: "east", standbys: [Standby(site: "west", priority: 1), Standby(site: "eu", priority: 2)],
            plan: [PlanStep(kind: .verify)])
    }

    @Test func walPositionsParsePrintAndSubtract() {
        let position = WALPosition("0/3000060")
        #expect(position?.offset == 0x300_0060 && position?.description == "0/3000060")
        #expect(WALPosition("1/0")?.offset == 1 << 32)
        #expect(WALPosition("x/1") == nil && WALPosition("1/2/3") == nil && WALPosition("100000000/0") == nil)
        #expect(WALPosition(10).bytes(after: WALPosition(4)) == 6 && WALPosition(4).bytes(after: WALPosition(10)) == 0)
    }

    @Test func theElectionSkipsEveryDatabaseThatIsNoReplicaOfThePrimaryAndSaysWhy() {
        let snapshot = WorldSnapshot(
            at: Self.t0,
            sites: [
                SiteSnapshot(name: "east", verdict: .down, database: Self.database(.primary, timeline: 2)),
                SiteSnapshot(name: "west", verdict: .up, database: Self.database(.fencedPrimary, timeline: 1)),
                SiteSnapshot(name: "eu", verdict: .up, database: Self.database(.replica, timeline: 1)),
            ])
        let result = Election.elect(Self.group(), from: "east", in: snapshot, force: true)
        #expect(result.target == nil, "even forced: promoting either would lose what east wrote on timeline 2")
        #expect(result.summary.contains("west: its database is a fenced primary on timeline 1 at 0/3000060, not a replica of east: rejoin it first"))
        #expect(result.summary.contains("eu: its database is a replica on timeline 1, behind east's timeline 2: rejoin it first"))
        var stranger = snapshot
        stranger.sites["eu"]?.database = Self.database(.replica, timeline: 2, system: "9999")
        #expect(Election.elect(Self.group(), from: "east", in: stranger).summary.contains("eu: its database (system 9999) is not a replica of east's (system 7001)"))
        var good = snapshot
        good.sites["eu"]?.database = Self.database(.replica, timeline: 2)
        #expect(Election.elect(Self.group(), from: "east", in: good).target == "eu")
    }

    static func site(_ name: String, _ database: DatabaseObservation?, primaryOf: [String] = [], standbyOf: [String] = [])
        -> SiteStatus
    {
        var status = StatusTests.site(name, .up, primaryOf: primaryOf, standbyOf: standbyOf)
        if let database {
            var check = ProbeResult(check: "db", kind: "postgres", at: t0, diagnosis: .ok, timings: ProbeTimings(total: 1))
            check.database = database
            check.role = database.role.rawValue
            status.checks = [check]
        }
        return status
    }

    static func report(east: DatabaseObservation, west: DatabaseObservation) -> StatusReport {
        let group = GroupStatus(
            name: "web", primary: "east", configuredPrimary: "east", sites: ["east", "west"], phase: "steady", epoch: 1,
            paused: false, failover: .automatic)
        return StatusReport(
            controller: "lab-1", startedAt: t0, generatedAt: t0, source: "api", coordination: StatusTests.quorate,
            sites: [site("east", east, primaryOf: ["web"]), site("west", west, standbyOf: ["web"])], groups: [group])
    }

    @Test func statusIsCriticalForASecondWritablePrimaryAndWarnsWithoutAHealthyReplica() {
        let healthy = Self.report(east: Self.database(.primary), west: Self.database(.replica))
        #expect(healthy.level == .ok, "\(healthy.problems)")
        let split = Self.report(east: Self.database(.primary), west: Self.database(.primary))
        #expect(split.level == .critical)
        #expect(split.problems.contains { $0.contains("site west runs a writable PostgreSQL primary") })
        let fenced = Self.report(east: Self.database(.primary, timeline: 2), west: Self.database(.fencedPrimary))
        #expect(fenced.level == .warning, "a fenced old primary is no split brain, but no replica is left")
        #expect(fenced.problems == ["group web has no healthy replica streaming from its primary east: losing east now loses data (rejoin a replica)"])
        let stale = Self.report(east: Self.database(.primary, timeline: 2), west: Self.database(.replica, timeline: 1))
        #expect(stale.level == .warning, "a replica left on an old timeline is no healthy replica")
        let cut = Self.report(east: Self.database(.primary), west: Self.database(.replica, streaming: false))
        #expect(cut.level == .warning)
    }

    @Test func aReplicaCutOffFromItsPrimaryKeepsTheTimelineItStreamedOn() {
        let streamed = Self.database(.replica, timeline: 3)
        let cut = Self.database(.replica, timeline: 2, streaming: false)
        #expect(cut.keepingTimeline(of: streamed).timeline == 3)
        #expect(Self.database(.replica, timeline: 2).keepingTimeline(of: streamed).timeline == 2, "streaming: its own word")
        #expect(cut.keepingTimeline(of: Self.database(.replica, timeline: 3, system: "other")).timeline == 2)
        #expect(cut.keepingTimeline(of: Self.database(.primary, timeline: 3)).timeline == 2, "it was rebuilt or demoted since")
        #expect(Self.database(.fencedPrimary, timeline: 1).keepingTimeline(of: streamed).timeline == 1)
    }
}
