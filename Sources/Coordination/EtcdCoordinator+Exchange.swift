import FailoverCore
import Foundation

/// The event and incident exchange: every controller's events go to `P/events/ID/SEQ` and
/// come back into every other controller's event log.
extension EtcdCoordinator {
    /// Puts this controller's events (by their local id), in transactions of at most 100
    /// events and about 256 KiB (etcd refuses requests above 1.5 MiB), and prunes its events
    /// more than `keep` ids behind the newest. Unleased: events outlive their controller.
    public func upload(events: [Event], keep: Int64 = 10_000) async throws(CoordinationError) {
        guard let lastID = events.last?.id else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var batch: [JSONValue] = []
        var bytes = 0
        for event in events {
            guard let id = event.id, let data = try? encoder.encode(event) else { continue }
            if !batch.isEmpty && (batch.count >= 100 || bytes + data.count > 256 << 10) {
                _ = try await client.txn(compare: [], success: batch)
                batch = []
                bytes = 0
            }
            batch.append(EtcdClient.requestPut(eventKey(me, id), String(decoding: data, as: UTF8.self)))
            bytes += data.count
        }
        if !batch.isEmpty { _ = try await client.txn(compare: [], success: batch) }
        if lastID > keep {
            _ = try await client.txn(
                compare: [], success: [EtcdClient.requestDelete(from: "\(eventsPrefix)\(me)/", to: eventKey(me, lastID - keep))])
        }
    }

    /// Other controllers' events and every incident changed after revision `after`, oldest
    /// first, with the revision to continue from. A page never ends inside a revision (one
    /// upload transaction puts many events at one revision): a full page gives back its last
    /// revision's events to the next call, or, when the page is all one revision, that
    /// revision is read whole.
    public func download(after: Int64, limit: Int = 500) async throws(CoordinationError) -> Exchange {
        let reply = try await client.txn(
            compare: [],
            success: [
                .object(["request_range": EtcdClient.range(prefix: eventsPrefix, minModRevision: after + 1, limit: limit, sortByModification: true)]),
                .object(["request_range": EtcdClient.range(prefix: incidentsPrefix, minModRevision: after + 1, sortByModification: true)]),
            ])
        var eventKVs = reply.range(0)
        var cursor = reply.header?.revision ?? after
        if limit > 0, eventKVs.count >= limit, let last = eventKVs.last?.modRevision {
            if eventKVs.first?.modRevision == last {
                let whole = try await client.range(prefix: eventsPrefix, minModRevision: last, maxModRevision: last)
                eventKVs = whole.pairs
                cursor = last
            } else {
                eventKVs.removeAll { $0.modRevision == last }
                cursor = last - 1
            }
        }
        let mine = "\(eventsPrefix)\(me)/"
        var events: [(origin: String, event: Event)] = []
        for kv in eventKVs where !kv.key.hasPrefix(mine) {
            guard var event = try? JSONDecoder().decode(Event.self, from: Data(kv.value.utf8)) else { continue }
            event.id = nil
            // The key names the controller and its local id; the time and kind tell a reused
            // id (a controller whose state was wiped) from a re-sent event.
            events.append(("\(kv.key)@\(event.at.milliseconds)/\(event.kind.rawValue)", event))
        }
        let incidents = reply.range(1).filter { $0.modRevision <= cursor }.compactMap {
            try? JSONDecoder().decode(Incident.self, from: Data($0.value.utf8))
        }
        return Exchange(events: events, incidents: incidents, cursor: max(cursor, after))
    }

    func eventKey(_ controller: String, _ id: Int64) -> String {
        let digits = String(id)
        return "\(eventsPrefix)\(controller)/\(String(repeating: "0", count: max(0, 16 - digits.count)))\(digits)"
    }
}

/// What other controllers recorded since a revision.
public struct Exchange: Sendable {
    /// Their events, each with the etcd key it came from (unique, for de-duplication).
    public var events: [(origin: String, event: Event)]
    /// Incidents written since.
    public var incidents: [Incident]
    /// The revision to continue from.
    public var cursor: Int64
}
