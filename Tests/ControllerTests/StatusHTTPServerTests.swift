import XCTest

@testable import Controller

/// Request parsing of the API's small HTTP server (the wire is tested through the binary).
final class StatusHTTPServerTests: XCTestCase {
    func testRequestLineWithPercentEncodedQuery() throws {
        let request = try StatusHTTPServer.parse(head: "GET /events?site=east%2D1&since=10m&kind HTTP/1.1\r\nHost: x").get()
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.path, "/events")
        XCTAssertEqual(request.query, ["site": "east-1", "since": "10m", "kind": ""])
    }

    func testMalformedRequestsAreBadRequests() {
        for head in ["GET /status", "GET status HTTP/1.1", "BREW /pot HTCPCP/1.0", "GET /a?x=%zz HTTP/1.1", ""] {
            guard case .failure(let reply) = StatusHTTPServer.parse(head: head) else {
                return XCTFail("accepted \(head.debugDescription)")
            }
            XCTAssertEqual(reply.status, 400, head)
        }
    }

    func testHeadersAreParsedWithLowerCaseNames() throws {
        let head = "POST /groups/web/drill HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc def\r\nContent-Length:  12"
        let request = try StatusHTTPServer.parse(head: head).get()
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.headers["authorization"], "Bearer abc def")
        XCTAssertEqual(request.headers["content-length"], "12")
        guard case .failure(let reply) = StatusHTTPServer.parse(head: "GET / HTTP/1.1\r\nno colon here") else {
            return XCTFail("accepted a header line without a colon")
        }
        XCTAssertEqual(reply.status, 400)
    }

    func testTheBearerTokenIsComparedWhole() {
        XCTAssertTrue(APIServer.constantTimeEqual(Array("secret-token".utf8), Array("secret-token".utf8)))
        XCTAssertFalse(APIServer.constantTimeEqual(Array("secret-toke".utf8), Array("secret-token".utf8)))
        XCTAssertFalse(APIServer.constantTimeEqual(Array("secret-tokeN".utf8), Array("secret-token".utf8)))
        XCTAssertFalse(APIServer.constantTimeEqual([], Array("secret-token".utf8)))
    }
}
