import FailoverCore
import Foundation

/// Turns an `Alert` into the request body each kind of sink expects.
public enum AlertRendering {
    /// The JSON body for `target` (PagerDuty's includes its routing key: render at send
    /// time, never store the result).
    public static func body(_ alert: Alert, for target: AlertSink.Target, runbookBaseURL: String?) -> Data {
        let runbook = alert.runbook.flatMap { name in runbookBaseURL.map { $0 + name } }
        let value: JSONValue
        switch target {
        case .pagerDuty(let routingKey, _): value = pagerDuty(alert, routingKey: routingKey, runbook: runbook)
        case .slack: value = slack(alert, runbook: runbook)
        case .webhook: value = webhook(alert, runbook: runbook)
        }
        return Data(value.jsonText.utf8)
    }

    /// PagerDuty Events API v2: a trigger with payload and links, or a resolve by `dedup_key`.
    static func pagerDuty(_ alert: Alert, routingKey: String, runbook: String?) -> JSONValue {
        var event: [String: JSONValue] = [
            "routing_key": .string(routingKey), "event_action": .string(alert.action.rawValue),
            "dedup_key": .string(String(alert.key.prefix(255))),
        ]
        guard alert.action == .trigger else { return .object(event) }
        var payload: [String: JSONValue] = [
            "summary": .string(String(alert.summary.prefix(1_024))), "source": .string(alert.controller),
            "severity": .string(alert.severity.rawValue), "timestamp": .string(alert.at.description),
            "class": .string(alert.kind.rawValue), "custom_details": .object(facts(alert)),
        ]
        if let site = alert.site { payload["component"] = .string(site) }
        if let group = alert.group { payload["group"] = .string(group) }
        event["payload"] = .object(payload)
        event["client"] = .string("failoverctl")
        if let runbook { event["links"] = .array([.object(["href": .string(runbook), "text": .string("Runbook")])]) }
        return .object(event)
    }

    /// A Slack message: a headline, the facts, the RTO phases when measured, the runbook.
    static func slack(_ alert: Alert, runbook: String?) -> JSONValue {
        let icon = alert.action == .resolve ? ":white_check_mark:" : [.critical: ":rotating_light:", .error: ":red_circle:", .warning: ":warning:"][alert.severity] ?? ":information_source:"
        let title = "\(icon) *\(alert.action == .resolve ? "RESOLVED" : alert.severity.rawValue.uppercased())* `\(alert.kind.rawValue)`"
        var blocks: [JSONValue] = [section("\(title)\n\(alert.summary)")]
        let location = [alert.group.map { "group *\($0)*" }, alert.site.map { "site *\($0)*" }, alert.epoch.map { "epoch \($0)" }]
            .compactMap { $0 } + ["controller \(alert.controller)", alert.at.description]
        blocks.append(.object(["type": .string("context"), "elements": .array([mrkdwn(location.joined(separator: " · "))])]))
        if let phases = phases(alert) { blocks.append(section(phases)) }
        if let runbook { blocks.append(section("<\(runbook)|Runbook>")) }
        return .object(["text": .string(String("\(alert.kind.rawValue): \(alert.summary)".prefix(3_000))), "blocks": .array(blocks)])
    }

    /// The generic webhook: the alert itself, with the runbook URL.
    static func webhook(_ alert: Alert, runbook: String?) -> JSONValue {
        var value = (try? JSONValue(encoding: alert)) ?? .null
        if case .object(var object) = value {
            object["runbook_url"] = runbook.map(JSONValue.string) ?? .null
            object["version"] = .number(1)
            value = .object(object)
        }
        return value
    }

    /// `RTO 4.2s = detection 3s + decision 1ms + actuation 1.1s + verification 100ms`.
    static func phases(_ alert: Alert) -> String? {
        guard let measures = alert.details["measures"], let rto = measures["rto_ms"]?.numberValue else { return nil }
        let parts = [("detection", "detection_ms"), ("decision", "decision_ms"), ("actuation", "actuation_ms"), ("verification", "verification_ms")]
            .compactMap { name, key in measures[key]?.numberValue.map { "\(name) \(Duration.milliseconds(Int64($0)).text)" } }
        return "*RTO \(Duration.milliseconds(Int64(rto)).text)* = " + parts.joined(separator: " + ")
    }

    private static func facts(_ alert: Alert) -> [String: JSONValue] {
        var facts = alert.details
        facts["event_id"] = .number(Double(alert.eventID))
        if let epoch = alert.epoch { facts["epoch"] = .number(Double(epoch)) }
        return facts
    }

    private static func section(_ text: String) -> JSONValue {
        .object(["type": .string("section"), "text": mrkdwn(String(text.prefix(3_000)))])
    }

    private static func mrkdwn(_ text: String) -> JSONValue { .object(["type": .string("mrkdwn"), "text": .string(text)]) }
}
