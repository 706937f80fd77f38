import FailoverTesting
import Foundation

/// What one schedule showed.
struct ChaosOutcome {
    var seed: UInt64
    var faults: Int
    var losses: [ChaosPrimaryLoss]
    var failovers: Int
    var overlaps: [String]
    /// Steps a leader ran again in its own term (see `ChaosInvariants.PlanFindings`).
    var sameTermReruns: [String]
    /// Every violation, overlaps included, each a sentence.
    var violations: [String]
    /// From the healing (every fault undone) to every controller up, and to every view agreeing.
    var upMs: Int64
    var convergedMs: Int64?
    /// Each controller's own events, which every other log holds once.
    var eventsByOrigin: [String: Int]
    var tookMs: Int64

    var line: String {
        let quorate = losses.filter { $0.quorum == .quorate }.count
        return "chaos seed \(seed): \(faults) faults, \(losses.count) primary losses (\(quorate) quorate),"
            + " \(failovers) failovers, \(overlaps.count) overlaps, \(violations.count) violations,"
            + " \(sameTermReruns.count) same-term re-runs;"
            + " up \(ChaosSchedule.seconds(upMs)) and converged"
            + " \(convergedMs.map { ChaosSchedule.seconds($0) } ?? "never") after healing;"
            + " events \(eventsByOrigin.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "));"
            + " took \(ChaosSchedule.seconds(tookMs))"
    }
}

/// How long after the healing every view must agree.
let chaosConvergenceBoundMs: Int64 = 5_000

extension ChaosRunner {
    /// Checks the five invariants once `healEverything` returned.
    func check(healed: (healedMs: Int64, upMs: Int64), startedMs: Int64) throws -> ChaosOutcome {
        var violations: [String] = []
        let upMs = healed.healedMs
        let converged = convergence(since: upMs, violations: &violations)
        try cluster.wait("every step process ended", timeout: 15) { cluster.intervals().allSatisfy { $0.end != nil } }
        let incidents = try reportedIncidents(since: upMs, violations: &violations)
        let (exchange, eventsByOrigin) = exchangedEvents()
        violations += exchange
        let now = NetnsLab.nowMs()
        let overlaps = ChaosInvariants.overlaps(cluster.intervals(), now: now)
        violations += overlaps
        let starts = cluster.planStarts()
        let plans = ChaosInvariants.plans(starts, ends: cluster.stepEnds(), incidents: incidents)
        violations += plans.violations
        let logged = cluster.stepLines().filter { $0.event == "START" }.count
        if logged != starts.count {
            violations.append("the action log has \(logged) STARTs, the plan log \(starts.count)")
        }
        let losses = primaryLosses()
        violations += ChaosInvariants.failovers(losses, incidents)
        return ChaosOutcome(
            seed: schedule.seed, faults: schedule.faults.count, losses: losses,
            failovers: incidents.filter { $0.result == "succeeded" }.count, overlaps: overlaps,
            sameTermReruns: plans.sameTermReruns,
            violations: violations, upMs: healed.upMs - healed.healedMs, convergedMs: converged,
            eventsByOrigin: eventsByOrigin, tookMs: now - startedMs)
    }

    // MARK: 4. status converges

    /// Polls every controller's `/status` and `/groups/web` until they agree (at most 60 s
    /// after `upMs`, the healing); a violation when that took longer than the bound, or
    /// never happened.
    private func convergence(since upMs: Int64, violations: inout [String]) -> Int64? {
        var last: String?
        while NetnsLab.nowMs() < upMs + 60_000 {
            var views: [String: ChaosGroupView?] = [:]
            for id in ChaosCluster.ids {
                let fromStatus = (cluster.status(id)?["groups"] as? [[String: Any]])?.first {
                    $0["name"] as? String == "web"
                }
                views["\(id) /status"] = fromStatus.flatMap(Self.view)
                views["\(id) /groups/web"] = cluster.group(id).flatMap(Self.view)
            }
            last = ChaosInvariants.convergence(views)
            if last == nil {
                let took = NetnsLab.nowMs() - upMs
                if took > chaosConvergenceBoundMs {
                    violations.append("status converged only \(ChaosSchedule.seconds(took)) after the healing")
                }
                return took
            }
            usleep(50_000)
        }
        violations.append("status never converged within 60 s: \(last ?? "?")")
        return nil
    }

    static func view(_ group: [String: Any]) -> ChaosGroupView? {
        guard let primary = group["primary"] as? String, let epoch = group["epoch"] as? Int,
            let phase = group["phase"] as? String
        else { return nil }
        let last = group["last_incident"] as? [String: Any]
        return ChaosGroupView(
            primary: primary, epoch: epoch, phase: phase, lastIncident: last?["id"] as? String ?? "none",
            lastResult: last?["result"] as? String ?? "none")
    }

    // MARK: 3. incidents

    /// `failoverctl report --json` of every controller, until they agree (at most 15 s); a
    /// violation when that was later than the bound after `upMs` (the healing), or never.
    private func reportedIncidents(since upMs: Int64, violations: inout [String]) throws -> [ChaosIncidentFacts] {
        let deadline = NetnsLab.nowMs() + 15_000
        var reports: [String: [ChaosIncidentFacts]] = [:]
        repeat {
            for id in ChaosCluster.ids { reports[id] = try report(id) }
            let shown = ChaosCluster.ids.map { id in "\(id): \(reports[id]!.map { "\($0.id) \($0.result)" })" }
            if Set(reports.values.map { $0.map { [$0.id, $0.result] } }).count == 1 {
                let took = NetnsLab.nowMs() - upMs
                if took > chaosConvergenceBoundMs {
                    violations.append("reports agreed only \(ChaosSchedule.seconds(took)) after the healing")
                }
                return reports[ChaosCluster.ids[0]]!
            }
            if NetnsLab.nowMs() >= deadline {
                violations.append("the controllers' reports differ: \(shown.joined(separator: "; "))")
                return reports[ChaosCluster.ids[0]]!
            }
            usleep(200_000)
        } while true
    }

    private func report(_ id: String) throws -> [ChaosIncidentFacts] {
        let out = try cli(id, ["report", "--group", "web", "--json", "--limit", "1000"])
        guard let items = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] else {
            throw ControllerProcess.Failure("report --json of \(id) is no JSON list: \(out.prefix(300))")
        }
        return items.compactMap { ($0["incident"] as? [String: Any]).flatMap(Self.incident) }.sorted {
            $0.epoch < $1.epoch
        }
    }

    static func incident(_ i: [String: Any]) -> ChaosIncidentFacts? {
        guard let id = i["id"] as? String, let kind = i["kind"] as? String, let from = i["from"] as? String,
            let to = i["to"] as? String, let epoch = i["epoch"] as? Int, let result = i["result"] as? String,
            let decided = (i["decided"] as? NSNumber)?.int64Value
        else { return nil }
        return ChaosIncidentFacts(
            id: id, kind: kind, from: from, to: to, epoch: epoch, result: result, decidedMs: decided)
    }

    // MARK: 5. events

    /// Every controller's `failoverctl events --json`, until they agree (at most 15 s); the
    /// violations of the last reading and how many own events each controller has.
    private func exchangedEvents() -> ([String], [String: Int]) {
        let deadline = NetnsLab.nowMs() + 15_000
        var found: [String] = ["no event log read"]
        var own: [String: Int] = [:]
        repeat {
            var logs: [String: [ChaosEventKey]] = [:]
            for id in ChaosCluster.ids {
                guard let out = try? cli(id, ["events", "--json", "--limit", "100000"]),
                    let items = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]
                else { continue }
                logs[id] = items.compactMap(Self.eventKey)
            }
            found = logs.count == ChaosCluster.ids.count ? ChaosInvariants.exchange(logs) : ["an event log unread"]
            own = logs.mapValues { _ in 0 }
            for (id, keys) in logs { own[id] = keys.filter { $0.controller == id }.count }
            if found.isEmpty { return ([], own) }
            usleep(200_000)
        } while NetnsLab.nowMs() < deadline
        return (found, own)
    }

    static func eventKey(_ e: [String: Any]) -> ChaosEventKey? {
        guard let controller = e["controller"] as? String, let at = (e["at"] as? NSNumber)?.int64Value,
            let kind = e["kind"] as? String
        else { return nil }
        let details = (e["details"]).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        return ChaosEventKey(
            controller: controller, at: at, kind: kind, group: e["group"] as? String, site: e["site"] as? String,
            epoch: e["epoch"] as? Int, details: details.map { String(decoding: $0, as: UTF8.self) } ?? "")
    }

    /// `failoverctl ARGS --config C` run inside controller `id`'s namespace (so it asks that
    /// controller's API); its stdout.
    func cli(_ id: String, _ args: [String]) throws -> String {
        let binary = try BuildProducts.executable("failoverctl")
        let argv = cluster.lab.command(in: id, [binary] + args + ["--config", cluster[id].configPath])
        return try ChildProcess.run(argv, environment: ProcessInfo.processInfo.environment).stdout
    }

    // MARK: 3. losses and the quorum

    /// The primary failures as they ran, each with how the controller quorum stood.
    func primaryLosses() -> [ChaosPrimaryLoss] {
        let ttl = ChaosCluster.leaseTTLms, now = NetnsLab.nowMs()
        let held = records.filter { $0.fault.kind.impairsController }
        let byController = Dictionary(grouping: held, by: \.target)
        let surely = byController.values.flatMap { rs in
            Self.merged(rs.compactMap { r in r.recoveredMs.map { (r.injectedMs + ttl + 500, $0) } })
        }
        let possibly = byController.values.flatMap { rs in
            Self.merged(rs.map { ($0.injectedMs, ($0.recoveredMs ?? now) + Self.rejoinMs) })
        }
        return records.filter { $0.fault.kind == .primaryFailure }.map { r in
            let up = r.recoveredMs ?? now
            return ChaosPrimaryLoss(
                site: r.target, downMs: r.injectedMs, upMs: up,
                quorum: ChaosInvariants.quorum(down: r.injectedMs, up: up, surely: surely, possibly: possibly))
        }
    }

    /// How long after its fault is undone a controller may still be out of the quorum
    /// (started again and its lease granted, or its next keepalive after SIGCONT or a heal).
    static let rejoinMs: Int64 = 2_000

    /// One controller's windows as disjoint ones (two faults of one controller count once).
    static func merged(_ windows: [(Int64, Int64)]) -> [(Int64, Int64)] {
        var result: [(Int64, Int64)] = []
        for w in windows.filter({ $0.0 < $0.1 }).sorted(by: { $0.0 < $1.0 }) {
            if let last = result.last, w.0 <= last.1 {
                result[result.count - 1].1 = max(last.1, w.1)
            } else {
                result.append(w)
            }
        }
        return result
    }
}
