import FailoverCore
import Testing

@Suite struct ElectionTests {
    let at = Timestamp(milliseconds: 0)

    func group(_ standbys: [(String, Int)], maxLag: Int64? = nil) -> GroupConfig {
        GroupConfig(
            name: "web", primary: "east", standbys: standbys.map { Standby(site: $0.0, priority: $0.1) },
            maxLagBytes: maxLag, plan: [PlanStep(kind: .verify)])
    }

    func snapshot(_ sites: [SiteSnapshot]) -> WorldSnapshot { WorldSnapshot(at: at, sites: sites) }

    @Test func priorityWinsOverLagAndLatency() {
        let result = Election.elect(
            group([("west", 1), ("eu", 2)]), from: "east",
            in: snapshot([
                SiteSnapshot(name: "west", verdict: .up, latencyMs: 50, lag: ReplicationLag(bytes: 900)),
                SiteSnapshot(name: "eu", verdict: .up, latencyMs: 1, lag: ReplicationLag(bytes: 0)),
            ]))
        #expect(result.target == "west")
        #expect(result.candidates.map(\.site) == ["west", "eu"])
    }

    @Test func equalPrioritiesAreDecidedByLagThenLatency() {
        let standbys = group([("west", 1), ("eu", 1), ("ap", 1)])
        let byLag = Election.elect(
            standbys, from: "east",
            in: snapshot([
                SiteSnapshot(name: "west", verdict: .up, latencyMs: 1, lag: ReplicationLag(bytes: 500)),
                SiteSnapshot(name: "eu", verdict: .up, latencyMs: 9, lag: ReplicationLag(bytes: 10)),
                SiteSnapshot(name: "ap", verdict: .up, latencyMs: 2),
            ]))
        #expect(byLag.target == "eu")
        let byLatency = Election.elect(
            standbys, from: "east",
            in: snapshot([
                SiteSnapshot(name: "west", verdict: .up, latencyMs: 7),
                SiteSnapshot(name: "eu", verdict: .up, latencyMs: 3),
                SiteSnapshot(name: "ap", verdict: .down, latencyMs: 1),
            ]))
        #expect(byLatency.target == "eu")
        #expect(byLatency.candidates.last?.ineligible == "verdict down")
    }

    @Test func lagAboveMaxIsIneligibleUnlessForced() {
        let config = group([("west", 1)], maxLag: 100)
        let world = snapshot([SiteSnapshot(name: "west", verdict: .up, lag: ReplicationLag(bytes: 101))])
        #expect(Election.elect(config, from: "east", in: world).target == nil)
        #expect(Election.elect(config, from: "east", in: world).summary.contains("lag 101 B above max_lag 100 B"))
        #expect(Election.elect(config, from: "east", in: world, force: true).target == "west")
    }

    @Test func theConfiguredPrimaryIsACandidateOnceItIsNoLongerPrimary() {
        let result = Election.elect(
            group([("west", 1), ("eu", 2)]), from: "west",
            in: snapshot([SiteSnapshot(name: "east", verdict: .up), SiteSnapshot(name: "eu", verdict: .up)]))
        #expect(result.target == "east")
    }
}

@Suite struct IncidentMeasureTests {
    func at(_ s: Int64) -> Timestamp { Timestamp(milliseconds: 1_000_000 + s) }

    @Test func unplannedPhasesAddUpToRTOFromTheFirstFailedProbe() {
        var incident = Incident(
            id: "web-1", group: "web", kind: .failover, planned: false, from: "east", to: "west", epoch: 1,
            decided: at(3_100), rtoTarget: .seconds(5), rpoTarget: .seconds(1))
        incident.lastOK = at(0)
        incident.firstFail = at(1_000)
        incident.detected = at(3_000)
        incident.actuated = at(4_000)
        incident.restored = at(4_500)
        incident.result = .succeeded
        incident.lag = ReplicationLag(bytes: 0, seconds: 0.2)
        incident.dnsTTLMs = 30_000
        let m = incident.measures
        #expect(m.rtoMs == 3_500)
        #expect(m.uncertaintyMs == 1_000)
        #expect([m.detectionMs, m.decisionMs, m.actuationMs, m.verificationMs] == [2_000, 100, 900, 500])
        #expect(m.detectionMs! + m.decisionMs! + m.actuationMs! + m.verificationMs! == m.rtoMs!)
        #expect(m.worstCaseClientMs == 33_500)
        #expect(m.rtoMet == true && m.rpoMet == true && m.passed)
    }

    @Test func aPlannedDrillCountsFromTheDecisionAndMissesItsTarget() {
        var incident = Incident(
            id: "web-2", group: "web", kind: .drill, planned: true, from: "east", to: "west", epoch: 2,
            decided: at(0), rtoTarget: .seconds(1))
        incident.actuated = at(800)
        incident.restored = at(1_200)
        incident.result = .succeeded
        let m = incident.measures
        #expect(m.rtoMs == 1_200)
        #expect(m.detectionMs == nil && m.decisionMs == nil)
        #expect(m.actuationMs! + m.verificationMs! == 1_200)
        #expect(m.rtoMet == false && !m.passed)
        #expect(m.rpoMet == nil)
    }

    @Test func aStuckIncidentHasNoRTOAndDoesNotPass() {
        var incident = Incident(
            id: "web-3", group: "web", kind: .failover, planned: false, from: "east", to: "west", epoch: 3, decided: at(0))
        incident.result = .stuck
        #expect(incident.measures.rtoMs == nil)
        #expect(!incident.measures.passed)
    }
}
