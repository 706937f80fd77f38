import Actions
import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// The elbv2 plugin against a real moto_server on loopback.
@Suite(.serialized) struct ELBv2ActionTests {
    static let secret = "moto-elb-secret-0123456789abcdef"
    static let environment = ["AWS_ACCESS_KEY_ID": "AKIDMOTOTEST", "AWS_SECRET_ACCESS_KEY": secret]

    private func plugin(environment: [String: String] = Self.environment) -> ELBv2Action {
        ELBv2Action(environment: { environment })
    }

    private func spec(_ arn: String, _ endpoint: String, ids: [String] = ["10.0.0.5"]) -> ActionSpec {
        .elbv2(ELBv2Options(targetGroupARN: arn, targets: ids.map { .init(id: $0, port: 80) }, endpoint: endpoint))
    }

    /// A moto with target group `web` holding `registered` on port 80.
    private func group(registered: [String]) async throws -> (MotoServer, String) {
        let moto = try await MotoServer.start()
        let arn = try await Blocking.run {
            let arn = try moto.createTargetGroup("web")
            if !registered.isEmpty { try moto.registerTargets(arn, registered.map { (id: $0, port: 80) }) }
            return arn
        }
        return (moto, arn)
    }

    @Test func drainDeregistersTheSiteTargetAndTwiceIsHarmless() async throws {
        let (moto, arn) = try await group(registered: ["10.0.0.5", "10.0.0.6"])
        let spec = spec(arn, moto.endpoint)
        let (report, _) = try await PluginFixture.timed("elbv2 describe + DeregisterTargets + describe (moto)") {
            try await plugin().perform(PluginFixture.request(spec, kind: .drain))
        }
        #expect(report.changed.first == "deregistered 10.0.0.5:80 from target group web", "\(report.changed)")
        #expect(report.changed.last == "DescribeTargetHealth: 10.0.0.5:80 absent")
        #expect(
            try await Blocking.run { try moto.targetStates(arn) } == ["10.0.0.6:80": "healthy"], "\(moto.logTail())")

        let again = try await plugin().perform(PluginFixture.request(spec, kind: .fence))
        #expect(again.changed.first == "10.0.0.5:80 already out of target group web")
        #expect(try await Blocking.run { try moto.targetStates(arn) } == ["10.0.0.6:80": "healthy"])
    }

    @Test func promoteRegistersTheSiteTargetsAndTwiceIsHarmless() async throws {
        let (moto, arn) = try await group(registered: [])
        let spec = spec(arn, moto.endpoint, ids: ["10.0.0.7", "10.0.0.8"])
        let (report, _) = try await PluginFixture.timed("elbv2 describe + RegisterTargets + describe (moto)") {
            try await plugin().perform(PluginFixture.request(spec, kind: .promote))
        }
        #expect(report.changed.first == "registered 10.0.0.7:80, 10.0.0.8:80 in target group web")
        #expect(report.changed.last == "DescribeTargetHealth: 10.0.0.7:80 healthy, 10.0.0.8:80 healthy")
        let states = try await Blocking.run { try moto.targetStates(arn) }
        #expect(states == ["10.0.0.7:80": "healthy", "10.0.0.8:80": "healthy"])

        let again = try await plugin().perform(PluginFixture.request(spec, kind: .dns))
        #expect(again.changed.first == "10.0.0.7:80, 10.0.0.8:80 already registered in target group web")
    }

    @Test func serverErrorsAndThrottlingAreRetriedUntilTheTargetIsGone() async throws {
        let (moto, arn) = try await group(registered: ["10.0.0.5"])
        let proxy = try ContractServer(handler: AWSProxy.forward(to: moto))
        proxy.inject([
            .status(503, AWSProxy.error("ServiceUnavailable", "busy")),
            .status(400, AWSProxy.error("Throttling", "Rate exceeded")),
        ])
        let spec = spec(arn, proxy.url(""))
        let observer = RecordingObserver()
        let (outcome, _) = try await PluginFixture.timed("elbv2 503, Throttling, then success (3 attempts)") {
            try await PluginFixture.runner(observer, plugins: ["elbv2": plugin()]).run(
                PluginFixture.step(spec, kind: .drain), context: Fixture.context())
        }
        #expect(outcome.record.result == .ok, "\(observer.calls)")
        #expect(outcome.record.attempts == 3)
        #expect(try await Blocking.run { try moto.targetStates(arn) }.isEmpty)
        #expect(
            proxy.requests.allSatisfy {
                $0.headers["authorization"]?.contains("/us-east-1/elasticloadbalancing/aws4_request") == true
            })
        #expect(!PluginFixture.texts(outcome, observer).contains(Self.secret))
    }

    @Test func anUnknownTargetGroupIsPermanent() async throws {
        let (moto, arn) = try await group(registered: [])
        let missing = arn.replacingOccurrences(of: "targetgroup/web/", with: "targetgroup/nope/")
        let error = try await #require(throws: ActionError.self) {
            try await plugin().perform(PluginFixture.request(spec(missing, moto.endpoint), kind: .drain))
        }
        #expect(!error.isRetryable, "\(error)")
        #expect(error.description.contains("refused DescribeTargetHealth of nope with TargetGroupNotFound"), "\(error)")
    }

    @Test func aMissingAccessKeyFailsPermanentlyNamingTheVariableOnly() async throws {
        let observer = RecordingObserver()
        let spec = spec("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1", "http://127.0.0.1:9")
        let outcome = try await PluginFixture.runner(
            observer, plugins: ["elbv2": plugin(environment: ["AWS_SECRET_ACCESS_KEY": Self.secret])]
        ).run(PluginFixture.step(spec, kind: .drain), context: Fixture.context())
        #expect(outcome.record.result == .failed && outcome.record.attempts == 1)
        #expect(outcome.record.error?.contains("AWS_ACCESS_KEY_ID is not set") == true, "\(outcome.record.error ?? "")")
        #expect(!PluginFixture.texts(outcome, observer).contains(Self.secret))
    }
}
