import Foundation
import Yams

/// One check of a lab: a library check with its arguments, points and hint.
public struct CheckSpec: Sendable, Equatable {
    public var id: String
    /// The library check's name (see `CheckLibrary.names`).
    public var check: String
    public var points: Int
    public var hint: String
    public var description: String
    /// Arguments, by name: strings, numbers, label maps.
    public var args: [String: CheckArg]
}

/// A check argument.
public enum CheckArg: Sendable, Equatable {
    case string(String)
    case number(Double)
    case labels([String: String])
}

/// A lab, as `lab.yaml` describes it.
public struct Lab: Sendable {
    /// The folder name, e.g. "01-first-scheduler".
    public var name: String
    public var directory: String
    public var title: String
    /// The kind of plugin the student writes ("scheduler").
    public var kind: String
    public var scenario: String
    public var starter: String
    public var seeds: [UInt64]
    public var until: String
    public var checks: [CheckSpec]

    public var maxScore: Int { checks.reduce(0) { $0 + $1.points } }
}

/// A problem with a lab definition or its lookup; exit code 2.
public struct LabError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Lab {
    /// Where labs live: `$KUBELAB_LABS`, else `./labs`, else `labs/` beside the
    /// repository that holds the executable.
    public static func labsDirectory() -> String? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["KUBELAB_LABS"], !env.isEmpty { return env }
        if fm.fileExists(atPath: "labs") { return "labs" }
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("labs").path
            if fm.fileExists(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// Every lab folder (those with a lab.yaml), sorted.
    public static func all(in dir: String) throws(LabError) -> [Lab] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var out: [Lab] = []
        for n in names.sorted() where FileManager.default.fileExists(atPath: "\(dir)/\(n)/lab.yaml") {
            out.append(try load(directory: "\(dir)/\(n)"))
        }
        return out
    }

    /// Finds a lab by folder name ("01-first-scheduler") or its number ("01", "1").
    public static func find(_ name: String, in dir: String) throws(LabError) -> Lab {
        let labs = try all(in: dir)
        if let l = labs.first(where: { $0.name == name }) { return l }
        let num = Int(name)
        if let n = num, let l = labs.first(where: { Int($0.name.prefix { $0.isNumber }) == n }) { return l }
        let known = labs.map(\.name).joined(separator: ", ")
        throw LabError("no lab named '\(name)' in \(dir) (labs: \(known.isEmpty ? "none" : known))")
    }

    /// Reads `lab.yaml` in a lab folder.
    public static func load(directory: String) throws(LabError) -> Lab {
        let file = "\(directory)/lab.yaml"
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw LabError("\(file): cannot read the file")
        }
        let root: Yams.Node
        do {
            guard let r = try Yams.compose(yaml: text) else { throw LabError("\(file): the file is empty") }
            root = r
        } catch let e as LabError { throw e } catch {
            throw LabError("\(file): invalid YAML: \(error)")
        }
        func fail(_ node: Yams.Node?, _ field: String, _ why: String) -> LabError {
            let line = node?.mark.map { ":\($0.line)" } ?? ""
            return LabError("\(file)\(line): \(field): \(why)")
        }
        guard let top = root.mapping else { throw fail(root, "lab", "expected a mapping") }
        func str(_ key: String, default d: String? = nil) throws(LabError) -> String {
            guard let n = top[key] else {
                if let d { return d }
                throw fail(root, key, "required field is missing")
            }
            guard let s = n.scalar?.string else { throw fail(n, key, "expected a string") }
            return s
        }
        let known: Set<String> = ["title", "kind", "scenario", "starter", "seeds", "until", "checks", "description"]
        for (k, v) in top where !known.contains(k.string ?? "") {
            throw fail(v, k.string ?? "?", "unknown field (known: \(known.sorted().joined(separator: ", ")))")
        }
        let title = try str("title")
        let kind = try str("kind")
        guard kind == "scheduler" else { throw fail(top["kind"], "kind", "only 'scheduler' labs are supported so far, got '\(kind)'") }
        var seeds: [UInt64] = [1, 2, 3]
        if let s = top["seeds"] {
            guard let seq = s.sequence else { throw fail(s, "seeds", "expected a list of numbers") }
            seeds = []
            for item in seq {
                guard let v = item.scalar.flatMap({ UInt64($0.string) }) else { throw fail(item, "seeds", "expected a whole number") }
                seeds.append(v)
            }
        }
        var checks: [CheckSpec] = []
        guard let cs = top["checks"]?.sequence, !cs.isEmpty else { throw fail(top["checks"] ?? root, "checks", "expected a non-empty list") }
        var ids: Set<String> = []
        for (i, c) in cs.enumerated() {
            let at = "checks[\(i)]"
            guard let m = c.mapping else { throw fail(c, at, "expected a mapping") }
            guard let id = m["id"]?.scalar?.string, !id.isEmpty else { throw fail(c, "\(at).id", "required") }
            guard ids.insert(id).inserted else { throw fail(c, "\(at).id", "duplicate id '\(id)'") }
            guard let check = m["check"]?.scalar?.string else { throw fail(c, "\(at).check", "required") }
            guard CheckLibrary.names.contains(check) else {
                throw fail(m["check"], "\(at).check", "unknown check '\(check)' (known: \(CheckLibrary.names.sorted().joined(separator: ", ")))")
            }
            guard let points = m["points"]?.scalar.flatMap({ Int($0.string) }), points >= 0 else {
                throw fail(c, "\(at).points", "expected a whole number >= 0")
            }
            var args: [String: CheckArg] = [:]
            if let a = m["args"] {
                guard let am = a.mapping else { throw fail(a, "\(at).args", "expected a mapping") }
                for (k, v) in am {
                    let key = k.string ?? ""
                    if let lm = v.mapping {
                        var labels: [String: String] = [:]
                        for (lk, lv) in lm { labels[lk.string ?? ""] = lv.scalar?.string ?? "" }
                        args[key] = .labels(labels)
                    } else if let s = v.scalar {
                        if let d = Double(s.string), s.style == .plain { args[key] = .number(d) } else { args[key] = .string(s.string) }
                    } else {
                        throw fail(v, "\(at).args.\(key)", "expected a string, a number or a label mapping")
                    }
                }
            }
            checks.append(CheckSpec(id: id, check: check, points: points, hint: m["hint"]?.scalar?.string ?? "",
                                    description: m["description"]?.scalar?.string ?? "", args: args))
        }
        let name = URL(fileURLWithPath: directory).lastPathComponent
        return Lab(name: name, directory: directory, title: title, kind: kind, scenario: try str("scenario"),
                   starter: try str("starter", default: "starter.lua"), seeds: seeds, until: try str("until", default: "30m"),
                   checks: checks)
    }
}
