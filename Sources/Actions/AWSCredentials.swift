import Foundation

/// AWS credentials as the AWS tools read them from the environment: `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and, for temporary credentials, `AWS_SESSION_TOKEN`.
///
/// The secret key and the session token never appear in `description`, in an error or in
/// a log line; `secrets` lists them so text quoted from AWS can be scrubbed.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key id (`AKIA…`, `ASIA…`).
    public var accessKeyID: String
    /// The secret access key. A secret.
    public var secretAccessKey: String
    /// The session token of temporary credentials. A secret.
    public var sessionToken: String?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Reads the credentials from `environment` (the process's at action time). A missing or
    /// empty `AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY` is a permanent `ActionError`
    /// naming the variable, never a value; an empty `AWS_SESSION_TOKEN` counts as absent.
    public static func fromEnvironment(_ environment: [String: String]) throws -> AWSCredentials {
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw ActionError.permanent(
                    "AWS credentials missing: the environment variable \(name) is not set for the controller")
            }
            return value
        }
        let id = try required("AWS_ACCESS_KEY_ID")
        let secret = try required("AWS_SECRET_ACCESS_KEY")
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    /// The values never to show.
    public var secrets: [String] { [secretAccessKey] + (sessionToken.map { [$0] } ?? []) }

    /// Names the key id only.
    public var description: String {
        "AWS credentials \(accessKeyID)\(sessionToken == nil ? "" : " (temporary)") (secret not shown)"
    }
}
