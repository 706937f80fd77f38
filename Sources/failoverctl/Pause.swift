import ArgumentParser
import Controller
import FailoverCore

/// `failoverctl pause --group G`: maintenance mode.
struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause a group: probes go on, no failover starts or continues until resume.")

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: GroupOptions

    func run() async throws {
        try await GroupToggle.send(.pause, options: options, target: target)
    }
}

/// `failoverctl resume --group G`.
struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a group; a paused or stuck plan continues at its stored step.")

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: GroupOptions

    func run() async throws {
        try await GroupToggle.send(.resume, options: options, target: target)
    }
}

/// Sending pause or resume and printing the group's state after it.
enum GroupToggle {
    static func send(_ command: GroupCommand, options: ConfigOptions, target: GroupOptions) async throws {
        let config = try options.load()
        let group = try target.resolve(in: config)
        let reader = StateReader(config: config, endpoint: target.endpoint)
        do {
            let reply = try await reader.send(command, group: group.name)
            let run = reply.group.run.map { ", \($0.incident) \($0.phase.rawValue) at step \($0.step)/\($0.steps)" } ?? ""
            print("\(group.name): \(reply.group.phase) (primary \(reply.group.primary), epoch \(reply.group.epoch)\(run))")
        } catch {
            Terminal.error(error.status == nil ? "\(error.description) (is the controller running?)" : error.description)
            throw ExitCode(2)
        }
    }
}
