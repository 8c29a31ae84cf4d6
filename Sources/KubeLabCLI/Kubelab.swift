import ArgumentParser
import Foundation

/// Exit codes of every command (DESIGN §4).
enum Exit {
    static let ok: Int32 = 0
    static let checksFailed: Int32 = 1
    static let badInput: Int32 = 2
    static let pluginFailed: Int32 = 3
}

/// A failure that ends the command with one line on stderr and an exit code.
struct Failure: Error {
    let code: Int32
    let message: String
    init(_ code: Int32, _ message: String) { self.code = code; self.message = message }
}

struct Kubelab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubelab",
        abstract: "A Kubernetes-style cluster runtime with Lua schedulers, scenarios and graded labs.",
        discussion: "Exit codes: 0 ok, 1 checks failed, 2 bad input, 3 a plugin failed.",
        subcommands: [Run.self, Schedule.self, LabCommand.self, Check.self]
    )
}

@main
enum Main {
    static func main() {
        let code: Int32
        do {
            var command = try Kubelab.parseAsRoot()
            try command.run()
            code = Exit.ok
        } catch let f as Failure {
            fflush(nil)
            FileHandle.standardError.write(Data("kubelab: \(f.message)\n".utf8))
            code = f.code
        } catch let e as ExitCode {
            code = e.rawValue
        } catch {
            let parserCode = Kubelab.exitCode(for: error)
            if parserCode == .success {
                print(Kubelab.fullMessage(for: error))
                code = Exit.ok
            } else {
                fflush(nil)
                let msg = Kubelab.message(for: error).replacingOccurrences(of: "\n", with: " ")
                FileHandle.standardError.write(Data("kubelab: \(msg) (see 'kubelab help')\n".utf8))
                code = Exit.badInput
            }
        }
        fflush(nil)
        exit(code)
    }
}

/// Reads a text file or fails with exit code 2 naming it.
func readText(_ path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else { throw Failure(Exit.badInput, "\(path): no such file") }
    guard let d = FileManager.default.contents(atPath: path) else { throw Failure(Exit.badInput, "\(path): cannot read the file") }
    guard let s = String(data: d, encoding: .utf8) else { throw Failure(Exit.badInput, "\(path): not UTF-8 text") }
    return s
}

/// Writes a file or fails with exit code 2.
func writeText(_ text: String, to path: String) throws {
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw Failure(Exit.badInput, "\(path): cannot write the file (\(error.localizedDescription))")
    }
}
