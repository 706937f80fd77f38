// Test helper: runs one `exec` step (`/bin/sh -c SCRIPT`) through the exec plugin and
// waits for it. The orphan test kills this process with SIGKILL in the middle and checks
// that the command's whole process group dies with it.
import Actions
import FailoverCore
import Foundation

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: exec-orphan-helper SCRIPT\n".utf8))
    exit(2)
}
let context = RunContext(group: "web", incident: "web-1", kind: .drill, from: "east", to: "west", epoch: 1, term: 1)
let step = ResolvedStep(
    index: 0, kind: .exec, site: nil, action: .plugin(.exec(command: ["/bin/sh", "-c", CommandLine.arguments[1]])),
    timeout: .seconds(600), retries: 0, onFailure: .abort)
do {
    let report = try await ExecAction().perform(ActionRequest(context: context, step: step, timeout: .seconds(600)))
    print(report.changed.joined(separator: "; "))
} catch {
    FileHandle.standardError.write(Data("exec-orphan-helper: \(error)\n".utf8))
    exit(1)
}
