import ArgumentParser
import FailoverCore

/// `failoverctl check`: validates the configuration and prints what it found.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and print a summary (exit 2 on an error).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        print("\(config.sourcePath): OK")
        print("controller \(config.id), API on \(config.listen), state in \(config.stateDir), coordination local")
        for site in config.sites {
            let region = site.region.map { " (\($0))" } ?? ""
            print(
                "site \(site.name)\(region): every \(site.interval.text), timeout \(site.timeout.text),"
                    + " fall \(site.fall), rise \(site.rise), require \(site.require.rawValue)")
            for check in site.checks {
                let timeout = check.timeout.map { ", timeout \($0.text)" } ?? ""
                print("  \(check.name): \(check.kind.label) \(check.kind.redactedTarget)\(timeout)")
            }
        }
    }
}
