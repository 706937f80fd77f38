import FailoverCore
import Prometheus

/// The controller's Prometheus metrics, served as `GET /metrics` (docs/metrics.md lists them).
///
/// Two kinds, two sources:
/// - **counters and histograms** (probe durations and results, completed failovers) and the
///   last measured RTO/RPO are recorded when the event happens, into `registry`, which this
///   controller runtime owns (no global `MetricsSystem` bootstrap, so several runtimes in one
///   process keep their own figures);
/// - **state gauges** (verdicts, group state, epoch, coordination, alert outbox) are derived
///   from the status report at scrape time (`exposition(of:)`), so they are always consistent
///   with `GET /status` and cost nothing between scrapes.
///
/// Every series of the first kind is created up front from the configuration: recording a
/// probe is a dictionary look-up and a lock, never an allocation. Label values are only
/// site, check, group and controller names, never a URL, DSN or token.
public final class ControllerMetrics: Sendable {
    /// The registry of the metrics recorded at the event.
    public let registry: PrometheusCollectorRegistry
    /// The `Content-Type` of the exposition (Prometheus text format 0.0.4).
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    /// Upper bounds of the probe duration histogram: loopback probes take well under a
    /// millisecond, a timed-out one as long as its timeout.
    static let probeBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2_500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .microseconds(2_500_000), .seconds(5), .seconds(10),
    ]

    /// The series of one check of one site.
    struct ProbeSeries: Sendable {
        let duration: DurationHistogram
        let ok: Counter
        let fail: Counter
        let inconclusive: Counter
    }

    /// Probe series by site, then check name.
    private let probes: [String: [String: ProbeSeries]]
    /// Completed failovers by group, then kind.
    private let failovers: [String: [RunKind: Counter]]
    /// Each group's RTO target, for `failoverctl_group_rto_target_seconds`.
    let rtoTargets: [(group: String, target: Duration)]

    /// Creates the metrics of `config`'s sites, checks and groups, every counter at zero.
    public init(config: ControllerConfig) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var probes: [String: [String: ProbeSeries]] = [:]
        for site in config.sites {
            var checks: [String: ProbeSeries] = [:]
            for check in site.checks {
                let labels = [("site", site.name), ("check", check.name)]
                func counter(_ result: String) -> Counter {
                    registry.makeCounter(descriptor: Names.probeTotal, labels: labels + [("result", result)])
                }
                checks[check.name] = ProbeSeries(
                    duration: registry.makeDurationHistogram(
                        descriptor: Names.probeDuration, labels: labels + [("kind", check.kind.label)],
                        buckets: Self.probeBuckets),
                    ok: counter("ok"), fail: counter("fail"), inconclusive: counter("inconclusive"))
            }
            probes[site.name] = checks
        }
        self.probes = probes
        var failovers: [String: [RunKind: Counter]] = [:]
        for group in config.groups {
            for kind in RunKind.allCases {
                failovers[group.name, default: [:]][kind] = registry.makeCounter(
                    descriptor: Names.failoversTotal, labels: [("group", group.name), ("kind", kind.rawValue)])
            }
        }
        self.failovers = failovers
        rtoTargets = config.groups.compactMap { group in group.rto.map { (group.name, $0) } }
    }

    /// Records one finished round of `site`: each probe's duration and result. A probe this
    /// controller could not run (inconclusive) is counted but not timed: it did not reach the site.
    public func record(_ round: ProbeRound, site: String) {
        guard let checks = probes[site] else { return }
        for result in round.results {
            guard let series = checks[result.check] else { continue }
            switch result.outcome {
            case .pass:
                series.ok.increment()
                series.duration.record(Self.duration(milliseconds: result.timings.total))
            case .fail:
                series.fail.increment()
                series.duration.record(Self.duration(milliseconds: result.timings.total))
            case .inconclusive:
                series.inconclusive.increment()
            }
        }
    }

    /// Records a failover (or drill, failback, manual switchover) that completed: counts it
    /// and keeps its measured RTO and RPO as the group's last.
    public func recordSucceeded(_ incident: Incident) {
        failovers[incident.group]?[incident.kind]?.increment()
        recordLastMeasures(of: incident)
    }

    /// Keeps `incident`'s RTO and RPO, when measured, as the last of its group (also called
    /// at start-up with the stored last incident, so a restart does not forget them).
    public func recordLastMeasures(of incident: Incident) {
        let labels = [("group", incident.group)]
        if let rto = incident.measures.rtoMs {
            registry.makeGauge(descriptor: Names.lastRTO, labels: labels).set(Double(rto) / 1_000)
        }
        if let bytes = incident.lag?.bytes {
            registry.makeGauge(descriptor: Names.lastRPOBytes, labels: labels).set(Double(bytes))
        }
        if let seconds = incident.lag?.seconds {
            registry.makeGauge(descriptor: Names.lastRPOSeconds, labels: labels).set(seconds)
        }
    }

    /// The text exposition of this moment: the recorded metrics, then the gauges of `report`.
    public func exposition(of report: StatusReport) -> [UInt8] {
        // emit(into:) rather than emitToBuffer(): no buffer kept between scrapes, no copy.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1_024)
        registry.emit(into: &buffer)
        ReportGauges(report: report, rtoTargets: rtoTargets).registry().emit(into: &buffer)
        return buffer
    }

    /// `milliseconds` as a `Duration`, negative and non-finite values as zero.
    static func duration(milliseconds: Double) -> Duration {
        guard milliseconds.isFinite, milliseconds > 0 else { return .zero }
        return .nanoseconds(Int64(min(milliseconds, 1e12) * 1_000_000))
    }
}
