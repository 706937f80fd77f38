import FailoverCore
import Testing

/// `StatusReport.assess`: the exit level of `failoverctl status` (0 OK, 1 WARNING, 2 CRITICAL).
@Suite struct StatusTests {
    static let t0 = Timestamp(milliseconds: 0)
    static let quorate = CoordinationStatus(backend: "local", quorate: true, leader: "lab-1", members: ["lab-1"])

    static func site(_ name: String, _ verdict: Verdict, primaryOf: [String] = [], standbyOf: [String] = []) -> SiteStatus {
        let vote = Vote(controller: "lab-1", site: name, verdict: verdict, since: t0)
        let quorum = QuorumVerdict.tally(site: name, votes: [vote], policy: .single("lab-1"))
        let state: SiteFSM.State = verdict == .unknown ? .unknown : SiteFSM.State(rawValue: verdict.rawValue)!
        return SiteStatus(
            name: name, region: nil, state: state, since: t0, quorum: quorum, checks: [], primaryOf: primaryOf,
            standbyOf: standbyOf)
    }

    static func level(_ sites: [SiteStatus], coordination: CoordinationStatus = quorate) -> StatusLevel {
        StatusReport.assess(coordination: coordination, sites: sites).0
    }

    @Test func allUpIsOK() {
        let (level, problems) = StatusReport.assess(
            coordination: Self.quorate, sites: [Self.site("east", .up), Self.site("west", .up, standbyOf: ["web"])])
        #expect(level == .ok && problems.isEmpty)
        #expect(Self.level([]) == .ok, "no sites, nothing wrong")
    }

    @Test func warnings() {
        #expect(Self.level([Self.site("east", .suspect)]) == .warning)
        #expect(Self.level([Self.site("east", .suspect, primaryOf: ["web"])]) == .warning)
        #expect(Self.level([Self.site("west", .down, standbyOf: ["web"])]) == .warning)
        #expect(Self.level([Self.site("east", .unknown)]) == .warning)
        #expect(Self.level([Self.site("east", .up), Self.site("west", .unknown)]) == .warning)
    }

    @Test func criticals() {
        #expect(Self.level([Self.site("east", .down, primaryOf: ["web"])]) == .critical)
        #expect(Self.level([Self.site("east", .down)]) == .critical, "a down site in no group")
        #expect(Self.level([Self.site("east", .down, primaryOf: ["web"], standbyOf: ["db"])]) == .critical)
        let noQuorum = CoordinationStatus(backend: "etcd", quorate: false, leader: nil, members: ["a", "b", "c"])
        #expect(Self.level([Self.site("east", .up)], coordination: noQuorum) == .critical)
    }

    @Test func theWorstSiteWinsAndEveryProblemIsListed() {
        let (level, problems) = StatusReport.assess(
            coordination: Self.quorate,
            sites: [Self.site("a", .suspect), Self.site("b", .down), Self.site("c", .up), Self.site("d", .unknown)])
        #expect(level == .critical)
        #expect(problems == ["site a is suspect", "site b is down", "site d has no verdict yet"])
    }

    @Test func theReportDerivesItsLevelAndStaleStateIsAtLeastAWarning() {
        var report = StatusReport(
            controller: "lab-1", startedAt: Self.t0, generatedAt: Self.t0, source: "state", coordination: Self.quorate,
            sites: [Self.site("east", .up)])
        #expect(report.level == .ok && report.problems.isEmpty)
        report.markStale(reason: "controller not answering; state from the event log")
        #expect(report.level == .warning && report.problems == ["controller not answering; state from the event log"])
        var critical = StatusReport(
            controller: "lab-1", startedAt: nil, generatedAt: Self.t0, source: "state", coordination: Self.quorate,
            sites: [Self.site("east", .down)])
        critical.markStale(reason: "stale")
        #expect(critical.level == .critical && critical.problems.first == "stale", "stale never lowers the level")
    }

    @Test func levelsAreOrderedAndLabelled() {
        #expect(StatusLevel.allCases.sorted() == [.ok, .warning, .critical, .unknown])
        #expect(StatusLevel.allCases.map(\.label) == ["OK", "WARNING", "CRITICAL", "UNKNOWN"])
        #expect(StatusLevel.allCases.map(\.rawValue) == [0, 1, 2, 3])
    }
}

/// `Redaction`: secrets never reach logs, events or status output.
@Suite struct RedactionTests {
    @Test func urlsLoseCredentialsAndSecretQueryValues() {
        let shown = Redaction.url("https://user:hunter2@127.0.0.1:8443/health?token=s3cret&x=1&API_KEY=k")
        #expect(!shown.contains("hunter2") && !shown.contains("user@") && !shown.contains("s3cret") && !shown.contains("=k"))
        #expect(shown.hasPrefix("https://127.0.0.1:8443/health?") && shown.contains("x=1"))
        #expect(Redaction.url("http://127.0.0.1/") == "http://127.0.0.1/")
    }

    @Test func scrubReplacesEverySecretOfFourCharactersOrMore() {
        #expect(Redaction.scrub("a t0k3n b t0k3n", secrets: ["t0k3n", "ab"]) == "a REDACTED b REDACTED")
    }
}
