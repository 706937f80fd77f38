import FailoverConfig
import FailoverCore
import Foundation
import Testing

/// Good configurations: the issue's example shape, defaults, fallbacks and path resolution.
@Suite struct ConfigLoaderTests {
    let files: TestFiles
    init() throws { files = try TestFiles() }

    static let controller = """
        controller:
          id: lab-1                      # default: $FAILOVERCTL_ID, else the host name
          listen: 127.0.0.1:7400         # status API
          state_dir: /var/lib/failoverctl
        coordination:
          backend: local                 # the embedded default (quorum of one)
        sites: sites/                    # a directory of *.yaml (relative to this file) or a list of files
        """

    static let east = """
        name: east
        region: us-east-1
        interval: 1s
        timeout: 800ms
        fall: 3                          # consecutive failed probes → down
        rise: 2                          # consecutive good probes → up
        require: all                     # or: any
        checks:
          - name: edge
            ping: 127.0.0.1
          - name: db
            tcp: 127.0.0.1:5432
          - name: api
            https: https://127.0.0.1:8443/health   # or http: http://…
            expect_status: [200]         # default: any 2xx
            expect_body: ok              # optional substring
            ca_file: CA_FILE             # optional; verification is on by default
            min_cert_days: 14            # optional: fail when the certificate expires sooner
        """

    func load(env: [String: String] = [:], host: String = "test-host", _ path: String) throws -> ControllerConfig {
        try ConfigLoader(environment: env, hostName: host).load(path: path)
    }

    func minimalSite(_ name: String, extra: String = "") -> String {
        "name: \(name)\n\(extra)checks:\n  - tcp: 127.0.0.1:5432\n"
    }

    @Test func theIssueExampleLoadsIntoTheModel() throws {
        let ca = try files.write("lab-ca.pem", "not checked here")
        let path = try files.write("failoverctl.yaml", Self.controller)
        try files.write("sites/east.yaml", Self.east.replacingOccurrences(of: "CA_FILE", with: ca))
        let config = try load(path)
        let api = HTTPCheck(
            url: "https://127.0.0.1:8443/health", expectStatus: [200], expectBody: "ok", caFile: ca, minCertDays: 14)
        let east = SiteConfig(
            name: "east", region: "us-east-1", interval: .seconds(1), timeout: .milliseconds(800), fall: 3, rise: 2,
            require: .all,
            checks: [
                CheckConfig(name: "edge", kind: .ping(host: "127.0.0.1")),
                CheckConfig(name: "db", kind: .tcp(ListenAddress(host: "127.0.0.1", port: 5432))),
                CheckConfig(name: "api", kind: .http(api)),
            ],
            sourcePath: files.path("sites/east.yaml"))
        let expected = ControllerConfig(
            id: "lab-1", listen: ListenAddress(host: "127.0.0.1", port: 7400), stateDir: "/var/lib/failoverctl",
            coordination: .local, sites: [east], sourcePath: path)
        #expect(config == expected)
    }

    @Test func defaultsApplyWhenKeysAreLeftOut() throws {
        let path = try files.write("failoverctl.yaml", "controller:\n  id: c1\nsites: [west.yaml]\n")
        try files.write("west.yaml", "name: west\nchecks:\n  - https: https://example.test/\n")
        let config = try load(path)
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 7400))
        #expect(config.stateDir == "/var/lib/failoverctl")
        #expect(config.coordination == .local)
        let site = try #require(config.sites.first)
        #expect(site.region == nil)
        #expect(site.interval == .seconds(1) && site.timeout == .milliseconds(800))
        #expect(site.fall == 3 && site.rise == 2 && site.require == .all)
        let check = try #require(site.checks.first)
        #expect(check.name == "https", "a check without a name is named after its kind")
        #expect(check.timeout == nil)
        guard case .http(let http) = check.kind else { Issue.record("not http"); return }
        #expect(http.expectStatus == nil && http.accepts(status: 204) && !http.accepts(status: 301))
        #expect(http.followRedirects == false && http.caFile == nil && http.minCertDays == nil && http.headers.isEmpty)
    }

    @Test(arguments: [
        ("id: given", ["FAILOVERCTL_ID": "from-env"], "given"),
        ("", ["FAILOVERCTL_ID": "from-env"], "from-env"),
        ("", [:], "test-host"),
        ("", ["FAILOVERCTL_ID": ""], "test-host"),
        ("id:", ["FAILOVERCTL_ID": "from-env"], "from-env"),
    ])
    func controllerIDFallsBackToEnvironmentThenHostName(line: String, env: [String: String], id: String) throws {
        let path = try files.write("failoverctl.yaml", "controller:\n  \(line)\n  listen: 127.0.0.1:7401\nsites: [s.yaml]\n")
        try files.write("s.yaml", minimalSite("s"))
        #expect(try load(env: env, path).id == id)
    }

    @Test func anInvalidHostNameFallbackIsAnErrorNotASilentID() throws {
        let path = try files.write("failoverctl.yaml", "controller:\n  listen: 127.0.0.1:7401\nsites: [s.yaml]\n")
        try files.write("s.yaml", minimalSite("s"))
        let error = #expect(throws: ConfigError.self) { try load(host: "bad host", path) }
        #expect(error?.key == "controller.id")
        #expect(error?.message.contains("the host name \"bad host\"") == true)
    }

    @Test func relativeSitesDirectoryIsReadInFileNameOrder() throws {
        let path = try files.write("etc/failoverctl.yaml", "controller: {id: c1}\nsites: sites\n")
        try files.write("etc/sites/b.yml", minimalSite("bravo"))
        try files.write("etc/sites/a.yaml", minimalSite("alpha"))
        try files.write("etc/sites/notes.txt", "not a site")
        let config = try load(path)
        #expect(config.sites.map(\.name) == ["alpha", "bravo"])
        #expect(config.sites.map(\.sourcePath) == [files.path("etc/sites/a.yaml"), files.path("etc/sites/b.yml")])
    }

    @Test func aSitesListKeepsItsOrderAndResolvesAgainstTheControllerFile() throws {
        try files.write("etc/z.yaml", minimalSite("zulu"))
        let absolute = try files.write("abs/a.yaml", minimalSite("alpha"))
        let path = try files.write("etc/failoverctl.yaml", "controller: {id: c1}\nsites:\n  - z.yaml\n  - \(absolute)\n")
        #expect(try load(path).sites.map(\.name) == ["zulu", "alpha"])
    }

    @Test func theControllerFileInTheSitesDirectoryIsNotASite() throws {
        let path = try files.write("failoverctl.yaml", "controller: {id: c1}\nsites: .\n")
        try files.write("east.yaml", minimalSite("east"))
        #expect(try load(path).sites.map(\.name) == ["east"])
    }

    @Test func relativeCAFileResolvesAgainstTheSiteFile() throws {
        let path = try files.write("failoverctl.yaml", "controller: {id: c1}\nsites: sites/\n")
        let ca = try files.write("sites/certs/ca.pem", "pem")
        try files.write("sites/east.yaml", "name: east\nchecks:\n  - https: https://127.0.0.1/\n    ca_file: certs/ca.pem\n")
        guard case .http(let http) = try load(path).sites[0].checks[0].kind else { Issue.record("not http"); return }
        #expect(http.caFile == ca)
    }

    @Test func relativeStateDirResolvesAgainstTheControllerFile() throws {
        let path = try files.write("failoverctl.yaml", "controller: {id: c1, state_dir: state}\nsites: [s.yaml]\n")
        try files.write("s.yaml", minimalSite("s"))
        #expect(try load(path).stateDir == files.path("state"))
    }

    @Test func interpolationExpandsVariablesDefaultsAndDollarDollar() throws {
        let path = try files.write("failoverctl.yaml", "controller: {id: \"${ID}\"}\nsites: [s.yaml]\n")
        try files.write(
            "s.yaml",
            """
            name: ${SITE:-east}
            fall: ${FALL:-4}
            rise: ${RISE:-5}
            checks:
              - https: https://${HOST}/p?x=$$HOME&y=$HOME
                headers: {Authorization: "Bearer ${TOKEN}"}
            """)
        let env = ["ID": "c9", "HOST": "127.0.0.1:8443", "TOKEN": "t0k3n", "RISE": ""]
        let config = try load(env: env, path)
        let site = config.sites[0]
        #expect(config.id == "c9")
        #expect(site.name == "east" && site.fall == 4 && site.rise == 5, "an empty variable takes the default too")
        guard case .http(let http) = site.checks[0].kind else { Issue.record("not http"); return }
        #expect(http.url == "https://127.0.0.1:8443/p?x=$HOME&y=$HOME")
        #expect(http.headers == ["Authorization": "Bearer t0k3n"])
    }

    @Test func ipv6TargetsAreAccepted() throws {
        let path = try files.write("failoverctl.yaml", "controller: {id: c1, listen: \"[::1]:7400\"}\nsites: [s.yaml]\n")
        try files.write("s.yaml", "name: s\ntimeout: 250ms\nchecks:\n  - ping: ::1\n  - tcp: \"[::1]:22\"\n    timeout: 100ms\n")
        let config = try load(path)
        #expect(config.listen == ListenAddress(host: "::1", port: 7400))
        #expect(config.sites[0].checks.map(\.kind) == [.ping(host: "::1"), .tcp(ListenAddress(host: "::1", port: 22))])
        #expect(config.sites[0].timeout == .milliseconds(250) && config.sites[0].checks[1].timeout == .milliseconds(100))
    }

    @Test func aMissingControllerFileNamesTheFile() {
        let error = #expect(throws: ConfigError.self) { try load("/nonexistent/failoverctl.yaml") }
        #expect(error.map(String.init(describing:)) == "/nonexistent/failoverctl.yaml: file does not exist")
    }

    @Test func errorsNeverShowURLSecrets() throws {
        let path = try files.write("failoverctl.yaml", "controller: {id: c1}\nsites: [s.yaml]\n")
        try files.write("s.yaml", "name: s\nchecks:\n  - https: http://user:hunter2@127.0.0.1/?token=s3cret\n")
        let error = #expect(throws: ConfigError.self) { try load(path) }
        let text = error.map(String.init(describing:)) ?? ""
        #expect(text.contains("is not an https:// URL") && !text.contains("hunter2") && !text.contains("s3cret"), "\(text)")
    }

    @Test func anUnterminatedReferenceIsLocated() throws {
        let path = try files.write("failoverctl.yaml", "controller: {id: c1}\nsites: [s.yaml]\n")
        try files.write("s.yaml", "name: s\nregion: ${EU\nchecks:\n  - ping: 127.0.0.1\n")
        let error = #expect(throws: ConfigError.self) { try load(path) }
        #expect(error?.line == 2 && error?.key == "region")
    }

    @Test func resolvePathPrefersFlagThenEnvironmentThenSystemDefault() {
        let withEnv = ConfigLoader(environment: ["FAILOVERCTL_CONFIG": "/env.yaml"], hostName: "h")
        let without = ConfigLoader(environment: [:], hostName: "h")
        #expect(withEnv.resolvePath("/flag.yaml") == "/flag.yaml")
        #expect(withEnv.resolvePath(nil) == "/env.yaml")
        #expect(without.resolvePath(nil) == "/etc/failoverctl/failoverctl.yaml")
    }

    @Test func configErrorDescriptionIsOneLocatedLine() {
        #expect(ConfigError(file: "f.yaml", line: 3, key: "a.b", message: "bad").description == "f.yaml:3: a.b: bad")
        #expect(ConfigError(file: "f.yaml", line: nil, key: "", message: "bad").description == "f.yaml: bad")
        #expect(ConfigError(file: "f.yaml", line: 1, key: "", message: "bad").description == "f.yaml:1: bad")
    }
}
