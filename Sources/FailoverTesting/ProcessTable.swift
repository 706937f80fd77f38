import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What /proc says about processes that are not the test's children (a command's guard,
/// its command and their children): nothing can be waited on for those.
public enum ProcessTable {
    /// A process's state letter, parent and process group, from `/proc/PID/stat`.
    public struct Entry: Equatable, Sendable {
        public var state: Character
        public var parent: pid_t
        public var group: pid_t
        /// Running, sleeping or stopped: anything but a zombie (`Z`) or dead (`X`).
        public var live: Bool { state != "Z" && state != "X" }
    }

    /// `pid`'s entry, or nil when it is gone.
    public static func entry(_ pid: pid_t) -> Entry? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // `PID (COMM) S PPID PGRP ...`; COMM may hold spaces and parentheses: cut at the last ')'.
        guard let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = String(decoding: buffer[(close + 1)..<count], as: UTF8.self).split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let parent = pid_t(fields[1]),
            let group = pid_t(fields[2])
        else { return nil }
        return Entry(state: state, parent: parent, group: group)
    }

    /// The live (non-zombie) processes whose process group is `group`: one pass over /proc.
    public static func liveMembers(ofGroup group: pid_t) -> [pid_t] {
        allPIDs().filter { entry($0).map { $0.group == group && $0.live } ?? false }
    }

    /// The live processes whose parent is `pid`: one pass over /proc.
    public static func children(of pid: pid_t) -> [pid_t] {
        allPIDs().filter { ProcessTable.entry($0).map { $0.parent == pid && $0.live } ?? false }
    }

    private static func allPIDs() -> [pid_t] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var pids: [pid_t] = []
        while let item = readdir(dir) {
            let name = withUnsafeBytes(of: item.pointee.d_name) {
                String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
            }
            if let pid = pid_t(name) { pids.append(pid) }
        }
        return pids
    }

    /// How long until no live process is left in `group`, scanning /proc in a tight loop
    /// from now; nil when some still live after `bound`.
    public static func timeUntilEmpty(_ group: pid_t, bound: Duration = .seconds(3)) -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < bound {
            if liveMembers(ofGroup: group).isEmpty { return ContinuousClock.now - start }
        }
        return nil
    }
}

/// A named pipe a command writes one line to when it is ready (`echo ... > PATH`): the
/// test awaits that line with poll() instead of polling a file.
public final class Rendezvous: @unchecked Sendable {
    /// Where the command writes.
    public let path: String
    private let fd: Int32

    /// A FIFO in `directory`, opened for reading without waiting for a writer.
    public init(in directory: String, name: String = "ready") throws {
        path = directory + "/" + name
        guard mkfifo(path, 0o600) == 0 else { throw Failure("mkfifo \(path): \(String(cString: strerror(errno)))") }
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// `line(within:)` for async tests: it waits on a thread of its own, so no concurrency
    /// thread is blocked while the command (started by another task) writes.
    public func awaitLine(within bound: Duration = .seconds(10)) async throws -> String {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<String, any Error>) in
            let thread = Thread { [self] in c.resume(with: Result { try self.line(within: bound) }) }
            thread.start()
        }
    }

    /// The first line written, waiting at most `bound` for it.
    public func line(within bound: Duration = .seconds(10)) throws -> String {
        let deadline = ContinuousClock.now + bound
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while !text.contains(UInt8(ascii: "\n")) {
            let left = Int(ContinuousClock.now.duration(to: deadline).wholeMilliseconds)
            guard left > 0 else { throw Failure("nothing written to \(path) within \(bound)") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left)) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { text += buffer[0..<count] } else if count == 0 { break }
        }
        return String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}

extension Duration {
    /// Whole milliseconds (for poll timeouts).
    fileprivate var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
