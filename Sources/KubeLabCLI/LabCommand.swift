import ArgumentParser
import Foundation
import Labs
import LuaPlugins

struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab", abstract: "List and grade lab exercises.",
        subcommands: [List.self, Show.self, Grade.self])

    static func labsDir() throws -> String {
        guard let d = Lab.labsDirectory() else { throw Failure(Exit.badInput, "no labs folder found (run from the repository, or set KUBELAB_LABS)") }
        return d
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the labs.")
        func run() throws {
            let labs: [Lab]
            do { labs = try Lab.all(in: try LabCommand.labsDir()) } catch let e as LabError { throw Failure(Exit.badInput, e.message) }
            for l in labs { print("\(l.name)\t\(l.title)\t(\(l.kind), \(l.maxScore) points)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a lab's instructions and checks.")
        @Argument var name: String
        func run() throws {
            let lab: Lab
            do { lab = try Lab.find(name, in: try LabCommand.labsDir()) } catch let e as LabError { throw Failure(Exit.badInput, e.message) }
            if let readme = try? readText("\(lab.directory)/README.md") { print(readme) }
            print("checks:")
            for c in lab.checks { print("  \(c.id) (\(c.points) points): \(c.description.isEmpty ? c.check : c.description)") }
            print("\nstarter: \(lab.directory)/\(lab.starter)")
        }
    }

    struct Grade: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Grade a solution on the lab's seeds (and hidden ones).")
        @Argument var name: String
        @Option(help: "The plugin to grade.") var solution: String
        @Option(help: "Comma-separated seeds, e.g. 1,2,3 (default: the lab's).") var seeds: String?
        @Option(help: "text or json.") var format: String = "text"

        func run() throws {
            guard ["text", "json"].contains(format) else { throw Failure(Exit.badInput, "--format: expected text or json, got '\(format)'") }
            var seedList: [UInt64]?
            if let s = seeds {
                var list: [UInt64] = []
                for part in s.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let v = UInt64(part.trimmingCharacters(in: .whitespaces)) else {
                        throw Failure(Exit.badInput, "--seeds: '\(part)' is not a whole number (use e.g. 1,2,3)")
                    }
                    list.append(v)
                }
                seedList = list
            }
            guard FileManager.default.fileExists(atPath: solution) else { throw Failure(Exit.badInput, "\(solution): no such file") }
            let grade: Labs.Grade
            do {
                let lab = try Lab.find(name, in: try LabCommand.labsDir())
                grade = try Grader.grade(lab, solution: solution, seeds: seedList)
            } catch let e as LabError {
                throw Failure(Exit.badInput, e.message)
            } catch let e as PluginError {
                throw Failure(e.isLoadFailure ? Exit.pluginFailed : Exit.badInput, e.message)
            } catch let f as Failure {
                throw f
            } catch {
                throw Failure(Exit.badInput, "\(error)")
            }
            print(format == "json" ? grade.json() : grade.text(), terminator: "")
            if !grade.passed { throw ExitCode(Exit.checksFailed) }
        }
    }
}
