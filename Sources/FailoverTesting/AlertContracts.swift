import Foundation

/// The documented behaviour of the receivers alerts go to, for `ContractServer`.
public enum AlertContracts {
    /// PagerDuty Events API v2 (`POST /v2/enqueue`): 202 with `dedup_key` for a valid event
    /// carrying `routingKey`; 400 `invalid event` with the reasons otherwise.
    public static func pagerDuty(routingKey: String) -> @Sendable (ContractServer.Request) -> ContractServer.Reply {
        { request in
            guard request.method == "POST", request.path == "/v2/enqueue" else { return .init(404, "not found") }
            guard let event = request.json else { return invalid(["Event object is not JSON"]) }
            var errors: [String] = []
            if event["routing_key"] as? String != routingKey { errors.append("'routing_key' is invalid") }
            let action = event["event_action"] as? String ?? ""
            if !["trigger", "acknowledge", "resolve"].contains(action) { errors.append("'event_action' is invalid") }
            let dedup = event["dedup_key"] as? String
            if let dedup, dedup.count > 255 { errors.append("'dedup_key' is longer than 255") }
            if action != "trigger", dedup == nil { errors.append("'dedup_key' is missing") }
            if action == "trigger" { errors += payloadErrors(event["payload"] as? [String: Any]) }
            if let links = event["links"] {
                let valid = (links as? [[String: Any]])?.allSatisfy { $0["href"] is String } ?? false
                if !valid { errors.append("'links' must be objects with an 'href'") }
            }
            guard errors.isEmpty else { return invalid(errors) }
            let key = dedup ?? UUID().uuidString
            return .init(202, #"{"status":"success","message":"Event processed","dedup_key":"\#(key)"}"#)
        }
    }

    private static func payloadErrors(_ payload: [String: Any]?) -> [String] {
        guard let payload else { return ["'payload' is missing"] }
        var errors: [String] = []
        let summary = payload["summary"] as? String ?? ""
        if summary.isEmpty || summary.count > 1_024 { errors.append("'payload.summary' must have 1 to 1024 characters") }
        if (payload["source"] as? String ?? "").isEmpty { errors.append("'payload.source' is missing") }
        if !["critical", "error", "warning", "info"].contains(payload["severity"] as? String ?? "") {
            errors.append("'payload.severity' is invalid")
        }
        return errors
    }

    private static func invalid(_ errors: [String]) -> ContractServer.Reply {
        let list = errors.map { "\"\($0)\"" }.joined(separator: ",")
        return .init(400, #"{"status":"invalid event","message":"Event object is invalid","errors":[\#(list)]}"#)
    }

    /// A Slack incoming webhook at `path`: 200 `ok` for a JSON message with `text` or
    /// `blocks`; 400 `invalid_payload`; 404 `no_service` for another path.
    public static func slack(path: String) -> @Sendable (ContractServer.Request) -> ContractServer.Reply {
        { request in
            guard request.method == "POST", request.path == path else { return .init(404, "no_service") }
            guard let message = request.json, message["text"] is String || message["blocks"] is [Any] else {
                return .init(400, "invalid_payload")
            }
            return .init(200, "ok")
        }
    }

    /// A generic webhook that takes any JSON object with the header `name: value`.
    public static func webhook(header name: String, value: String) -> @Sendable (ContractServer.Request) -> ContractServer.Reply {
        { request in
            guard request.headers[name.lowercased()] == value else { return .init(401, "unauthorized") }
            return request.json == nil ? .init(400, "not JSON") : .init(200, "")
        }
    }
}
