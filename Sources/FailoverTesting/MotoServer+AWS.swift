import Foundation

/// Setup and inspection calls against moto's Route 53 and ELBv2 APIs (blocking).
extension MotoServer {
    /// Creates hosted zone `name` (`example.test.`); returns its id without `/hostedzone/`.
    public func createHostedZone(_ name: String) throws -> String {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">\
            <Name>\(name)</Name><CallerReference>\(UUID().uuidString)</CallerReference></CreateHostedZoneRequest>
            """
        let reply = try call(
            service: "route53", "POST", "/2013-04-01/hostedzone", body: body, contentType: "application/xml")
        guard let id = Self.elements("Id", in: reply.body).first(where: { $0.hasPrefix("/hostedzone/") }) else {
            throw HarnessError(.command, "moto CreateHostedZone gave no id: \(reply.body.prefix(400))")
        }
        return String(id.dropFirst("/hostedzone/".count))
    }

    /// UPSERTs `name type ttl values` in zone `zoneID` (setup of a record to move).
    public func upsertRecord(zoneID: String, name: String, type: String = "A", ttl: Int, values: [String]) throws {
        let records = values.map { "<ResourceRecord><Value>\($0)</Value></ResourceRecord>" }.joined()
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch>\
            <Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>\(name)</Name><Type>\(type)</Type>\
            <TTL>\(ttl)</TTL><ResourceRecords>\(records)</ResourceRecords></ResourceRecordSet></Change></Changes>\
            </ChangeBatch></ChangeResourceRecordSetsRequest>
            """
        _ = try call(
            service: "route53", "POST", "/2013-04-01/hostedzone/\(zoneID)/rrset", body: body,
            contentType: "application/xml")
    }

    /// The TTL and values of record `name type` in zone `zoneID` as ListResourceRecordSets
    /// shows them; nil when absent.
    public func record(zoneID: String, name: String, type: String = "A") throws -> (ttl: Int, values: [String])? {
        let reply = try call(service: "route53", "GET", "/2013-04-01/hostedzone/\(zoneID)/rrset")
        for set in Self.elements("ResourceRecordSet", in: reply.body) {
            guard Self.elements("Name", in: set).first == name, Self.elements("Type", in: set).first == type else {
                continue
            }
            let ttl = Self.elements("TTL", in: set).first.flatMap { Int($0) } ?? -1
            return (ttl, Self.elements("Value", in: set))
        }
        return nil
    }

    /// Creates a VPC and an `ip` target group `name` on port 80 in it; returns the group's ARN.
    public func createTargetGroup(_ name: String) throws -> String {
        let form = "application/x-www-form-urlencoded"
        let vpc = try call(
            service: "ec2", "POST", "/", body: "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16",
            contentType: form)
        guard let vpcID = Self.elements("vpcId", in: vpc.body).first else {
            throw HarnessError(.command, "moto CreateVpc gave no vpcId: \(vpc.body.prefix(400))")
        }
        let group = try call(
            service: "elasticloadbalancing", "POST", "/",
            body: "Action=CreateTargetGroup&Version=2015-12-01&Name=\(name)&Protocol=HTTP&Port=80"
                + "&VpcId=\(vpcID)&TargetType=ip",
            contentType: form)
        guard let arn = Self.elements("TargetGroupArn", in: group.body).first else {
            throw HarnessError(.command, "moto CreateTargetGroup gave no ARN: \(group.body.prefix(400))")
        }
        return arn
    }

    /// Registers `targets` (`id`, `port`) in the group (setup).
    public func registerTargets(_ arn: String, _ targets: [(id: String, port: Int)]) throws {
        var body = "Action=RegisterTargets&Version=2015-12-01&TargetGroupArn=\(Self.formEncoded(arn))"
        for (index, target) in targets.enumerated() {
            body += "&Targets.member.\(index + 1).Id=\(target.id)&Targets.member.\(index + 1).Port=\(target.port)"
        }
        _ = try call(
            service: "elasticloadbalancing", "POST", "/", body: body, contentType: "application/x-www-form-urlencoded")
    }

    /// `id:port` → state for every target of the group, as DescribeTargetHealth shows them.
    public func targetStates(_ arn: String) throws -> [String: String] {
        let reply = try call(
            service: "elasticloadbalancing", "POST", "/",
            body: "Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=\(Self.formEncoded(arn))",
            contentType: "application/x-www-form-urlencoded")
        var out: [String: String] = [:]
        for member in Self.elements("member", in: reply.body) {
            let id = Self.elements("Id", in: member).first ?? "?"
            let port = Self.elements("Port", in: member).first ?? "?"
            out["\(id):\(port)"] = Self.elements("State", in: member).first ?? "?"
        }
        return out
    }

    private static func formEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
