import FailoverCore
import Testing

/// `QuorumVerdict.tally`: how live controllers' votes on one site become the quorum verdict.
@Suite struct QuorumTests {
    static let t0 = Timestamp(milliseconds: 0)
    static let three = QuorumPolicy(members: ["a", "b", "c"])

    static func votes(_ verdicts: [String: Verdict], site: String = "east") -> [Vote] {
        verdicts.sorted { $0.key < $1.key }.map { Vote(controller: $0.key, site: site, verdict: $0.value, since: t0) }
    }

    static func tally(_ verdicts: [String: Verdict], policy: QuorumPolicy = three) -> QuorumVerdict {
        QuorumVerdict.tally(site: "east", votes: votes(verdicts), policy: policy)
    }

    @Test func defaultQuorumIsAStrictMajority() {
        #expect([1, 2, 3, 4, 5].map { QuorumPolicy(members: (0..<$0).map(String.init)).quorum } == [1, 2, 2, 3, 3])
        #expect(QuorumPolicy.single("lab-1") == QuorumPolicy(members: ["lab-1"], quorum: 1))
    }

    @Test(arguments: [
        (["a": .down, "b": .down, "c": .up], Verdict.down),
        (["a": .up, "b": .up, "c": .down], .up),
        (["a": .down, "b": .down], .down),
        (["a": .up, "b": .up], .up),
        (["a": .down, "b": .up], .suspect),
        (["a": .down, "b": .suspect, "c": .up], .suspect),
        (["a": .suspect, "b": .up], .suspect),
        (["a": .unknown, "b": .up], .unknown),
        (["a": .unknown, "b": .unknown, "c": .unknown], .unknown),
    ] as [([String: Verdict], Verdict)])
    func majorityOfThree(_ verdicts: [String: Verdict], expected: Verdict) {
        let result = Self.tally(verdicts)
        #expect(result.verdict == expected)
        #expect(result.quorate && result.needed == 2 && result.votes == verdicts)
    }

    @Test func withoutQuorumTheVerdictIsUnknownEvenIfAllLiveVotesAgree() {
        let result = Self.tally(["a": .down])
        #expect(result.verdict == .unknown && !result.quorate && result.needed == 2)
        #expect(Self.tally([:]).verdict == .unknown)
    }

    @Test func votesOfNonMembersAndOtherSitesAreIgnored() {
        var votes = Self.votes(["a": .up, "x": .down, "y": .down])
        votes += Self.votes(["b": .down, "c": .down], site: "west")
        let result = QuorumVerdict.tally(site: "east", votes: votes, policy: Self.three)
        #expect(result.votes == ["a": .up])
        #expect(result.verdict == .unknown && !result.quorate)
    }

    @Test func anExplicitQuorumOverridesTheMajority() {
        let all = QuorumPolicy(members: ["a", "b", "c"], quorum: 3)
        #expect(Self.tally(["a": .down, "b": .down, "c": .up], policy: all).verdict == .suspect)
        #expect(Self.tally(["a": .down, "b": .down, "c": .down], policy: all).verdict == .down)
        #expect(Self.tally(["a": .down, "b": .down], policy: all).verdict == .unknown, "two live of three needed")
        let one = QuorumPolicy(members: ["a", "b", "c"], quorum: 1)
        #expect(Self.tally(["c": .up], policy: one).verdict == .up)
    }

    @Test func theLocalQuorumOfOneFollowsItsOnlyController() {
        for verdict in Verdict.allCases {
            let result = QuorumVerdict.tally(
                site: "east", votes: Self.votes(["lab-1": verdict]), policy: .single("lab-1"))
            #expect(result.verdict == verdict && result.quorate)
        }
    }

    @Test func aControllersLaterVoteReplacesItsEarlierOne() {
        let votes = Self.votes(["a": .up]) + Self.votes(["a": .down]) + Self.votes(["b": .down])
        #expect(QuorumVerdict.tally(site: "east", votes: votes, policy: Self.three).verdict == .down)
    }
}
