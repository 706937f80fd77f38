import FailoverCore
import Foundation

/// The answer to an accepted command.
public struct CommandReply: Sendable, Codable {
    /// The command, as accepted (`drill`, `failover`, `pause`, `resume`).
    public var accepted: String
    /// The group right after it.
    public var group: GroupStatus
}

/// The body of a `POST /groups/{g}/failover|drill`.
struct CommandBody: Decodable {
    var to: String?
    var force: Bool?
    var failback: Bool?
}

extension APIServer {
    /// `GET /groups/{g}`, `GET /groups/{g}/plan?command=drill&to=west&failback=1`, and the
    /// commands `POST /groups/{g}/failover|drill|pause|resume`.
    static func groupRoute(_ request: APIRequest, _ context: APIContext) async throws -> APIReply {
        let parts = request.path.dropFirst("/groups/".count).split(separator: "/").map(String.init)
        guard let name = parts.first, parts.count <= 2 else { return .error(404, "no such endpoint: \(request.path)") }
        guard let status = await context.executor.status(name) else {
            return .error(404, "no group named \(name) (groups: \(context.config.groups.map(\.name).joined(separator: ", ")))")
        }
        let action = parts.count == 2 ? parts[1] : nil
        switch (request.method, action) {
        case ("GET", nil), ("HEAD", nil): return try json(status)
        case ("GET", "plan"), ("HEAD", "plan"): return try await preview(name, request.query, context)
        case ("POST", .some(let verb)) where ["failover", "drill", "pause", "resume"].contains(verb):
            if let refusal = authorize(request, context.config) { return refusal }
            return try await command(verb, group: name, body: request.body, context)
        case (_, .some(let verb)) where ["failover", "drill", "pause", "resume"].contains(verb):
            return .error(405, "\(request.path) takes POST with a bearer token")
        default:
            return .error(404, "no such endpoint: \(request.path) (try /groups/\(name), /groups/\(name)/plan, POST /groups/\(name)/drill)")
        }
    }

    /// Nil when the request carries the configured bearer token; else the refusal.
    static func authorize(_ request: APIRequest, _ config: ControllerConfig) -> APIReply? {
        guard let token = config.apiToken, !token.isEmpty else {
            return .error(403, "commands are disabled: this controller has no controller.api_token")
        }
        let header = request.headers["authorization"] ?? ""
        guard header.hasPrefix("Bearer "), constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(token.utf8)) else {
            return .error(401, "missing or wrong bearer token (Authorization: Bearer <controller.api_token>)")
        }
        return nil
    }

    /// Compares without stopping at the first difference, so timing does not leak the token.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    private static func command(_ verb: String, group: String, body: Data, _ context: APIContext) async throws -> APIReply {
        let command = try parseCommand(verb, body: body)
        let status: GroupStatus
        do {
            status = try await context.executor.command(command, group: group)
        } catch {
            switch error {
            case .refused(let why): return .error(409, why)
            case .unknownGroup(let name): return .error(404, "no group named \(name)")
            }
        }
        return try json(CommandReply(accepted: verb, group: status), status: 202)
    }

    static func parseCommand(_ verb: String, body: Data) throws -> GroupCommand {
        let fields: CommandBody
        do {
            fields = body.isEmpty ? CommandBody() : try JSONDecoder().decode(CommandBody.self, from: body)
        } catch {
            throw BadRequest(message: "the body is not JSON like {\"to\": \"west\", \"force\": false, \"failback\": false}")
        }
        switch verb {
        case "failover":
            guard let to = fields.to, !to.isEmpty else { throw BadRequest(message: "failover needs {\"to\": \"SITE\"}") }
            return .failover(to: to, force: fields.force ?? false)
        case "drill": return .drill(to: fields.to, failback: fields.failback ?? false)
        case "pause": return .pause
        default: return .resume
        }
    }

    private static func preview(_ group: String, _ query: [String: String], _ context: APIContext) async throws -> APIReply {
        let flag = { (name: String) in ["1", "true", "yes"].contains(query[name] ?? "") }
        let command: GroupCommand
        switch query["command"] ?? "drill" {
        case "drill": command = .drill(to: query["to"], failback: flag("failback"))
        case "failover":
            guard let to = query["to"] else { throw BadRequest(message: "a failover plan needs to=SITE") }
            command = .failover(to: to, force: flag("force"))
        default: throw BadRequest(message: "command: drill or failover")
        }
        guard let fsm = await context.executor.machine(group) else { return .error(404, "no group named \(group)") }
        let snapshot = await context.board.snapshot()
        let plan: PlanPreview
        do {
            plan = try fsm.preview(command, snapshot: snapshot, sites: context.config.sites)
        } catch {
            return .error(409, error.description)
        }
        return try json(plan)
    }
}
