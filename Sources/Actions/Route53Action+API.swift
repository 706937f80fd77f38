import CurlHTTP
import FailoverCore
import Foundation

/// The three Route 53 calls of the plugin.
extension Route53Action {
    /// The API version's path prefix.
    static let prefix = "/2013-04-01"

    /// The record set named `o.name` of type `o.type`, or nil when the zone has none.
    func currentRecordSet(_ o: Route53Options, _ api: AWSCall) async throws -> Route53RecordSet? {
        let query = [
            (name: "name", value: o.name), (name: "type", value: o.type.rawValue), (name: "maxitems", value: "1"),
        ]
        let path = "\(Self.prefix)/hostedzone/\(PluginHTTP.segment(o.zoneID))/rrset"
        let response = try await api.send(.get, path: path, query: query)
        guard (200..<300).contains(response.status) else {
            throw api.error(response, doing: "reading \(o.name) \(o.type.rawValue) in zone \(o.zoneID)")
        }
        guard let root = AWSXMLNode.parse(response.body), let sets = root.child("ResourceRecordSets") else {
            throw ActionError.failed(
                "\(api.http.service) answered ListResourceRecordSets with something that is not XML")
        }
        // The list starts at name/type in Route 53's order: its first set may be another record.
        for set in sets.children("ResourceRecordSet") {
            let name = set.string("Name") ?? ""
            let type = set.string("Type") ?? ""
            guard Self.sameName(name, o.name), type == o.type.rawValue, set.child("SetIdentifier") == nil else {
                continue
            }
            let values =
                set.child("ResourceRecords")?.children("ResourceRecord").compactMap { $0.string("Value") } ?? []
            return Route53RecordSet(
                name: name, type: type, ttl: set.string("TTL").flatMap { Int64($0) }, values: values)
        }
        return nil
    }

    /// Sends the UPSERT; returns the change's id and status.
    func upsert(_ o: Route53Options, _ api: AWSCall) async throws -> Route53Change {
        let path = "\(Self.prefix)/hostedzone/\(PluginHTTP.segment(o.zoneID))/rrset"
        let response = try await api.send(
            .post, path: path, body: Data(Self.changeBatch(o).utf8), contentType: "application/xml")
        guard (200..<300).contains(response.status) else {
            throw api.error(response, doing: "UPSERT of \(o.name) \(o.type.rawValue) in zone \(o.zoneID)")
        }
        guard let root = AWSXMLNode.parse(response.body), let id = root.string("ChangeInfo", "Id"), !id.isEmpty else {
            throw ActionError.failed("\(api.http.service) answered the UPSERT without a ChangeInfo id")
        }
        let bare = id.hasPrefix("/change/") ? String(id.dropFirst("/change/".count)) : id
        return Route53Change(id: bare, status: root.string("ChangeInfo", "Status") ?? "PENDING")
    }

    /// The change's status (`PENDING`, `INSYNC`) from `GetChange`.
    func changeStatus(_ id: String, _ api: AWSCall) async throws -> String {
        let response = try await api.send(.get, path: "\(Self.prefix)/change/\(PluginHTTP.segment(id))")
        guard (200..<300).contains(response.status) else {
            throw api.error(response, doing: "GetChange of \(id)")
        }
        guard let status = AWSXMLNode.parse(response.body)?.string("ChangeInfo", "Status"), !status.isEmpty else {
            throw ActionError.failed("\(api.http.service) answered GetChange of \(id) without a status")
        }
        return status
    }

    /// The `ChangeResourceRecordSetsRequest` body: one UPSERT of `o`'s record set.
    static func changeBatch(_ o: Route53Options) -> String {
        let records = o.values.map { "<ResourceRecord><Value>\(xmlEscaped($0))</Value></ResourceRecord>" }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">\
            <ChangeBatch><Comment>failoverctl</Comment><Changes><Change><Action>UPSERT</Action>\
            <ResourceRecordSet><Name>\(xmlEscaped(o.name))</Name><Type>\(o.type.rawValue)</Type>\
            <TTL>\(o.ttl.wholeSeconds)</TTL><ResourceRecords>\(records)</ResourceRecords></ResourceRecordSet>\
            </Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>
            """
    }

    /// Whether two DNS names are the same (case and trailing dot aside).
    static func sameName(_ a: String, _ b: String) -> Bool {
        func norm(_ s: String) -> String { (s.hasSuffix(".") ? String(s.dropLast()) : s).lowercased() }
        return norm(a) == norm(b)
    }
}
