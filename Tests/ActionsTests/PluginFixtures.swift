import Actions
import FailoverCore
import FailoverTesting
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Shared inputs of the LB and DNS plugin tests against real servers.
enum PluginFixture {
    /// One attempt of `spec` as a `kind` step of east (drain/fence: east is the failed
    /// primary; promote/dns: east is the target).
    static func request(_ spec: ActionSpec, kind: StepKind, timeout: Duration = .seconds(10)) -> ActionRequest {
        ActionRequest(context: Fixture.context(), step: step(spec, kind: kind, timeout: timeout), timeout: timeout)
    }

    /// A resolved step running `spec` on east.
    static func step(_ spec: ActionSpec, kind: StepKind, timeout: Duration = .seconds(10), retries: Int = 2)
        -> ResolvedStep
    {
        Fixture.step(kind, site: "east", action: .plugin(spec), timeout: timeout, retries: retries)
    }

    /// A step runner with the built-in plugins (or `plugins` by name) and a tiny backoff
    /// (5 ms, 10 ms, ...).
    static func runner(_ observer: RecordingObserver, plugins: [String: any ActionPlugin] = [:]) -> StepRunner {
        StepRunner(
            registry: PluginRegistry(plugins: plugins), observer: observer, wallClock: ManualWallClock(),
            backoff: Backoff(base: .milliseconds(5), cap: .milliseconds(20)))
    }

    /// Runs `body`, prints `timing: label: N ms` (quoted in reports) and returns its result
    /// with the elapsed time.
    static func timed<T>(_ label: String, _ body: () async throws -> T) async throws -> (T, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await body()
        let elapsed = start.duration(to: clock.now)
        print("timing: \(label): \(String(format: "%.1f", elapsed.fractionalMilliseconds)) ms")
        return (result, elapsed)
    }

    /// Every text a step's outcome and observer show, for secret checks.
    static func texts(_ outcome: StepOutcome, _ observer: RecordingObserver) -> String {
        var parts = outcome.record.changed + [outcome.record.error ?? ""]
        for call in observer.calls {
            if case .attemptFailed(_, let error, _) = call { parts.append(error) }
        }
        return parts.joined(separator: "\n")
    }
}

/// A plain TCP client connection to 127.0.0.1 held open until `close()` (a session through
/// HAProxy's frontend).
final class HeldConnection: @unchecked Sendable {
    private var fd: Int32

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, connected == 0 else { throw CocoaError(.fileReadUnknown) }
    }

    /// Closes the connection; idempotent.
    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}

/// A `Logger` at `trace` that keeps every message with its metadata, to check that
/// nothing a plugin logs holds a secret.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    /// A logger writing here.
    var logger: Logger {
        var logger = Logger(label: "test.capture") { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Everything logged so far, one line per message.
    var text: String { lock.withLock { lines.joined(separator: "\n") } }

    fileprivate func append(_ line: String) { lock.withLock { lines.append(line) } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            log.append("\(event.level) \(event.message) \(merged)")
        }
    }
}
