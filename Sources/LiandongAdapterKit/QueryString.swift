import Foundation

/// Builds `?a=1&b=2` with each value percent-encoded; empty for no items.
public func queryString(_ items: [(String, String)]) -> String {
    guard !items.isEmpty else { return "" }
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&=+?")
    return "?" + items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
        .joined(separator: "&")
}
