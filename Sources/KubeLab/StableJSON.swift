import Foundation

/// Results written with `--json` and `--format json`: sorted keys, pretty printed,
/// slashes unescaped, one trailing newline, so the same result always gives the same text.
public protocol StableJSON: Encodable {}

extension StableJSON {
    /// The stable JSON text of this value.
    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(self), let s = String(data: data, encoding: .utf8) else { return "{}" }
        return s + "\n"
    }
}
