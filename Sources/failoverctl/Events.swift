import ArgumentParser
import Controller
import EventLog
import FailoverCore
import Foundation

/// `failoverctl events`: the event log.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show recorded events (verdicts, failovers and their steps, controller starts and stops).",
        discussion: "Asks the running controller, else reads the event log in state_dir.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Only events about this site.")
    var site: String?

    @Option(help: "Only events about this failover group.")
    var group: String?

    @Option(help: "Only events newer than this, e.g. 10m, 2h.", transform: { text in
        guard let duration = Duration(text: text) else { throw ValidationError("--since: \"\(text)\" is not a duration like 10m") }
        return duration
    })
    var since: Duration?

    @Option(help: "At most this many (the most recent).")
    var limit: Int = 1_000

    @Option(help: "The controller API base URL (default: http://<controller.listen>).")
    var endpoint: String?

    @Flag(help: "Print JSON (the shape of GET /events).")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let config = try options.load()
        if let site, config.site(named: site) == nil {
            Terminal.error("--site: no site named \"\(site)\" in \(config.sourcePath)")
            throw ExitCode(2)
        }
        if let group, config.group(named: group) == nil {
            Terminal.error("--group: no group named \"\(group)\" in \(config.sourcePath)")
            throw ExitCode(2)
        }
        let query = EventQuery(site: site, group: group, since: since.map { Timestamp(Date()).advanced(by: .zero - $0) }, limit: limit)
        let reader = StateReader(config: config, endpoint: endpoint)
        let events: [Event]
        do {
            events = try await reader.liveEvents(query)
        } catch {
            guard let stored = try reader.storedEvents(query) else {
                Terminal.error("\(error.description); and no event log in \(config.stateDir)")
                throw ExitCode(3)
            }
            events = stored
        }
        if json {
            print(try Terminal.json(events))
        } else {
            for event in events { print(Self.line(event)) }
        }
    }

    static func line(_ e: Event) -> String {
        let subject = [e.group.map { "group=\($0)" }, e.site.map { "site=\($0)" }, e.epoch.map { "epoch=\($0)" }]
            .compactMap { $0 }.joined(separator: " ")
        let message = e.details["message"]?.stringValue ?? e.details.jsonText
        return "\(e.at)  \(e.controller)  \(e.kind.rawValue)  \(subject.isEmpty ? "" : subject + "  ")\(message)"
    }
}
