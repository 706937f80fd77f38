/// One controller's live verdict on one site, as published through the coordinator.
public struct Vote: Sendable, Equatable, Codable {
    /// The controller that voted.
    public var controller: String
    /// The site voted on.
    public var site: String
    /// Its debounced verdict.
    public var verdict: Verdict
    /// When the verdict last changed.
    public var since: Timestamp

    /// Creates a vote.
    public init(controller: String, site: String, verdict: Verdict, since: Timestamp) {
        self.controller = controller
        self.site = site
        self.verdict = verdict
        self.since = since
    }
}

/// Who votes and how many votes decide.
public struct QuorumPolicy: Sendable, Equatable {
    /// Controller ids whose votes count.
    public var members: [String]
    /// Votes needed to declare a site up or down.
    public var quorum: Int

    /// Creates a policy; `quorum` defaults to a strict majority of `members`.
    public init(members: [String], quorum: Int? = nil) {
        self.members = members
        self.quorum = quorum ?? (members.count / 2 + 1)
    }

    /// The quorum of one used by the embedded `local` coordination.
    public static func single(_ id: String) -> QuorumPolicy { QuorumPolicy(members: [id], quorum: 1) }
}

/// The quorum's verdict on one site, with the votes behind it.
public struct QuorumVerdict: Sendable, Equatable, Codable {
    /// The site.
    public var site: String
    /// `down`/`up` only when at least `needed` live members agree; `suspect` when members
    /// disagree or suspect; `unknown` without quorum or without opinions.
    public var verdict: Verdict
    /// Live members' votes by controller id.
    public var votes: [String: Verdict]
    /// Votes needed.
    public var needed: Int
    /// Whether enough members are alive to decide at all.
    public var quorate: Bool

    /// Creates a verdict.
    public init(site: String, verdict: Verdict, votes: [String: Verdict], needed: Int, quorate: Bool) {
        self.site = site
        self.verdict = verdict
        self.votes = votes
        self.needed = needed
        self.quorate = quorate
    }

    /// Counts `votes` (already limited to live ones) for `site` under `policy`.
    public static func tally(site: String, votes: [Vote], policy: QuorumPolicy) -> QuorumVerdict {
        var live: [String: Verdict] = [:]
        for vote in votes where vote.site == site && policy.members.contains(vote.controller) {
            live[vote.controller] = vote.verdict
        }
        let count = { (v: Verdict) in live.values.filter { $0 == v }.count }
        let quorate = live.count >= policy.quorum
        let verdict: Verdict
        if !quorate {
            verdict = .unknown
        } else if count(.down) >= policy.quorum {
            verdict = .down
        } else if count(.up) >= policy.quorum {
            verdict = .up
        } else if count(.down) + count(.suspect) > 0 {
            verdict = .suspect
        } else {
            verdict = .unknown
        }
        return QuorumVerdict(site: site, verdict: verdict, votes: live, needed: policy.quorum, quorate: quorate)
    }

    enum CodingKeys: String, CodingKey { case site, verdict, votes, needed, quorate }
}
