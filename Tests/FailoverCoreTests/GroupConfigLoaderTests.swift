import FailoverConfig
import FailoverCore
import Foundation
import Testing

/// Good configurations with failover groups, site actions and the API token.
@Suite struct GroupConfigLoaderTests {
    let files: TestFiles
    init() throws { files = try TestFiles() }

    static let token = "0123456789abcdef-token"

    static let controller = """
        controller:
          id: lab-1
          listen: 127.0.0.1:7400
          state_dir: state
          api_token: ${FAILOVERCTL_API_TOKEN}
        sites: sites/
        groups:
          - name: web
            primary: east
            standbys: [west, eu]
            failover: automatic
            failback: manual
            failback_after: 10m
            cooldown: 10m
            max_lag: 16MB
            rto: 5m
            rpo: 30s
            hooks:
              pre: ["BIN/failover-veto", "arg"]
              timeout: 10s
            plan:
              - drain
              - fence
              - promote
              - dns
              - verify
              - exec: ["BIN/update-cmdb"]
                timeout: 30s
                retries: 2
                on_failure: continue
        """

    var env: [String: String] { ["PATH": "/usr/bin:/bin", "FAILOVERCTL_API_TOKEN": Self.token] }

    /// Writes an executable script at `relative` and returns its path.
    @discardableResult
    func program(_ relative: String) throws -> String {
        let path = try files.write(relative, "#!/bin/sh\nexit 0\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    func site(_ name: String, actions: [StepKind] = StepKind.siteActionKinds) -> String {
        let lines = actions.map { "  \($0.rawValue): { exec: [\"true\"] }\n" }.joined()
        return "name: \(name)\nchecks:\n  - tcp: 127.0.0.1:5432\n" + (lines.isEmpty ? "" : "actions:\n" + lines)
    }

    /// A controller file with one group of `east` (primary), `west` and `eu`, and the three sites.
    func write(group: String, sites: [String: [StepKind]] = [:]) throws -> String {
        for name in ["east", "west", "eu"] {
            try files.write("sites/\(name).yaml", site(name, actions: sites[name] ?? StepKind.siteActionKinds))
        }
        let head = "controller: {id: c1}\nsites: sites/\ngroups:\n  - name: web\n    primary: east\n"
        return try files.write("failoverctl.yaml", head + group)
    }

    func load(_ path: String, env: [String: String]? = nil) throws -> ControllerConfig {
        try ConfigLoader(environment: env ?? self.env, hostName: "test-host").load(path: path)
    }

    @Test func theIssueExampleLoadsIntoTheModel() throws {
        let veto = try program("bin/failover-veto")
        let cmdb = try program("bin/update-cmdb")
        let path = try files.write(
            "failoverctl.yaml", Self.controller.replacingOccurrences(of: "BIN", with: files.path("bin")))
        for name in ["east", "west", "eu"] { try files.write("sites/\(name).yaml", site(name)) }
        let config = try load(path)
        let expected = GroupConfig(
            name: "web", primary: "east",
            standbys: [Standby(site: "west", priority: 1), Standby(site: "eu", priority: 2)],
            failover: .automatic, failback: .manual, failbackAfter: .seconds(600), cooldown: .seconds(600),
            maxLagBytes: 16 * 1024 * 1024, rto: .seconds(300), rpo: .seconds(30), preHook: [veto, "arg"],
            hookTimeout: .seconds(10),
            plan: [
                PlanStep(kind: .drain), PlanStep(kind: .fence), PlanStep(kind: .promote), PlanStep(kind: .dns),
                PlanStep(kind: .verify),
                PlanStep(kind: .exec, command: [cmdb], timeout: .seconds(30), retries: 2, onFailure: .continue),
            ],
            sourcePath: path)
        #expect(config.groups == [expected])
        #expect(config.apiToken == Self.token)
        #expect(config.sites.map(\.name) == ["east", "eu", "west"])
    }

    @Test func leftOutGroupKeysTakeTheirDefaults() throws {
        let group = try load(try write(group: "    standbys: [west]\n    plan: [drain, verify]\n")).groups[0]
        #expect(group.failover == .automatic && group.failback == .manual)
        #expect(group.failbackAfter == .seconds(600) && group.cooldown == .seconds(600))
        #expect(group.maxLagBytes == nil && group.rto == nil && group.rpo == nil)
        #expect(group.preHook.isEmpty && group.hookTimeout == .seconds(10))
        #expect(group.plan == [PlanStep(kind: .drain), PlanStep(kind: .verify)])
        #expect(group.plan.map(\.timeout) == [.seconds(30), .seconds(60)], "verify waits longest")
        #expect(group.plan.allSatisfy { $0.retries == 2 && $0.onFailure == .abort && !$0.optional })
    }

    @Test func standbyPrioritiesArePositionsUnlessWritten() throws {
        let standbys = """
                standbys:
                  - west
                  - {site: eu, priority: 5}
                  - site: north
                plan: [verify]

            """
        try files.write("sites/north.yaml", site("north"))
        let group = try load(try write(group: standbys)).groups[0]
        #expect(
            group.standbys == [
                Standby(site: "west", priority: 1), Standby(site: "eu", priority: 5),
                Standby(site: "north", priority: 3),
            ])
        #expect(group.priority(of: "east") == 0)
    }

    static let sizes: [(String, Int64)] = [
        ("0", 0), ("1048576", 1_048_576), ("512KB", 524_288), ("512KiB", 524_288), ("16MB", 16_777_216),
        ("16 MiB", 16_777_216), ("1GB", 1_073_741_824), ("2gib", 2_147_483_648), ("100B", 100),
    ]

    @Test(arguments: sizes)
    func maxLagIsBytesWithOptional1024BasedUnits(text: String, bytes: Int64) throws {
        let path = try write(group: "    standbys: [west]\n    max_lag: \(text)\n    plan: [verify]\n")
        #expect(try load(path).groups[0].maxLagBytes == bytes)
    }

    @Test func aSitesActionsLoadWithRelativeProgramsResolvedAndBareNamesKept() throws {
        let drain = try program("sites/bin/drain")
        let path = try write(group: "    standbys: [west]\n    plan: [verify]\n")
        try files.write(
            "sites/east.yaml",
            "name: east\nchecks:\n  - ping: 127.0.0.1\nactions:\n  drain: {exec: [bin/drain, east]}\n  fence:\n    exec: [\"true\", \"--fence\"]\n"
        )
        let east = try #require(try load(path).site(named: "east"))
        #expect(
            east.actions == [.drain: .exec(command: [drain, "east"]), .fence: .exec(command: ["true", "--fence"])])
    }

    @Test func anOptionalStepLoadsWhenASiteLacksItsAction() throws {
        let plan = """
                standbys: [west, eu]
                plan:
                  - step: fence
                    optional: true
                    timeout: 5s
                    retries: 0
                  - promote

            """
        let config = try load(try write(group: plan, sites: ["west": [.promote]]))
        #expect(config.groups[0].plan[0] == PlanStep(kind: .fence, timeout: .seconds(5), retries: 0, optional: true))
        #expect(config.site(named: "west")?.actions.keys.sorted { $0.rawValue < $1.rawValue } == [.promote])
    }

    @Test func stepsOfVerifyAndExecNeedNoSiteActions() throws {
        let plan = "    standbys: [west]\n    plan: [verify, {exec: [\"true\"], retries: 0}]\n"
        let config = try load(try write(group: plan, sites: ["east": [], "west": []]))
        #expect(config.groups[0].plan.map(\.kind) == [.verify, .exec])
        #expect(config.site(named: "east")?.actions.isEmpty == true)
    }

    @Test func aMonitorOnlyConfigHasNoGroupsAndNoToken() throws {
        let path = try files.write("failoverctl.yaml", "controller: {id: c1}\nsites: [s.yaml]\n")
        try files.write("s.yaml", "name: s\nchecks:\n  - tcp: 127.0.0.1:5432\n")
        let config = try load(path)
        #expect(config.groups.isEmpty && config.apiToken == nil)
    }

    @Test func anEmptyTokenMeansNone() throws {
        let path = try files.write(
            "failoverctl.yaml", "controller: {id: c1, api_token: \"${FAILOVERCTL_API_TOKEN:-}\"}\nsites: [s.yaml]\n")
        try files.write("s.yaml", "name: s\nchecks:\n  - tcp: 127.0.0.1:5432\n")
        #expect(try load(path, env: [:]).apiToken == nil)
    }

    @Test(arguments: ["short-s3cret", "has a space in the token"])
    func aBadTokenIsRefusedWithoutShowingIt(token: String) throws {
        let path = try files.write(
            "failoverctl.yaml", "controller: {id: c1, api_token: \"${FAILOVERCTL_API_TOKEN}\"}\nsites: [s.yaml]\n")
        try files.write("s.yaml", "name: s\nchecks:\n  - tcp: 127.0.0.1:5432\n")
        let error = #expect(throws: ConfigError.self) { try load(path, env: ["FAILOVERCTL_API_TOKEN": token]) }
        let text = error.map(String.init(describing:)) ?? ""
        #expect(error?.key == "controller.api_token" && error?.line == 1)
        #expect(!text.contains(token) && text.contains("the value is not shown"), "\(text)")
    }

    @Test func bareProgramsAreLookedUpOnTheLoadersPath() throws {
        try program("tools/fo-cmdb")
        let plan = "    standbys: [west]\n    plan: [verify, {exec: [fo-cmdb, x]}]\n"
        let path = try write(group: plan, sites: ["east": [], "west": [], "eu": []])
        let found = try load(path, env: ["PATH": "/nonexistent:" + files.path("tools")])
        #expect(found.groups[0].plan[1].command == ["fo-cmdb", "x"])
        let error = #expect(throws: ConfigError.self) { try load(path, env: [:]) }
        #expect(error?.key == "groups[0].plan[1].exec")
        #expect(
            error?.message == "command \"fo-cmdb\" cannot be looked up: PATH is not set (write the program's full path)"
        )
    }
}
