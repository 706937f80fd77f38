import FailoverCore
import Foundation
import Yams

/// Reads a group's `plan:` list. A step is written one of three ways:
///
/// ```yaml
/// - drain                                  # a kind, with the defaults
/// - step: fence                            # a kind with options
///   optional: true
///   timeout: 5s
/// - exec: ["/usr/local/bin/update-cmdb"]   # a command with options
///   on_failure: continue
/// ```
struct PlanLoader {
    /// The group's reader; step keys are `plan[i]` below it.
    let group: YAMLReader

    static let stepKeys: Set<String> = ["exec", "on_failure", "optional", "retries", "step", "timeout"]
    /// The kinds a step may name (exec needs its command, so it has its own form).
    static let namedKinds: [StepKind] = [.drain, .fence, .promote, .ready, .dns, .verify, .rejoin]
    static let optionalOnlyForActions =
        "only applies to drain, fence, promote and dns steps (the ones that use site actions)"

    func load() throws -> ([PlanStep], [ConfigError]) {
        guard let nodes = try group.sequence("plan"), !nodes.isEmpty else {
            throw group.error("plan", "is required: at least one step, e.g. [drain, fence, promote, dns, verify]")
        }
        var steps: [PlanStep] = []
        var places: [ConfigError] = []
        for (index, node) in nodes.enumerated() {
            let key = "plan[\(index)]"
            steps.append(try loadStep(node, key: key))
            places.append(group.error(key, "", node: node))
        }
        return (steps, places)
    }

    private func loadStep(_ node: Node, key: String) throws -> PlanStep {
        guard node.mapping != nil else {
            let text = try group.scalarText(node, key: key)
            return PlanStep(kind: try Self.kind(named: text) { group.error(key, $0, node: node) })
        }
        let r = try YAMLReader(node: node, file: group.file, path: group.keyPath(key), interpolator: group.interpolator)
        try r.rejectUnknown(Self.stepKeys)
        let forms = ["step", "exec"].filter { r.has($0) }
        guard forms.count == 1 else {
            let message =
                forms.isEmpty
                ? "a step needs step: KIND or exec: [program, args...]"
                : "a step has exactly one of step, exec (found both)"
            throw group.error(key, message, node: node)
        }
        var step = try forms == ["exec"] ? execStep(r) : namedStep(r)
        step.timeout = try r.duration("timeout") ?? step.timeout
        step.retries = try r.int("retries", range: 0...10) ?? step.retries
        step.onFailure = try r.choice("on_failure") ?? step.onFailure
        return step
    }

    /// `step: KIND` with `optional` allowed where the kind uses a site action.
    private func namedStep(_ r: YAMLReader) throws -> PlanStep {
        let kind = try Self.kind(named: try r.requiredString("step")) { r.error("step", $0) }
        let optional = try r.bool("optional")
        if optional != nil, !StepKind.siteActionKinds.contains(kind), kind != .rejoin {
            throw r.error("optional", Self.optionalOnlyForActions)
        }
        return PlanStep(kind: kind, optional: optional ?? false)
    }

    /// `exec: [program, args...]`; never optional: its command is right here.
    private func execStep(_ r: YAMLReader) throws -> PlanStep {
        guard let command = try r.command("exec") else {
            throw r.error("exec", "needs a command (argv), e.g. exec: [\"/usr/local/bin/update-cmdb\"]")
        }
        if r.has("optional") {
            throw r.error("optional", Self.optionalOnlyForActions)
        }
        return PlanStep(kind: .exec, command: command)
    }

    /// The kind a plain or `step:` name stands for; `fail` locates the error.
    static func kind(named text: String, fail: (String) -> ConfigError) throws -> StepKind {
        if let kind = namedKinds.first(where: { $0.rawValue == text }) { return kind }
        if text == StepKind.exec.rawValue {
            throw fail("an exec step needs its command: write - exec: [\"/path/to/program\", \"arg\"]")
        }
        let names = namedKinds.map(\.rawValue).joined(separator: ", ")
        throw fail("\"\(text)\" is not a plan step (expected one of: \(names); or exec: [program, args...])")
    }
}
