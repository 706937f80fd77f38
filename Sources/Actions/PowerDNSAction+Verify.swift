import FailoverCore
import Foundation

extension PowerDNSAction {
    /// Asks `server` with `dig` until it answers exactly `o.content` for the record, for at
    /// most `o.verifyTimeout`; the sentence saying so, or a retryable error naming the last
    /// answer.
    func verify(_ o: PowerDNSOptions, at server: ListenAddress) async throws -> String {
        let clock = ContinuousClock()
        let start = clock.now
        let record = "\(o.name) \(o.type.rawValue)"
        var last: [String]? = nil
        while true {
            last = try await Self.dig(o, server: server)
            let waited = start.duration(to: clock.now)
            if let last, Self.answers(last, content: o.content, type: o.type) {
                return "\(server) answers \(record) \(o.content) after \(waited.text)"
            }
            if waited >= o.verifyTimeout {
                let shown = last.map { $0.isEmpty ? "no record" : $0.joined(separator: ", ") } ?? "nothing (no reply)"
                let after = o.verifyTimeout.text
                throw ActionError.failed(
                    "the rrset was replaced, but \(server) still answers \(record) with \(shown) after \(after)",
                    retryable: true)
            }
            try await Task.sleep(for: min(digPollInterval, o.verifyTimeout - waited))
        }
    }

    /// Whether `dig +short` lines are the wanted answer: exactly `content` for A and AAAA,
    /// `content` first (the alias, then what it resolves to) for CNAME.
    static func answers(_ lines: [String], content: String, type: DNSRecordType) -> Bool {
        switch type {
        case .a, .aaaa: lines == [content]
        case .cname: lines.first?.lowercased() == content.lowercased()
        }
    }

    /// `dig +short +time=1 +tries=1 @HOST -p PORT NAME TYPE`: the answer's lines, or nil
    /// when dig got no reply (it exits non-zero). Cancellation stops dig.
    static func dig(_ o: PowerDNSOptions, server: ListenAddress) async throws -> [String]? {
        let argv = [
            "dig", "+short", "+time=1", "+tries=1", "@\(server.host)", "-p", String(server.port), o.name,
            o.type.rawValue,
        ]
        let child: Subprocess
        do {
            child = try Subprocess.spawn(argv, environment: ProcessInfo.processInfo.environment, reportMarker: "")
        } catch {
            throw ActionError.permanent("cannot run dig to verify the record (install bind9-dnsutils): \(error.detail)")
        }
        let exit = await withTaskCancellationHandler {
            await child.wait()
        } onCancel: {
            child.stop(grace: .milliseconds(100))
        }
        try Task.checkCancellation()
        guard exit.termination == .exited(0) else { return nil }
        return exit.stdout.tail.split(whereSeparator: \.isNewline).map { String($0).trimmingWhitespace }
            .filter { !$0.isEmpty && !$0.hasPrefix(";") }
    }
}
