import ArgumentParser
import Controller
import FailoverCore
import Foundation

/// `failoverctl report`: incidents and drills with their measured RTO and RPO.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show incidents and drills: RTO and its phases, RPO, DNS TTL, pass/fail against targets.",
        discussion: """
            Asks the running controller, else reads the event log in state_dir. RTO runs from the first \
            failed probe of the old primary (from the decision for drills) to the first passing verify probe \
            of the new one. Exit: 0 every incident shown passed, 1 one missed a target or failed.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: "Only this group.")
    var group: String?

    @Option(help: "At most this many (the most recent).")
    var limit: Int = 50

    @Option(help: "The controller API base URL (default: http://<controller.listen>).")
    var endpoint: String?

    @Flag(help: "Print JSON (the shape of GET /incidents).")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let config = try options.load()
        if let group, config.group(named: group) == nil {
            Terminal.error("--group: no group named \"\(group)\" in \(config.sourcePath)")
            throw ExitCode(2)
        }
        let reader = StateReader(config: config, endpoint: endpoint)
        let incidents: [IncidentView]
        do {
            incidents = try await reader.liveIncidents(group: group, limit: limit)
        } catch {
            guard let stored = try reader.storedIncidents(group: group, limit: limit) else {
                Terminal.error("\(error.description); and no event log in \(config.stateDir)")
                throw ExitCode(3)
            }
            incidents = stored
        }
        print(json ? try Terminal.json(incidents) : (incidents.isEmpty ? "no incidents or drills yet" : ReportTable.render(incidents)))
        if incidents.contains(where: { !$0.measures.passed }) { throw ExitCode(1) }
    }
}
