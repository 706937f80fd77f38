import ArgumentParser
import Controller
import FailoverCore
import Foundation

/// `failoverctl drill --planned`: a planned switchover, measured like an incident.
struct Drill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a planned DR drill: switch a group over to a standby (and back with --failback).",
        discussion: """
            The running controller drains the primary, waits for zero replication lag where a plugin can \
            tell, promotes, switches DNS and verifies, recording the drill's RTO and RPO. --dry-run prints \
            the exact plan and runs nothing, not even the pre hook. Exit: 0 passed, 1 finished but missed \
            a target, 2 stuck, vetoed or refused.
            """)

    @OptionGroup var options: ConfigOptions
    @OptionGroup var target: GroupOptions

    @Flag(help: "A planned switchover (the only kind of drill; required, to say what you mean).")
    var planned = false

    @Option(help: "The standby to switch to (default: the one the election picks).")
    var to: String?

    @Flag(help: "Return to the current primary after verification, as a second drill.")
    var failback = false

    @OptionGroup var execution: RunOptions

    func validate() throws {
        guard planned else { throw ValidationError("say --planned: a drill is a planned switchover") }
    }

    func run() async throws {
        try await execution.execute(.drill(to: to, failback: failback), config: try options.load(), target: target)
    }
}

/// Prints the plan a command would run: from the running controller, else judged on the
/// stored state.
enum PlanPrinter {
    static func print(_ command: GroupCommand, group: String, reader: StateReader, json: Bool) async throws {
        let plan: PlanPreview
        var source = "the running controller"
        do {
            plan = try await reader.livePlan(command, group: group)
        } catch where error.status != nil {
            Terminal.error(error.description)
            throw ExitCode(2)
        } catch {
            do {
                plan = try reader.storedPlan(command, group: group, now: Timestamp(Date()))
                source = "the stored state (no controller answered)"
            } catch {
                Terminal.error("\(error)")
                throw ExitCode(2)
            }
        }
        Swift.print(json ? try Terminal.json(plan) : render(plan, source: source))
    }

    static func render(_ plan: PlanPreview, source: String) -> String {
        var lines = ["Dry run: nothing runs and no hook is asked. Judged on \(source)."]
        lines += block(plan)
        for next in plan.then { lines += [""] + block(next) }
        return lines.joined(separator: "\n")
    }

    private static func block(_ plan: PlanPreview) -> [String] {
        var lines = ["\(plan.kind.rawValue) of \(plan.group): \(plan.from) → \(plan.to) at epoch \(plan.epoch)"]
        if let hook = plan.hook { lines.append("  pre hook (asked first; a non-zero exit vetoes): \(hook)") }
        for step in plan.steps {
            let limits = "timeout \(Duration.milliseconds(step.timeoutMs).text), \(step.retries) retr\(step.retries == 1 ? "y" : "ies"), on failure \(step.onFailure.rawValue)"
            lines.append("  \(step.number). \(step.action)  [\(limits)]")
        }
        return lines
    }
}
