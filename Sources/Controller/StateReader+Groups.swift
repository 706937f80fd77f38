import CurlHTTP
import EventLog
import FailoverCore
import Foundation

extension StateReader {
    /// Sends a command (`failover`, `drill`, `pause`, `resume`) to the running controller,
    /// with the configured API token.
    public func send(_ command: GroupCommand, group: String) async throws(Unanswered) -> CommandReply {
        guard let token = config.apiToken, !token.isEmpty else {
            throw Unanswered(description: "controller.api_token is not set in \(config.sourcePath): commands need it")
        }
        let (verb, body): (String, [String: JSONValue]) =
            switch command {
            case .failover(let to, let force): ("failover", ["to": .string(to), "force": .bool(force)])
            case .drill(let to, let failback): ("drill", ["to": to.map(JSONValue.string) ?? .null, "failback": .bool(failback)])
            case .pause: ("pause", [:])
            case .resume: ("resume", [:])
            }
        let request = HTTPRequest(
            url: endpoint + "/groups/\(percentEncoded(group))/\(verb)", method: .post,
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: Data(JSONValue.object(body).jsonText.utf8), timeout: timeout, connectTimeout: .seconds(1))
        return try await call(request, as: CommandReply.self)
    }

    /// The live status of one group.
    public func liveGroup(_ name: String) async throws(Unanswered) -> GroupStatus {
        try await get("/groups/\(percentEncoded(name))", as: GroupStatus.self)
    }

    /// The plan the running controller would run for `command` (nothing runs).
    public func livePlan(_ command: GroupCommand, group: String) async throws(Unanswered) -> PlanPreview {
        var items: [String] = []
        switch command {
        case .drill(let to, let failback):
            items = ["command=drill", "failback=\(failback ? 1 : 0)"] + (to.map { ["to=\(percentEncoded($0))"] } ?? [])
        case .failover(let to, let force): items = ["command=failover", "to=\(percentEncoded(to))", "force=\(force ? 1 : 0)"]
        case .pause, .resume: throw Unanswered(description: "only failover and drill have a plan")
        }
        return try await get("/groups/\(percentEncoded(group))/plan?" + items.joined(separator: "&"), as: PlanPreview.self)
    }

    /// The live incidents, oldest first.
    public func liveIncidents(group: String?, limit: Int) async throws(Unanswered) -> [IncidentView] {
        let filter = group.map { "&group=\(percentEncoded($0))" } ?? ""
        return try await get("/incidents?limit=\(limit)\(filter)", as: [IncidentView].self)
    }

    /// The stored incidents; nil when there is no state yet.
    public func storedIncidents(group: String?, limit: Int) throws -> [IncidentView]? {
        try openStore()?.incidents(group: group, limit: limit).map(IncidentView.init)
    }

    /// The plan `command` would run, judged on the stored state (no controller running):
    /// the groups' stored states and the sites' last saved quorum verdicts.
    public func storedPlan(_ command: GroupCommand, group name: String, now: Timestamp) throws -> PlanPreview {
        guard let group = config.group(named: name) else {
            throw Unanswered(description: "no group named \(name) in \(config.sourcePath)")
        }
        let store = try openStore()
        let state = try store?.groupStates()[name]
        let saved = try store?.siteStatuses() ?? [:]
        let sites = config.sites.map { site in
            SiteSnapshot(name: site.name, verdict: saved[site.name]?.status.quorum.verdict ?? .unknown, since: saved[site.name]?.status.since)
        }
        let fsm = GroupFSM(config: group, state: state)
        do {
            return try fsm.preview(command, snapshot: WorldSnapshot(at: now, sites: sites), sites: config.sites)
        } catch {
            throw Unanswered(description: "\(error.description) (judged on the state saved in \(config.stateDir))")
        }
    }
}
