import Foundation

/// A throwaway PKI made with the `openssl` CLI in one directory: a test CA, server
/// certificates it signs for 127.0.0.1, ::1 and localhost with a chosen lifetime, and a
/// second, unrelated CA for "wrong CA" tests. Keys are P-256, so making them is instant.
public struct TestCertificates: Sendable {
    /// The directory holding every file.
    public let directory: URL
    /// The test CA's certificate (PEM), the `ca_file` that makes its leaves trusted.
    public let caFile: String
    /// The test CA's private key (PEM).
    public let caKey: String

    /// Creates the test CA in `directory` (created if missing), valid for ten years.
    public static func make(in directory: URL) throws -> TestCertificates {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (cert, key) = try makeCA(in: directory, name: "ca", subject: "failoverctl test CA")
        return TestCertificates(directory: directory, caFile: cert, caKey: key)
    }

    /// A server (and client) certificate for IP 127.0.0.1, IP ::1 and DNS localhost, signed
    /// by the test CA, valid from now for `days` days; written as `<name>.pem` and `<name>.key`.
    public func leaf(name: String, days: Int) throws -> (cert: String, key: String) {
        let key = path("\(name).key")
        let request = path("\(name).csr")
        let cert = path("\(name).pem")
        let config = try write("\(name).cnf", Self.leafConfig)
        try OpenSSL.run(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", request, "-subj", "/CN=localhost", "-config", config)
        try OpenSSL.run(
            "x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKey, "-set_serial", Self.serial(),
            "-days", String(days), "-extfile", config, "-extensions", "leaf", "-out", cert)
        return (cert, key)
    }

    /// The certificate of a second CA that signed nothing here (made on first use):
    /// verifying the test CA's leaves against it fails.
    public func otherCA() throws -> String {
        let cert = path("other-ca.pem")
        if FileManager.default.fileExists(atPath: cert) { return cert }
        return try Self.makeCA(in: directory, name: "other-ca", subject: "failoverctl unrelated CA").cert
    }

    private static func makeCA(in directory: URL, name: String, subject: String) throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("\(name).pem").path
        let key = directory.appendingPathComponent("\(name).key").path
        let config = directory.appendingPathComponent("\(name).cnf").path
        try caConfig.write(toFile: config, atomically: true, encoding: .utf8)
        try OpenSSL.run(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "3650", "-subj", "/CN=\(subject)", "-config", config,
            "-extensions", "ca")
        return (cert, key)
    }

    private func path(_ file: String) -> String { directory.appendingPathComponent(file).path }

    private func write(_ file: String, _ text: String) throws -> String {
        let target = path(file)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    /// A random positive serial, so leaves never share one and no serial file is needed.
    private static func serial() -> String {
        "0x1" + (0..<7).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    // Own configs, so the system openssl.cnf cannot add or duplicate extensions.
    private static let caConfig = """
        [req]
        distinguished_name = dn
        [dn]
        [ca]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash

        """

    private static let leafConfig = """
        [req]
        distinguished_name = dn
        [dn]
        [leaf]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = serverAuth, clientAuth
        subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        """
}

/// The `openssl` command-line tool.
enum OpenSSL {
    static let executable = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Runs `openssl ARGS`; throws with its output when it fails.
    static func run(_ arguments: String...) throws {
        guard let executable else {
            throw HarnessError(.command, "openssl not found (apt-get install openssl)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError(
                .command, "openssl \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)",
                log: text)
        }
    }
}
