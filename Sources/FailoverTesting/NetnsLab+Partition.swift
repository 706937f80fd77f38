import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension NetnsLab {
    /// When a change of the lab's partition took effect, in milliseconds since 1970 (the
    /// clock `date +%s%3N` reads).
    public struct PartitionChange: Sendable {
        /// Just before the first link changed.
        public let startedMs: Int64
        /// Once every link had changed: no packet crosses a cut link after this.
        public let appliedMs: Int64
        /// The link ends that drop from now on, as `node→peer`, sorted.
        public let dropping: [String]
    }

    /// Partitions the lab into `groups`: every link between nodes of different groups drops
    /// at both ends, every other link carries traffic (so it replaces the previous
    /// partition). Every node must be in exactly one group.
    @discardableResult
    public func partition(_ groups: [[String]]) throws -> PartitionChange {
        var groupOf: [String: Int] = [:]
        for (index, group) in groups.enumerated() {
            for name in group {
                guard groupOf.updateValue(index, forKey: name) == nil, nodes.contains(where: { $0.name == name }) else {
                    throw HarnessError(.command, "partition \(groups): \(name) is unknown or in two groups")
                }
            }
        }
        let missing = nodes.map(\.name).filter { groupOf[$0] == nil }
        guard missing.isEmpty else { throw HarnessError(.command, "partition \(groups) leaves out \(missing)") }
        var wanted: [String: Set<String>] = [:]
        for (a, b) in links where groupOf[a] != groupOf[b] {
            wanted[a, default: []].insert(b)
            wanted[b, default: []].insert(a)
        }
        return try setDropping(wanted)
    }

    /// Cuts `nodes` off from every other node (they still reach each other).
    @discardableResult
    public func isolate(_ names: [String]) throws -> PartitionChange {
        try partition([names, nodes.map(\.name).filter { !names.contains($0) }])
    }

    /// Drops only the packets `from` sends to `to` (an asymmetric cut; `to`'s packets
    /// still arrive), on top of the current partition.
    @discardableResult
    public func dropOneWay(from: String, to: String) throws -> PartitionChange {
        guard peers(of: from).contains(to) else { throw HarnessError(.command, "no link \(from)–\(to)") }
        var wanted = currentDropping()
        wanted[from, default: []].insert(to)
        return try setDropping(wanted)
    }

    /// Every link carries traffic again.
    @discardableResult
    public func heal() throws -> PartitionChange { try setDropping([:]) }

    /// The link ends dropping now, as `node→peer`, sorted.
    public var droppingLinks: [String] { Self.describe(currentDropping()) }

    private func currentDropping() -> [String: Set<String>] {
        lockedDropping { $0 }
    }

    /// Adds and removes drop qdiscs so that exactly `wanted` drop: one `tc -batch` per
    /// namespace that changes, all run at once.
    private func setDropping(_ wanted: [String: Set<String>]) throws -> PartitionChange {
        let current = currentDropping()
        var lines: [String: [String]] = [:]
        for node in nodes.map(\.name) {
            let now = current[node] ?? [], next = wanted[node] ?? []
            lines[node, default: []] += next.subtracting(now).sorted().map {
                "qdisc replace dev to-\($0) root pfifo limit 0"
            }
            lines[node, default: []] += now.subtracting(next).sorted().map { "qdisc del dev to-\($0) root" }
        }
        let started = Self.nowMs()
        var children: [(String, ChildProcess, String)] = []
        for (node, batch) in lines where !batch.isEmpty {
            let file = directory.appendingPathComponent("tc-\(node).batch").path
            let output = directory.appendingPathComponent("tc-\(node).out").path
            try (batch.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: output)
            let argv = command(in: node, [Self.tc, "-batch", file])
            children.append((node, try ChildProcess(argv, environment: [:], outputPath: output), output))
        }
        var failures: [String] = []
        for (node, child, output) in children where child.wait() != 0 {
            failures.append("\(node): " + ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "?"))
        }
        let applied = Self.nowMs()
        let cleaned = wanted.filter { !$0.value.isEmpty }
        lockedDropping { $0 = cleaned }
        guard failures.isEmpty else { throw HarnessError(.command, "tc failed: \(failures.joined(separator: "; "))") }
        return PartitionChange(startedMs: started, appliedMs: applied, dropping: Self.describe(cleaned))
    }

    /// Milliseconds since 1970, as `date +%s%3N` prints them.
    public static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    static func describe(_ dropping: [String: Set<String>]) -> [String] {
        dropping.flatMap { node, peers in peers.map { "\(node)→\($0)" } }.sorted()
    }
}
