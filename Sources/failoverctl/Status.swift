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

    @Option(
        help: "Redraw every this often until interrupted, e.g. 2s (the exit code is then that of the last report).",
        transform: parseDuration)
    var watch: Duration?

    @Flag(help: "No colours, even on a terminal (NO_COLOR in the environment does the same).")
    var noColor = false

    func validate() throws {
        if let watch, watch < .milliseconds(200) { throw ValidationError("--watch: at least 200ms") }
        if watch != nil, json { throw ValidationError("--watch and --json do not go together") }
    }

    func run() async throws {
        let config = try options.load()
        let reader = StateReader(config: config, endpoint: endpoint)
        let paint = Paint(enabled: !noColor && !json && Paint.terminalWantsColour())
        guard let watch else {
            let level = try await show(reader, paint: paint)
            throw ExitCode(Int32(level.rawValue))
        }
        while true {
            print("\u{1B}[H\u{1B}[2J", terminator: "")
            _ = try await show(reader, paint: paint)
            print(paint.dim("\nevery \(watch.text), Ctrl-C to stop"))
            // Shown now, also when standard output is a pipe (a watch ends by a signal).
            fflush(nil)
            try await Task.sleep(for: watch)
        }
    }

    /// Prints one report; its level, or UNKNOWN when there is none.
    private func show(_ reader: StateReader, paint: Paint) async throws -> StatusLevel {
        let report: StatusReport
        do {
            report = try await reader.liveStatus()
        } catch {
            guard let stored = try storedOrUnknown(reader, why: error.description) else { return .unknown }
            report = stored
        }
        print(json ? try Terminal.json(report) : StatusTable.render(report, now: Timestamp(Date()), paint: paint))
        return report.level
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
