import FailoverCore
import Foundation
import Yams

/// Reads one `sites/*.yaml` file.
struct SiteLoader {
    let reader: YAMLReader

    static let siteKeys: Set<String> = [
        "name", "region", "interval", "timeout", "fall", "rise", "require", "checks", "actions",
    ]
    static let checkKeys: Set<String> = [
        "name", "ping", "tcp", "http", "https", "timeout", "expect_status", "expect_body", "ca_file", "min_cert_days",
        "follow_redirects", "headers", "postgres", "max_lag",
    ]

    func load() throws -> SiteConfig {
        try reader.rejectUnknown(Self.siteKeys)
        guard let name = try reader.name("name") else { throw reader.error("name", "is required") }
        var site = SiteConfig(name: name, checks: [], sourcePath: reader.file)
        site.region = try reader.string("region")
        site.interval = try reader.duration("interval") ?? site.interval
        site.timeout = try reader.duration("timeout") ?? site.timeout
        site.fall = try reader.int("fall", range: 1...100) ?? site.fall
        site.rise = try reader.int("rise", range: 1...100) ?? site.rise
        if let text = try reader.string("require") {
            guard let require = Requirement(rawValue: text) else {
                throw reader.error("require", "\"\(text)\" is not one of: all, any")
            }
            site.require = require
        }
        guard site.timeout < site.interval else {
            guard reader.node("timeout") != nil else {
                throw reader.error(
                    "interval", "\(site.interval.text) must be longer than the default timeout \(site.timeout.text) (set timeout)")
            }
            throw reader.error("timeout", "\(site.timeout.text) must be shorter than interval \(site.interval.text)")
        }
        guard let nodes = try reader.sequence("checks"), !nodes.isEmpty else {
            throw reader.error("checks", "a site needs at least one check")
        }
        for (index, node) in nodes.enumerated() {
            let check = try loadCheck(node, path: "checks[\(index)]", site: site)
            if site.checks.contains(where: { $0.name == check.name }) {
                throw ConfigError(
                    file: reader.file, line: node.mark?.line, key: "checks[\(index)].name",
                    message: "duplicate check name \"\(check.name)\" in site \(name)")
            }
            site.checks.append(check)
        }
        site.actions = try ActionLoader(site: reader).load()
        return site
    }

    private func loadCheck(_ node: Node, path: String, site: SiteConfig) throws -> CheckConfig {
        let r = try YAMLReader(node: node, file: reader.file, path: path, interpolator: reader.interpolator)
        try r.rejectUnknown(Self.checkKeys)
        let kinds = ["ping", "tcp", "http", "https", "postgres"].filter { r.has($0) }
        guard kinds.count == 1, let kindKey = kinds.first else {
            throw ConfigError(
                file: reader.file, line: node.mark?.line, key: path,
                message: kinds.isEmpty ? "a check needs one of: ping, tcp, http, https, postgres" : "a check has exactly one of ping, tcp, http, https, postgres (found \(kinds.joined(separator: ", ")))")
        }
        let name = try r.name("name") ?? kindKey
        let kind = try loadKind(kindKey, r)
        if case .http = kind {} else {
            for key in ["expect_status", "expect_body", "ca_file", "min_cert_days", "follow_redirects", "headers"]
            where r.node(key) != nil {
                throw r.error(key, "only applies to http and https checks")
            }
        }
        if r.node("max_lag") != nil, kindKey != "postgres" { throw r.error("max_lag", "only applies to postgres checks") }
        let timeout = try r.duration("timeout")
        if let timeout, timeout >= site.interval {
            throw r.error("timeout", "\(timeout.text) must be shorter than the site's interval \(site.interval.text)")
        }
        return CheckConfig(name: name, kind: kind, timeout: timeout)
    }

    private func loadKind(_ key: String, _ r: YAMLReader) throws -> CheckKind {
        guard let target = try r.nonEmptyString(key) else { throw r.error(key, "needs a target") }
        switch key {
        case "ping":
            guard HostRule.isValid(target) else {
                throw r.error(key, "\"\(target)\" is not a host name or IP address (no port, no brackets)")
            }
            return .ping(host: target)
        case "tcp":
            guard let address = ListenAddress(text: target), HostRule.isValid(address.host) else {
                throw r.error(key, "\"\(target)\" is not host:port with a port in 1...65535")
            }
            return .tcp(address)
        case "postgres":
            return .postgres(PostgresCheck(dsn: try PostgresLoader.dsn(key, r), maxLag: try r.byteSize("max_lag")))
        default:
            return .http(try loadHTTP(key, target, r))
        }
    }

    private func loadHTTP(_ key: String, _ url: String, _ r: YAMLReader) throws -> HTTPCheck {
        try validateURL(key, url, r)
        var check = HTTPCheck(url: url)
        if let statuses = try expectStatus(r) { check.expectStatus = statuses }
        check.expectBody = try r.nonEmptyString("expect_body")
        if let ca = try r.nonEmptyString("ca_file") {
            let path = ca.hasPrefix("/") ? ca : ((reader.file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(ca)
            guard FileManager.default.isReadableFile(atPath: path) else { throw r.error("ca_file", "file \(path) does not exist or is unreadable") }
            check.caFile = path
        }
        if r.node("min_cert_days") != nil, key != "https" { throw r.error("min_cert_days", "only applies to https checks") }
        check.minCertDays = try r.int("min_cert_days", range: 0...3650)
        check.followRedirects = try r.bool("follow_redirects") ?? false
        check.headers = try r.stringMap("headers") ?? [:]
        for (name, value) in check.headers {
            // Header values may be secrets: errors name the header, never the value.
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
                throw r.error("headers", "\"\(name)\" is not an HTTP header name")
            }
            guard !value.contains(where: \.isNewline) else { throw r.error("headers", "the value of \(name) holds a line break") }
        }
        return check
    }

    private func validateURL(_ key: String, _ url: String, _ r: YAMLReader) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased() else {
            throw r.error(key, "is not a valid \(key):// URL")
        }
        let shown = Redaction.url(url)
        guard scheme == key else {
            let hint = ["http", "https"].contains(scheme) ? " (use the \(scheme) key for it)" : ""
            throw r.error(key, "\"\(shown)\" is not an \(key):// URL\(hint)")
        }
        guard let host = parts.host, !host.isEmpty else { throw r.error(key, "\"\(shown)\" has no host") }
        if let port = parts.port, !(1...65_535).contains(port) {
            throw r.error(key, "\"\(shown)\" has port \(port), outside 1...65535")
        }
    }

    private func expectStatus(_ r: YAMLReader) throws -> [Int]? {
        guard let node = r.node("expect_status") else { return nil }
        let elements = node.sequence.map(Array.init) ?? [node]
        let codes = try elements.map { element -> Int in
            let text = try r.scalarText(element, key: "expect_status")
            guard let code = Int(text), (100...599).contains(code) else {
                throw r.error("expect_status", "\"\(text)\" is not an HTTP status code (100...599)", node: element)
            }
            return code
        }
        guard !codes.isEmpty else { throw r.error("expect_status", "lists no status codes") }
        return codes
    }
}
