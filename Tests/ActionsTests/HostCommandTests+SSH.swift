@testable import Actions
import FailoverCore
import Foundation
import Testing

extension HostCommandTests {
    /// The ssh command line, the quoting of remote arguments and the reading of ssh's
    /// errors, without a server.
    @Suite struct SSHCommandLine {
        @Test(arguments: [
            ("plain", "'plain'"),
            ("a b", "'a b'"),
            ("it's", #"'it'\''s'"#),
            ("$HOME", "'$HOME'"),
            ("x;y", "'x;y'"),
            ("", "''"),
            ("''", #"''\'''\'''"#),
            ("a\nb", "'a\nb'"),
        ])
        func quotingMakesOneShellWord(text: String, quoted: String) {
            #expect(SSHInvocation.quote(text) == quoted)
        }

        @Test func theCommandLineCarriesEveryOptionAndTheQuotedArgv() {
            let target = DatabaseHost.SSHTarget(
                destination: "postgres@db-east.example", port: 2222, identityFile: "/etc/f/id",
                knownHostsFile: "/etc/f/kh",
                configFile: "/etc/f/cfg", connectTimeout: .milliseconds(1_500))
            let argv = SSHInvocation(target: target).argv(remote: ["pg_ctlcluster", "15", "main", "stop"])
            #expect(
                argv.dropLast() == [
                    "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "-p", "2222", "-i", "/etc/f/id", "-o",
                    "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=/etc/f/kh", "-o", "StrictHostKeyChecking=yes", "-F",
                    "/etc/f/cfg", "--", "postgres@db-east.example",
                ])
            #expect(argv.last?.hasPrefix("exec sh -c '") == true)
            #expect(argv.last?.hasSuffix("' failoverctl 'pg_ctlcluster' '15' 'main' 'stop'") == true)
            let bare = SSHInvocation(target: .init(destination: "db")).argv(remote: ["true"])
            #expect(bare.prefix(5) == ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"])
            #expect(bare.dropLast().suffix(2) == ["--", "db"])
        }

        @Test func localCommandsRunAsTheUserThroughRunuserAndSSHIgnoresIt() {
            let local = HostCommand(host: DatabaseHost(access: .local, dataDirectory: "/d", runAs: "postgres"))
            #expect(local.invocation(["id"]) == ["/usr/sbin/runuser", "-u", "postgres", "--", "id"])
            let plain = HostCommand(host: DatabaseHost(access: .local, dataDirectory: "/d"))
            #expect(plain.invocation(["id"]) == ["id"])
            let ssh = HostCommand(
                host: DatabaseHost(access: .ssh(.init(destination: "db")), dataDirectory: "/d", runAs: "x"))
            #expect(ssh.invocation(["id"]).first == "ssh")
            #expect(!ssh.invocation(["id"]).contains("runuser"))
        }

        @Test(arguments: [
            ("postgres@db: Permission denied (publickey).", "refused the key: Permission denied (publickey)", false),
            (
                "@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.",
                "refused the host: its host key changed", false
            ),
            ("Host key verification failed.", "could not verify the host key", false),
            (
                "Warning: Identity file /etc/f/id not accessible: No such file or directory.\n"
                    + "postgres@db: Permission denied (publickey).",
                "cannot use its identity file: Warning: Identity file /etc/f/id not accessible", false
            ),
            (
                "/etc/f/cfg: line 1: Bad configuration option: bogus",
                "has a bad ssh configuration: /etc/f/cfg: line 1", false
            ),
            ("ssh: connect to host db port 22: Connection refused", "failed: ssh: connect to host db port 22", true),
            ("ssh: connect to host db port 22: Connection timed out", "failed: ssh: connect", true),
            (
                "ssh: connect to host db port 22: No route to host",
                "failed: ssh: connect to host db port 22: No route", true
            ),
            ("ssh: Could not resolve hostname db: Name or service not known", "failed: ssh: Could not resolve", true),
            ("Connection closed by 10.0.0.5 port 22", "failed: Connection closed by 10.0.0.5 port 22", true),
        ])
        func sshFailuresAreClassified(stderr: String, expected: String, retryable: Bool) throws {
            let failure = try #require(SSHFailure(stderr: stderr))
            let error = failure.error(destination: "postgres@db")
            #expect(error.isRetryable == retryable)
            #expect(error.description.contains("ssh to postgres@db \(expected)"))
        }

        @Test func otherStderrIsNoSSHFailure() {
            #expect(SSHFailure(stderr: "pg_ctl: server is not running\n") == nil)
        }

        @Test func keyShapedTextIsScrubbed() {
            let body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
            #expect(KeyMaterial.scrub("load failed: \(body) trailing") == "load failed: [redacted] trailing")
            #expect(KeyMaterial.scrub("-----BEGIN OPENSSH PRIVATE KEY-----") == "[line with key material removed]")
            let path = "could not read /var/lib/postgresql/15/main/postmaster.pid"
            #expect(KeyMaterial.scrub(path) == path)
            #expect(KeyMaterial.scrub(String(repeating: "x", count: 300)).count == 200)
        }
    }
}
