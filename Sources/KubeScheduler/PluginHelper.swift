/// Helpers that kube-scheduler's built-in plugins share (its `plugins/helper` package).
enum PluginHelper {
    /// kube-scheduler's `helper.DefaultNormalizeScore`: scales the scores so that the
    /// largest becomes `maxPriority`, with Go's truncating integer division, and with
    /// `reverse` turns the result into `maxPriority - score`.
    ///
    /// When every score is 0 (or the list is empty) the scores stay 0, except under
    /// `reverse`, where every node gets `maxPriority`.
    ///
    /// - Parameters:
    ///   - maxPriority: the top of the scale (`maxNodeScore`).
    ///   - reverse: whether a lower raw score is better (TaintToleration).
    ///   - scores: the raw scores, replaced by the normalized ones, in place.
    static func defaultNormalizeScore(_ maxPriority: Int64, reverse: Bool,
                                      _ scores: inout [(node: String, score: Int64)]) {
        var plain = scores.map(\.score)
        defaultNormalizeScore(maxPriority, reverse: reverse, &plain)
        for i in scores.indices { scores[i].score = plain[i] }
    }

    /// The same over the scores alone.
    static func defaultNormalizeScore(_ maxPriority: Int64, reverse: Bool, _ scores: inout [Int64]) {
        var maxCount: Int64 = 0
        for s in scores where s > maxCount { maxCount = s }
        if maxCount == 0 {
            if reverse {
                for i in scores.indices { scores[i] = maxPriority }
            }
            return
        }
        for i in scores.indices {
            var score = maxPriority * scores[i] / maxCount
            if reverse { score = maxPriority - score }
            scores[i] = score
        }
    }
}
