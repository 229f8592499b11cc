import Foundation

extension TimeInterval {
    /// Parses a duration as written in configuration and policy files: `90s`, `10m`, `2h`, `500ms`.
    public init?(durationText text: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let n = Double(text.dropLast(suffix.count)), n >= 0 {
                self = n * factor
                return
            }
        }
        return nil
    }
}

extension Duration {
    /// The duration in seconds, for timeouts and measurements given as `Double`.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
