import FailoverCore
import Foundation
import Yams

/// Reads `alerts:` (a list of sinks) and `runbook_url:` from the controller file.
///
/// ```yaml
/// alerts:
///   - pagerduty: { routing_key: "${PAGERDUTY_ROUTING_KEY}" }   # url: overridable for tests
///     min_severity: error
///   - slack: { webhook_url: "${SLACK_WEBHOOK_URL}" }
///     events: [site_down, site_up, failover_started, failover_succeeded, failover_failed]
///   - webhook: { url: "https://…", headers: { X-Token: "${HOOK_TOKEN}" } }
///     name: ops-hook
/// ```
/// Errors never quote a routing key, a webhook URL or a header value.
struct AlertLoader {
    let root: YAMLReader

    static let sinkKeys: Set<String> = ["pagerduty", "slack", "webhook", "name", "min_severity", "events"]
    static let pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

    func load() throws -> AlertConfig {
        var config = AlertConfig(runbookBaseURL: try runbookURL())
        for (index, node) in (try root.sequence("alerts") ?? []).enumerated() {
            let reader = try YAMLReader(node: node, file: root.file, path: "alerts[\(index)]", interpolator: root.interpolator)
            let sink = try loadSink(reader, index: index)
            if config.sinks.contains(where: { $0.name == sink.name }) {
                throw reader.error("name", "two alert sinks are named \"\(sink.name)\" (set name: on one)")
            }
            config.sinks.append(sink)
        }
        return config
    }

    private func runbookURL() throws -> String? {
        guard let text = try root.nonEmptyString("runbook_url") else { return nil }
        guard let parts = URLComponents(string: text), ["http", "https", "file"].contains(parts.scheme ?? "") else {
            throw root.error("runbook_url", "\"\(text)\" is not an http(s):// or file:// URL")
        }
        return text.hasSuffix("/") ? text : text + "/"
    }

    private func loadSink(_ r: YAMLReader, index: Int) throws -> AlertSink {
        try r.rejectUnknown(Self.sinkKeys)
        let kinds = ["pagerduty", "slack", "webhook"].filter { r.node($0) != nil }
        guard kinds.count == 1, let kind = kinds.first else {
            throw ConfigError(
                file: r.file, line: r.mark?.line, key: r.path, message: "an alert sink has exactly one of pagerduty, slack, webhook")
        }
        guard let options = try r.object(kind) else { throw r.error(kind, "needs its options") }
        let target = try loadTarget(kind, options)
        var sink = AlertSink(name: try r.name("name") ?? kind, target: target)
        if r.node("name") == nil, index > 0 { sink.name = "\(kind)-\(index)" }
        sink.minSeverity = try r.choice("min_severity", as: AlertSeverity.self)
        if let nodes = try r.sequence("events") {
            sink.kinds = Set(try nodes.enumerated().map { i, node in
                let text = try r.scalarText(node, key: "events[\(i)]")
                guard let kind = AlertKind(rawValue: text) else {
                    throw r.error("events", "\"\(text)\" is not an alert kind (\(AlertKind.allCases.map(\.rawValue).joined(separator: ", ")))", node: node)
                }
                return kind
            })
        }
        return sink
    }

    private func loadTarget(_ kind: String, _ o: YAMLReader) throws -> AlertSink.Target {
        switch kind {
        case "pagerduty":
            try o.rejectUnknown(["routing_key", "url"])
            guard let key = try o.nonEmptyString("routing_key") else { throw o.error("routing_key", "is required") }
            return .pagerDuty(routingKey: key, url: try url(o, "url") ?? Self.pagerDutyURL)
        case "slack":
            try o.rejectUnknown(["webhook_url"])
            guard let url = try url(o, "webhook_url") else { throw o.error("webhook_url", "is required") }
            return .slack(webhookURL: url)
        default:
            try o.rejectUnknown(["url", "headers"])
            guard let url = try url(o, "url") else { throw o.error("url", "is required") }
            let headers = try o.stringMap("headers") ?? [:]
            for (name, value) in headers where name.isEmpty || value.contains(where: \.isNewline) || name.contains(where: { !$0.isASCII || $0 == ":" || $0.isWhitespace }) {
                throw o.error("headers", "the header \"\(name)\" is not a valid HTTP header (its value is not shown)")
            }
            return .webhook(url: url, headers: headers)
        }
    }

    /// An http(s) URL; the error never quotes it (webhook URLs are secrets).
    private func url(_ o: YAMLReader, _ key: String) throws -> String? {
        guard let text = try o.nonEmptyString(key) else { return nil }
        guard let parts = URLComponents(string: text), ["http", "https"].contains(parts.scheme ?? ""), parts.host?.isEmpty == false
        else { throw o.error(key, "is not an http:// or https:// URL with a host (the value is not shown: it may be a secret)") }
        return text
    }
}
