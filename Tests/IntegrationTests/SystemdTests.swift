import FailoverTesting
import Foundation
import XCTest

/// The systemd unit verifies, and the controller speaks sd_notify: READY=1 once its API
/// serves, WATCHDOG=1 while rounds complete, STOPPING=1 on SIGTERM.
final class SystemdTests: XCTestCase {
    func testTheUnitFileVerifies() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let unit = try String(contentsOf: repo.appendingPathComponent("deploy/systemd/failoverctl.service"), encoding: .utf8)
        // verify checks that ExecStart's program exists: point it at the binary under test.
        let binary = try BuildProducts.executable("failoverctl")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("fo-unit-\(UUID().uuidString.prefix(8))/failoverctl.service")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
        try unit.replacingOccurrences(of: "/usr/local/bin/failoverctl", with: binary).write(to: copy, atomically: true, encoding: .utf8)
        let c = try ControllerProcess(sites: ["a": ControllerProcess.site("a", checks: "- tcp: 127.0.0.1:9")])
        let result = try c.run(["/usr/bin/systemd-analyze", "verify", copy.path], direct: true)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(result.stderr, "", "systemd-analyze has remarks")
        XCTAssertTrue(unit.contains("Type=notify") && unit.contains("AmbientCapabilities=CAP_NET_RAW"))
    }

    func testReadyWatchdogAndStoppingAreSent() throws {
        let socketPath = FileManager.default.temporaryDirectory.appendingPathComponent("fo-notify-\(UUID().uuidString.prefix(8)).sock").path
        let fd = try Self.datagramSocket(at: socketPath)
        defer {
            close(fd)
            unlink(socketPath)
        }
        let listener = try TCPListener()
        let c = try ControllerProcess(sites: [
            "a": ControllerProcess.site("a", interval: "100ms", timeout: "80ms", checks: "- tcp: 127.0.0.1:\(listener.port)")
        ])
        try c.start(env: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "400000"])
        let first = try XCTUnwrap(Self.receive(fd), c.logTail())
        XCTAssertTrue(first.hasPrefix("READY=1\nSTATUS=probing 1 sites"), first)
        XCTAssertNotNil(try c.get("/healthz"), "READY=1 comes once the API serves")
        var watchdogs = 0
        for _ in 0..<3 where Self.receive(fd) == "WATCHDOG=1" { watchdogs += 1 }
        XCTAssertEqual(watchdogs, 3)
        XCTAssertEqual(c.stop(), 0, c.logTail())
        // Everything was sent before the process exited: drain what is queued.
        var short = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &short, socklen_t(MemoryLayout<timeval>.size))
        var last = ""
        while let message = Self.receive(fd) { last = message }
        XCTAssertEqual(last, "STOPPING=1")
        listener.close()
    }

    static func datagramSocket(at path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw ControllerProcess.Failure("cannot bind \(path): errno \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// The next datagram, or nil after the socket's receive timeout.
    static func receive(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }
}
