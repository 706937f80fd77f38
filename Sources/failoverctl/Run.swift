import ArgumentParser
import CHostShim
import Controller
import Foundation
import Logging
import Probes

/// `failoverctl run`: the controller service, in the foreground.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the controller: probe every site, record verdicts, serve the status API.",
        discussion: "Stops gracefully on SIGTERM or SIGINT. Logs go to standard error.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        // Many small short-lived allocations on a few threads: keep freed memory from
        // piling up in the resident set.
        _ = fo_tune_malloc()
        let config = try options.load()
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "failoverctl")
        let runtime = ControllerRuntime(config: config, logger: logger, prober: CheckProber())
        do {
            try await runtime.run()
        } catch {
            Terminal.error("controller stopped: \(error)")
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
