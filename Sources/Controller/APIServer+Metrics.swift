import Foundation

extension APIServer {
    /// `GET /metrics`: the Prometheus text exposition of this moment (docs/metrics.md).
    static func metrics(_ context: APIContext) async -> APIReply {
        let text = context.metrics.exposition(of: await context.board.report())
        return APIReply(status: 200, contentType: ControllerMetrics.contentType, body: Data(text))
    }
}
