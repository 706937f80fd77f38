import Foundation
import XCTest

@testable import Controller

/// The status page document: self-contained, and its CSP names exactly its inline style and
/// script (the browser test in IntegrationTests shows the script then really runs).
final class StatusPageTests: XCTestCase {
    func testTheCSPHashesAreThoseOfTheServedStyleAndScript() throws {
        let html = String(decoding: StatusPage.reply.body, as: UTF8.self)
        let script = try XCTUnwrap(Self.inner("script", of: html))
        let style = try XCTUnwrap(Self.inner("style", of: html))
        // Hashed by sha256sum, not by the code under test.
        let csp = StatusPage.contentSecurityPolicy
        XCTAssertTrue(csp.contains("script-src 'sha256-\(try Self.sha256Base64(script))'"), csp)
        XCTAssertTrue(csp.contains("style-src 'sha256-\(try Self.sha256Base64(style))'"), csp)
        XCTAssertTrue(csp.hasPrefix("default-src 'none'; "), csp)
        XCTAssertTrue(csp.contains("connect-src 'self'"), csp)
        XCTAssertFalse(csp.contains("unsafe"), csp)
        XCTAssertEqual(StatusPage.reply.contentType, "text/html; charset=utf-8")
        XCTAssertEqual(StatusPage.reply.headers.first { $0.name == "Content-Security-Policy" }?.value, csp)
    }

    func testThePageLoadsNothingFromElsewhereAndNeverParsesDataAsHTML() {
        let html = String(decoding: StatusPage.reply.body, as: UTF8.self)
        XCTAssertEqual(html.components(separatedBy: "<script").count, 2, "one inline script")
        XCTAssertEqual(html.components(separatedBy: "<style").count, 2, "one inline stylesheet")
        for outside in ["src=", "href=", "http://", "https://", "@import", "url(", "<link", "@font-face"] {
            XCTAssertFalse(html.contains(outside), "the page must not load anything: found \(outside)")
        }
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            XCTAssertFalse(StatusPage.script.contains(sink), "the script must build nodes with textContent: found \(sink)")
        }
        XCTAssertFalse(StatusPage.style.contains("style="), "inline style attributes would need 'unsafe-inline'")
        XCTAssertFalse(html.contains(" style=\""), "inline style attributes would need 'unsafe-inline'")
        XCTAssertTrue(StatusPage.script.contains("getJSON(\"/status\")"))
        XCTAssertTrue(StatusPage.script.contains("getJSON(\"/incidents?limit=20\")"))
    }

    /// The text between `<tag>` and `</tag>`.
    static func inner(_ tag: String, of html: String) -> String? {
        guard let open = html.range(of: "<\(tag)>"), let close = html.range(of: "</\(tag)>", range: open.upperBound..<html.endIndex)
        else { return nil }
        return String(html[open.upperBound..<close.lowerBound])
    }

    /// SHA-256 of `text` in base64, computed by coreutils' `sha256sum`.
    static func sha256Base64(_ text: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let hex = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        p.waitUntilExit()
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(try XCTUnwrap(UInt8(hex[index..<next], radix: 16)))
            index = next
        }
        XCTAssertEqual(bytes.count, 32)
        return Data(bytes).base64EncodedString()
    }
}
