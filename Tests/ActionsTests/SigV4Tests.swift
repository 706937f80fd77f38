import Actions
import Foundation
import Testing

/// The SigV4 signer against AWS's published Signature Version 4 test suite
/// (`aws-sig-v4-test-suite`: credentials AKIDEXAMPLE, region us-east-1, service `service`,
/// 20150830T123600Z) and the IAM `ListUsers` example of AWS's signing guide. The expected
/// canonical requests, string-to-sign hashes and signatures are the suite's published
/// values.
@Suite struct SigV4Tests {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2015-08-30T12:36:00Z.
    static let date = Date(timeIntervalSince1970: 1_440_938_160)
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let scope = "20150830/us-east-1/service/aws4_request"

    private func sign(_ request: SigV4Request, service: String = "service") -> SigV4Signature {
        SigV4.sign(request, credentials: Self.credentials, region: "us-east-1", service: service, date: Self.date)
    }

    private func stringToSign(_ hash: String, scope: String = SigV4Tests.scope) -> String {
        "AWS4-HMAC-SHA256\n20150830T123600Z\n\(scope)\n\(hash)"
    }

    private func authorization(_ signedHeaders: String, _ signature: String, scope: String = SigV4Tests.scope) -> String
    {
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    @Test func sha256AndHMACMatchTheirStandardVectors() {
        #expect(SHA256.hex(Data()) == Self.emptyHash)
        // RFC 4231 test case 2.
        let mac = HMACSHA256(key: Array("Jefe".utf8), data: Data("what do ya want for nothing?".utf8))
        #expect(SigV4.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func getVanilla() {
        let s = sign(SigV4Request(method: "GET", host: "example.amazonaws.com"))
        #expect(
            s.canonicalRequest
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(Self.emptyHash)"
        )
        #expect(s.stringToSign == stringToSign("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"))
        #expect(s.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(s.authorization == authorization("host;x-amz-date", s.signature))
        #expect(s.headers.map(\.name) == ["X-Amz-Date", "Authorization"])
        #expect(s.headers.first?.value == "20150830T123600Z")
    }

    @Test func getVanillaQueryOrderKeyCase() {
        let s = sign(
            SigV4Request(
                method: "GET", host: "example.amazonaws.com",
                query: [(name: "Param2", value: "value2"), (name: "Param1", value: "value1")]))
        #expect(
            s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2]
                == "Param1=value1&Param2=value2")
        #expect(s.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func postVanilla() {
        let s = sign(SigV4Request(method: "POST", host: "example.amazonaws.com"))
        #expect(s.signature == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
        #expect(s.authorization == authorization("host;x-amz-date", s.signature))
    }

    @Test func postXWWWFormURLEncoded() {
        let s = sign(
            SigV4Request(
                method: "POST", host: "example.amazonaws.com",
                headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")],
                body: Data("Param1=value1".utf8)))
        #expect(
            s.canonicalRequest
                == "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
                + "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
                + "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        #expect(s.stringToSign == stringToSign("42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"))
        #expect(s.signature == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
        #expect(s.authorization == authorization("content-type;host;x-amz-date", s.signature))
    }

    @Test func getHeaderValueTrim() {
        let s = sign(
            SigV4Request(
                method: "GET", host: "example.amazonaws.com",
                headers: [(name: "My-Header1", value: " value1"), (name: "My-Header2", value: " \"a   b   c\"")]))
        #expect(
            s.canonicalRequest
                == "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(Self.emptyHash)")
        #expect(s.stringToSign == stringToSign("a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"))
        #expect(s.signature == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
    }

    @Test func getHeaderValueOrder() {
        let values = ["value4", "value1", "value3", "value2"]
        let s = sign(
            SigV4Request(
                method: "GET", host: "example.amazonaws.com", headers: values.map { (name: "My-Header1", value: $0) }))
        #expect(s.canonicalRequest.contains("\nmy-header1:value4,value1,value3,value2\n"))
        #expect(s.stringToSign == stringToSign("31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86"))
        #expect(s.signature == "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01")
    }

    /// AWS's signing guide: `GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08`.
    @Test func iamListUsersExample() {
        let s = sign(
            SigV4Request(
                method: "GET", host: "iam.amazonaws.com",
                query: [(name: "Action", value: "ListUsers"), (name: "Version", value: "2010-05-08")],
                headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")]),
            service: "iam")
        let scope = "20150830/us-east-1/iam/aws4_request"
        #expect(
            s.stringToSign
                == stringToSign("f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59", scope: scope))
        #expect(s.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
        #expect(s.authorization == authorization("content-type;host;x-amz-date", s.signature, scope: scope))
    }

    @Test func aSessionTokenIsSignedAndSentButTheSecretNeverShows() {
        let credentials = AWSCredentials(
            accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret-key-value-123", sessionToken: "session-token-456")
        let s = SigV4.sign(
            SigV4Request(method: "GET", host: "route53.amazonaws.com", path: "/2013-04-01/change/C1"),
            credentials: credentials, region: "us-east-1", service: "route53", date: Self.date)
        #expect(s.canonicalRequest.contains("\nx-amz-security-token:session-token-456\n"))
        #expect(s.authorization.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
        #expect(s.headers.contains { $0.name == "X-Amz-Security-Token" && $0.value == "session-token-456" })
        let shown = [s.canonicalRequest, s.stringToSign, s.authorization, "\(credentials)"].joined()
        #expect(!shown.contains("secret-key-value-123"))
        #expect(!"\(credentials)".contains("session-token-456"))
    }

    @Test func encodingFollowsRFC3986AndPathsAreEncodedOnceMore() {
        #expect(SigV4.encode("a b+c/d~e_f.g-h*") == "a%20b%2Bc%2Fd~e_f.g-h%2A")
        #expect(SigV4.encode("é") == "%C3%A9")
        let (canonical, _) = SigV4.canonicalRequest(
            method: "get", path: "/a%3Ab/c", query: [], headers: [(name: "Host", value: "h")], payloadHash: "x")
        #expect(canonical.hasPrefix("GET\n/a%253Ab/c\n"))
    }

    @Test func missingCredentialsNameTheVariableOnly() throws {
        let noSecret = #expect(throws: ActionError.self) {
            _ = try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID"])
        }
        #expect(noSecret?.description.contains("AWS_SECRET_ACCESS_KEY is not set") == true)
        #expect(noSecret?.isRetryable == false)
        let noID = #expect(throws: ActionError.self) {
            _ = try AWSCredentials.fromEnvironment(["AWS_SECRET_ACCESS_KEY": "s3cr3t-value"])
        }
        #expect(noID?.description.contains("AWS_ACCESS_KEY_ID") == true)
        #expect(noID?.description.contains("s3cr3t-value") == false)
        let ok = try AWSCredentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "",
        ])
        #expect(ok.sessionToken == nil)
    }
}
