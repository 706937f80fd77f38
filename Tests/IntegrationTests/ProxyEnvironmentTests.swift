import FailoverTesting
import Foundation
import XCTest

/// Probes reach the site itself: proxy variables in the controller's environment (here a
/// proxy that does not exist) change nothing.
final class ProxyEnvironmentTests: XCTestCase {
    func testProbesIgnoreProxyVariables() throws {
        let nginx = try NginxServer([.http])
        defer { nginx.stop() }
        let deadProxy = "http://127.0.0.1:\(try FreePort.tcp())"
        let c = try ControllerProcess(sites: [
            "web": ControllerProcess.site("web", checks: "- name: api\n  http: \(nginx.url())")
        ])
        try c.start(env: [
            "http_proxy": deadProxy, "HTTP_PROXY": deadProxy, "https_proxy": deadProxy, "ALL_PROXY": deadProxy,
        ])
        try c.waitUntilServing()
        try c.waitFor("web up through no proxy") { try c.siteState("web") == "up" }
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }
}
