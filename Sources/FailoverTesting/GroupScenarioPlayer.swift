import FailoverCore
import Foundation

/// Drives a `GroupFSM` through a `GroupScenario`'s timeline and renders what it does.
struct GroupScenarioPlayer {
    let config: GroupConfig
    let origin = Timestamp(milliseconds: 0)
    var fsm: GroupFSM
    var sites: [String: SiteSnapshot] = [:]
    var quorate = true
    var now = Timestamp(milliseconds: 0)
    /// The step asked for and not yet answered, with when it was asked.
    var pendingStep: (context: RunContext, index: Int, at: Timestamp)?
    var incidents: [String: Incident] = [:]
    var lines: [String] = []

    init(config: GroupConfig) {
        self.config = config
        fsm = GroupFSM(config: config)
    }

    var snapshot: WorldSnapshot {
        WorldSnapshot(at: now, canAct: quorate, whyNot: quorate ? nil : "no quorum", sites: Array(sites.values))
    }

    mutating func play(_ entry: GroupScenario.Entry) throws {
        guard let at = Duration(text: entry.at) else { throw GroupScenario.Invalid(description: "bad at \(entry.at)") }
        now = origin.advanced(by: at)
        if let quorate = entry.quorate { self.quorate = quorate }
        if let changes = entry.sites {
            for (name, text) in changes.sorted(by: { $0.key < $1.key }) { try setSite(name, text) }
        }
        if entry.sites != nil || entry.tick == true || entry.quorate != nil { apply(fsm.observe(snapshot)) }
        if let hook = entry.hook { apply(fsm.hookFinished(allowed: hook == "allow", detail: "exit \(hook == "allow" ? 0 : 1)", at: now)) }
        for (offset, answer) in (entry.steps ?? []).enumerated() {
            now = origin.advanced(by: at + .seconds(offset))
            try answerStep(answer)
        }
        if let command = entry.command { try run(command) }
        if entry.restart == true {
            lines.append("\(time) restart")
            fsm = GroupFSM(config: config, state: fsm.state)
            pendingStep = nil
            apply(fsm.restart(at: now))
        }
    }

    mutating func setSite(_ name: String, _ text: String) throws {
        let words = text.split(separator: " ")
        guard let first = words.first, let verdict = Verdict(rawValue: String(first)) else {
            throw GroupScenario.Invalid(description: "bad site spec \(text)")
        }
        var site = sites[name] ?? SiteSnapshot(name: name, verdict: .unknown)
        if site.verdict != verdict {
            site.verdict = verdict
            site.since = now
            site.firstFail = verdict == .down ? now.advanced(by: .seconds(-2)) : nil
            site.lastOK = verdict == .down ? now.advanced(by: .seconds(-3)) : site.lastOK
        }
        for word in words.dropFirst() {
            let pair = word.split(separator: "=")
            guard pair.count == 2 else { throw GroupScenario.Invalid(description: "bad site option \(word)") }
            switch pair[0] {
            case "lag": site.lag = ReplicationLag(bytes: Int64(pair[1]))
            case "latency": site.latencyMs = Double(pair[1])
            default: throw GroupScenario.Invalid(description: "unknown site option \(word)")
            }
        }
        sites[name] = site
    }

    mutating func answerStep(_ answer: String) throws {
        guard let pending = pendingStep else {
            lines.append("\(time) (no step pending for \"\(answer)\")")
            return
        }
        pendingStep = nil
        let words = answer.split(separator: " ", maxSplits: 1).map(String.init)
        let step = config.plan[pending.index]
        let result: StepRecord.Result
        switch words[0] {
        case "ok": result = .ok
        case "failed": result = .failed
        case "skipped": result = .skipped
        default: throw GroupScenario.Invalid(description: "bad step answer \(answer)")
        }
        let record = StepRecord(
            index: pending.index, kind: step.kind, site: siteOf(step.kind, pending.context), startedAt: pending.at,
            endedAt: now, attempts: result == .failed ? step.retries + 1 : (result == .skipped ? 0 : 1), result: result,
            error: result == .failed ? (words.count > 1 ? words[1] : "failed") : nil)
        var outcome = StepOutcome(record: record, restoredAt: step.kind == .verify && result == .ok ? now : nil)
        for option in words.count > 1 && result == .ok ? words[1].split(separator: " ") : [] {
            let pair = option.split(separator: "=")
            if pair[0] == "lag" { outcome.lag = ReplicationLag(bytes: Int64(pair[1]), seconds: 0) }
            if pair[0] == "ttl" { outcome.dnsTTL = Duration(text: String(pair[1])) }
        }
        lines.append("\(time) step \(pending.index + 1) \(step.kind.rawValue) \(answer)")
        apply(fsm.stepFinished(outcome, at: now))
    }

    mutating func run(_ text: String) throws {
        let words = text.split(separator: " ").map(String.init)
        let command: GroupCommand
        switch words.first {
        case "failover": command = .failover(to: words.count > 1 ? words[1] : "", force: words.contains("--force"))
        case "drill":
            let to = words.count > 1 && !words[1].hasPrefix("--") ? words[1] : nil
            command = .drill(to: to, failback: words.contains("--failback"))
        case "pause": command = .pause
        case "resume": command = .resume
        default: throw GroupScenario.Invalid(description: "unknown command \(text)")
        }
        lines.append("\(time) command \(text)")
        do {
            apply(try fsm.handle(command, snapshot: snapshot))
        } catch {
            lines.append("\(time) refused: \(error.description)")
        }
    }

    mutating func apply(_ effects: [GroupEffect]) {
        for effect in effects {
            switch effect {
            case .event(let e):
                lines.append("\(time) event \(e.kind.rawValue) epoch=\(e.epoch)\(e.site.map { " site=\($0)" } ?? ""): \(e.message)")
            case .saveIncident(let incident):
                incidents[incident.id] = incident
            case .runHook(let context):
                lines.append("\(time) run hook for \(context.incident) (\(context.from) -> \(context.to))")
            case .runStep(let context, let index):
                let kind = config.plan[index].kind
                let site = siteOf(kind, context).map { " on \($0)" } ?? ""
                lines.append("\(time) run step \(index + 1)/\(config.plan.count) \(kind.rawValue)\(site) epoch=\(context.epoch)\(context.drill ? " drill" : "")")
                pendingStep = (context, index, now)
            }
        }
    }

    func siteOf(_ kind: StepKind, _ context: RunContext) -> String? {
        kind == .exec ? nil : (kind.actsOnOldPrimary ? context.from : context.to)
    }

    var time: String { "t=" + (now.since(origin) == .zero ? "0s" : now.since(origin).text) }

    mutating func finish() -> [String] {
        let state = fsm.state
        lines.append("end: primary=\(state.primary) epoch=\(state.epoch) phase=\(fsm.phase)")
        for incident in incidents.values.sorted(by: { $0.epoch < $1.epoch }) {
            let m = incident.measures
            func ms(_ value: Int64?) -> String { value.map { Duration.milliseconds($0).text } ?? "-" }
            lines.append(
                "incident \(incident.id) \(incident.kind.rawValue) \(incident.from)->\(incident.to) \(incident.result.rawValue)"
                    + " rto=\(ms(m.rtoMs)) detection=\(ms(m.detectionMs)) decision=\(ms(m.decisionMs))"
                    + " actuation=\(ms(m.actuationMs)) verification=\(ms(m.verificationMs))"
                    + " rpo=\(incident.lag?.text ?? "-") passed=\(m.passed)")
        }
        return lines
    }
}
