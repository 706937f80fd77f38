import CurlHTTP
import EventLog
import FailoverCore
import Foundation

/// Where `status` and `events` get their answers: the running controller's API, else the
/// state it left in SQLite.
public struct StateReader: Sendable {
    /// The configuration (for `state_dir`, `listen` and the list of sites).
    public let config: ControllerConfig
    /// The API base URL (default: `http://` + the config's `listen`).
    public let endpoint: String
    /// How long to wait for the API before falling back to the stored state.
    public var timeout: Duration = .seconds(2)
    let engine: CurlEngine

    /// Creates a reader.
    public init(config: ControllerConfig, endpoint: String? = nil, engine: CurlEngine = .shared) {
        self.config = config
        self.endpoint = endpoint ?? "http://\(config.listen)"
        self.engine = engine
    }

    /// Why the API gave no answer, for the stale-state note.
    public struct Unanswered: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
        /// The HTTP status when the API answered with an error (409 refused, 401...), else nil.
        public var status: Int? = nil
    }

    /// The live status from the API.
    public func liveStatus() async throws(Unanswered) -> StatusReport {
        try await get("/status", as: StatusReport.self)
    }

    /// The live events from the API.
    public func liveEvents(_ query: EventQuery) async throws(Unanswered) -> [Event] {
        var items = ["limit=\(query.limit)"]
        if let site = query.site { items.append("site=\(percentEncoded(site))") }
        if let group = query.group { items.append("group=\(percentEncoded(group))") }
        if let after = query.afterID { items.append("after_id=\(after)") }
        if let since = query.since { items.append("since=\(max(Timestamp(Date()).since(since).milliseconds, 0))ms") }
        return try await get("/events?" + items.joined(separator: "&"), as: [Event].self)
    }

    func get<T: Decodable>(_ path: String, as: T.Type) async throws(Unanswered) -> T {
        try await call(HTTPRequest(url: endpoint + path, timeout: timeout, connectTimeout: .seconds(1), bodyLimit: 64 << 20), as: T.self)
    }

    /// Performs `request` and decodes a 2xx JSON answer; anything else is `Unanswered`,
    /// with `status` and the API's `error` message when it answered.
    func call<T: Decodable>(_ request: HTTPRequest, as: T.Type) async throws(Unanswered) -> T {
        let path = String(request.url.dropFirst(endpoint.count))
        let response = await engine.perform(request)
        if let error = response.error { throw Unanswered(description: "no answer from \(endpoint): \(error.message)") }
        guard (200..<300).contains(response.status) else {
            let message = (try? JSONDecoder().decode([String: String].self, from: response.body))?["error"]
            throw Unanswered(
                description: message ?? "\(endpoint)\(path) answered HTTP \(response.status): \(response.text.prefix(200))",
                status: response.status)
        }
        guard !response.bodyTruncated else {
            throw Unanswered(description: "\(endpoint)\(path) sent more than \(request.bodyLimit >> 20) MiB; ask for fewer events (--limit)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: response.body)
        } catch {
            throw Unanswered(description: "\(endpoint)\(path) sent JSON this version cannot read: \(error)")
        }
    }

    /// The state saved by the last controller, marked stale; nil when no controller has
    /// ever run with this `state_dir`.
    public func storedStatus(because why: String, now: Timestamp) throws -> StatusReport? {
        guard let store = try openStore() else { return nil }
        let saved = try store.siteStatuses()
        let info = try store.controllerInfo()
        let sites = config.sites.map { site in
            saved[site.name]?.status
                ?? SiteStatus(
                    name: site.name, region: site.region, state: .unknown, since: nil,
                    quorum: QuorumVerdict(site: site.name, verdict: .unknown, votes: [:], needed: 1, quorate: false),
                    checks: [])
        }
        let savedAt = saved.values.map(\.updatedAt).max() ?? info?.startedAt ?? now
        let policy = config.coordination.policy(me: config.id)
        let coordination =
            config.coordination == .local
            ? CoordinationStatus(backend: "local", quorate: true, leader: nil, members: [config.id])
            : CoordinationStatus(
                backend: config.coordination.backend, quorate: false, leader: nil, members: policy.members,
                memberStates: policy.members.map { MemberStatus(id: $0, alive: false) }, needed: policy.quorum,
                problem: "this controller does not answer, so its view of the quorum is unknown")
        let states = try store.groupStates()
        let groups = try config.groups.map { group in
            let fsm = GroupFSM(config: group, state: states[group.name])
            return GroupStatus(fsm, last: try fsm.state.lastIncident.flatMap { try store.incident(id: $0) })
        }
        var report = StatusReport(
            controller: info?.id ?? config.id, startedAt: info?.startedAt, generatedAt: savedAt, source: "state",
            coordination: coordination, sites: sites.map { site in
                var site = site
                site.primaryOf = groups.filter { $0.primary == site.name }.map(\.name)
                site.standbyOf = groups.filter { $0.primary != site.name && $0.sites.contains(site.name) }.map(\.name)
                return site
            }, groups: groups)
        let age = now.since(savedAt).text
        report.markStale(reason: "no controller answered (\(why)); showing the state saved \(age) ago")
        return report
    }

    /// Events from the stored log; nil when there is no log yet.
    public func storedEvents(_ query: EventQuery) throws -> [Event]? {
        try openStore()?.events(query)
    }

    func openStore() throws -> EventStore? {
        let path = EventStore.path(inStateDirectory: config.stateDir)
        do {
            return try EventStore(path: path, readOnly: true)
        } catch let error as EventStoreError where error == .databaseMissing {
            return nil
        }
    }

    func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
