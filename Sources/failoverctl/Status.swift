import ArgumentParser
import Controller
import FailoverCore
import Foundation

/// `failoverctl status`: every site's verdict, as a Nagios-style check.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every site's verdict and last check results.",
        discussion: """
            Asks the running controller (--endpoint, default the config's listen address) and falls back
            to the state it saved in state_dir. Exit: 0 OK, 1 WARNING (a site suspect, a standby down,
            stale state), 2 CRITICAL (a primary or ungrouped site down, no quorum), 3 UNKNOWN (no
            controller and no state).
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: "The controller API base URL (default: http://<controller.listen>).")
    var endpoint: String?

    @Flag(help: "Print JSON (the shape of GET /status).")
    var json = false

    func run() async throws {
        let config = try options.load()
        let reader = StateReader(config: config, endpoint: endpoint)
        let report: StatusReport
        do {
            report = try await reader.liveStatus()
        } catch {
            guard let stored = try storedOrUnknown(reader, why: error.description) else { throw ExitCode(3) }
            report = stored
        }
        print(json ? try Terminal.json(report) : StatusTable.render(report, now: Timestamp(Date())))
        throw ExitCode(Int32(report.level.rawValue))
    }

    private func storedOrUnknown(_ reader: StateReader, why: String) throws -> StatusReport? {
        do {
            if let stored = try reader.storedStatus(because: why, now: Timestamp(Date())) { return stored }
        } catch {
            return unknown("\(why); and the stored state cannot be read: \(error)")
        }
        return unknown("\(why); and no state in \(reader.config.stateDir) (has a controller run here?)")
    }

    private func unknown(_ why: String) -> StatusReport? {
        if json {
            let object: [String: JSONValue] = [
                "level": .number(3), "level_label": .string("UNKNOWN"), "problems": .array([.string(why)]),
            ]
            print((try? Terminal.json(JSONValue.object(object))) ?? "{}")
        } else {
            print("UNKNOWN: \(why)")
        }
        return nil
    }
}
