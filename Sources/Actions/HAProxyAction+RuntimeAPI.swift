import FailoverCore

/// The runtime API commands the haproxy plugin uses, with their replies parsed and every
/// failure turned into an `ActionError` (or `CancellationError`).
struct HAProxyRuntimeAPI: Sendable {
    /// Where the API listens.
    let admin: HAProxyOptions.Admin
    /// The bound of one command.
    let timeout: Duration

    /// Runs a command whose success is an empty reply (`set server ...`).
    func command(_ line: String) async throws {
        let reply = try await send(line).trimmingWhitespace
        guard reply.isEmpty else { throw refused(line, reply) }
    }

    /// `srv_admin_state` of each of `servers` in `backend` (`show servers state BACKEND`).
    /// A server the backend lacks is a permanent error.
    func adminStates(backend: String, servers: [String]) async throws -> [String: UInt32] {
        let line = "show servers state \(backend)"
        let reply = try await send(line)
        guard let table = HAProxyTable(spaceSeparated: reply),
            let name = table.column("srv_name"), let state = table.column("srv_admin_state")
        else { throw refused(line, reply) }
        var states: [String: UInt32] = [:]
        for row in table.rows where row.count > max(name, state) {
            states[row[name]] = UInt32(row[state])
        }
        if let missing = servers.first(where: { states[$0] == nil }) {
            let known = states.keys.sorted().joined(separator: ", ")
            throw ActionError.permanent("HAProxy backend \(backend) has no server \(missing) (it has: \(known))")
        }
        return states
    }

    /// The sum of `scur` (current sessions) of `servers` in `backend` (`show stat`).
    func currentSessions(backend: String, servers: [String]) async throws -> Int {
        let reply = try await send("show stat")
        guard let table = HAProxyTable(csv: reply), let proxy = table.column("pxname"),
            let server = table.column("svname"), let scur = table.column("scur")
        else { throw refused("show stat", reply) }
        return table.rows.reduce(0) { sum, row in
            guard row.count > max(proxy, server, scur), row[proxy] == backend, servers.contains(row[server]) else {
                return sum
            }
            return sum + (Int(row[scur]) ?? 0)
        }
    }

    private func send(_ line: String) async throws -> String {
        do {
            return try await SocketExchange.exchange(line, with: admin, timeout: timeout)
        } catch let failure as SocketExchange.Failure {
            throw actionError(failure, line: line)
        }
    }

    private func actionError(_ failure: SocketExchange.Failure, line: String) -> ActionError {
        let api = "HAProxy runtime API at \(admin)"
        switch failure {
        case .setup(let reason): return .failed("\(api): \(reason)", retryable: true)
        case .connect(let reason): return .failed("cannot connect to the \(api): \(reason)", retryable: true)
        case .io(let reason): return .failed("\(api) broke off `\(line)`: \(reason)", retryable: true)
        case .timedOut(let phase):
            let what = phase == "connect" ? "accept a connection" : "answer `\(line)`"
            return .timedOut(after: timeout, detail: "the \(api) did not \(what) in time")
        case .tooLarge(let bytes): return .permanent("the \(api) answered `\(line)` with more than \(bytes) bytes")
        }
    }

    /// HAProxy's one-line refusal (`No such server.`, `Permission denied`) as a permanent error.
    private func refused(_ line: String, _ reply: String) -> ActionError {
        let first = reply.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let text = first.isEmpty ? "an empty reply" : "\"\(String(first.prefix(200)))\""
        let hint = first.contains("Permission denied") ? " (the stats socket needs `level admin`)" : ""
        return .permanent("HAProxy refused `\(line)` with \(text)\(hint)")
    }
}

/// A table HAProxy prints: a `# name name ...` header line, then rows.
struct HAProxyTable {
    /// Column names from the header.
    let columns: [String]
    /// The rows' fields.
    let rows: [[String]]

    /// `show servers state`: a version line, a `# ...` header, space-separated rows.
    init?(spaceSeparated text: String) {
        self.init(text, separator: " ")
    }

    /// `show stat`: a `# ...` CSV header, comma-separated rows.
    init?(csv text: String) {
        self.init(text, separator: ",")
    }

    private init?(_ text: String, separator: Character) {
        let lines = text.split(whereSeparator: \.isNewline)
        guard let headerIndex = lines.firstIndex(where: { $0.hasPrefix("# ") }) else { return nil }
        columns = lines[headerIndex].dropFirst(2).split(separator: separator, omittingEmptySubsequences: false)
            .map(String.init)
        rows = lines[(headerIndex + 1)...].filter { !$0.hasPrefix("#") }.map {
            $0.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// The index of column `name`.
    func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
}
