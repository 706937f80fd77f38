import FailoverTesting
import Foundation
import Testing

/// The server harness the probe tests rely on: failures carry the log, listeners close.
@Suite struct HarnessTests {
    @Test func aServerThatCannotStartFailsWithItsLog() async throws {
        let server = try ServerProcess(
            name: "broken", executable: "/bin/sh", arguments: ["-c", "echo 'bind failed: marker-42' >&2; exit 3"])
        defer { server.stop() }
        let error = await #expect(throws: HarnessError.self) {
            try await Blocking.run { try server.waitUntilReady(timeout: .seconds(10)) { false } }
        }
        #expect(error?.description.contains("marker-42") == true, "\(String(describing: error))")
        #expect(error?.description.contains("status 3") == true, "\(String(describing: error))")
    }

    @Test func aServerThatNeverGetsReadyFailsAfterTheTimeout() async throws {
        let server = try ServerProcess(
            name: "sleepy", executable: "/bin/sh", arguments: ["-c", "echo still-starting; exec sleep 30"])
        defer { server.stop() }
        let error = await #expect(throws: HarnessError.self) {
            try await Blocking.run { try server.waitUntilReady(timeout: .milliseconds(200)) { false } }
        }
        #expect(error?.description.contains("not ready") == true, "\(String(describing: error))")
        #expect(error?.description.contains("still-starting") == true, "\(String(describing: error))")
        // SIGTERM reaches the child although the test runs on a signal-blocking thread.
        let clock = ContinuousClock()
        let started = clock.now
        let status = try await Blocking.run { server.stop(grace: .seconds(5)) }
        #expect(status != nil)
        #expect(!server.isRunning)
        #expect(started.duration(to: clock.now) < .seconds(1), "stop() needed SIGKILL: SIGTERM was blocked")
        #expect(!server.isRunning)
    }

    @Test func closingAHangingServerClosesItsConnections() async throws {
        let server = try HangingServer()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(server.port).bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        var limit = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        #expect(await server.waitForConnections(1))
        server.close()
        var byte: UInt8 = 0
        let count = read(fd, &byte, 1)
        let readError = errno
        #expect(count == 0 || (count < 0 && readError == ECONNRESET), "the held connection is closed")
        #expect(!FreePort.accepts(port: server.port))
    }
}
