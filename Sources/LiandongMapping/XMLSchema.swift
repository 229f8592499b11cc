import CLibXML2
import Foundation
import Synchronization

/// An XML Schema (XSD) that documents are validated against, through libxml2: the OASIS CAP 1.2
/// schema for every CAP source (`document: {schema: {file: schemas/CAP-v1.2.xsd}}`). The schema is
/// parsed once; each validation has a context of its own. Documents are read without the network
/// and without expanding entities (the mapping's parser has already refused any DTD).
public final class XMLSchema: Sendable {
    /// One thing the schema does not allow, with the line it is on.
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Why a schema file cannot be used.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// libxml2's parsed schema: read-only once parsed, and so shared by validations on any thread.
    private nonisolated(unsafe) let schema: xmlSchemaPtr
    /// The file it was read from.
    public let file: URL

    public init(file: URL) throws {
        Self.initialised
        let collected = Collected()
        guard let context = xmlSchemaNewParserCtxt(file.path) else { throw Problem(description: "\(file.path) cannot be read as a schema") }
        defer { xmlSchemaFreeParserCtxt(context) }
        xmlSchemaSetParserStructuredErrors(context, Self.collect, Unmanaged.passUnretained(collected).toOpaque())
        guard let schema = xmlSchemaParse(context) else {
            throw Problem(description: "\(file.path) is not an XML Schema: " + collected.violations.map(\.description).joined(separator: "; "))
        }
        self.schema = schema
        self.file = file
    }

    deinit { xmlSchemaFree(schema) }

    /// What in `text` (a document already parsed as XML) the schema does not allow; empty when valid.
    public func violations(in text: String) -> [Violation] {
        let collected = Collected()
        var utf8 = Array(text.utf8)
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let document = utf8.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { xmlReadMemory($0, Int32(buffer.count), "document.xml", "UTF-8", options) }
            }
        }
        guard let document else { return [Violation(line: 0, message: "not well-formed XML")] }
        defer { xmlFreeDoc(document) }
        guard let context = xmlSchemaNewValidCtxt(schema) else { return [Violation(line: 0, message: "the validator could not start")] }
        defer { xmlSchemaFreeValidCtxt(context) }
        xmlSchemaSetValidStructuredErrors(context, Self.collect, Unmanaged.passUnretained(collected).toOpaque())
        let outcome = xmlSchemaValidateDoc(context, document)
        if outcome != 0, collected.violations.isEmpty { return [Violation(line: 0, message: "not valid (libxml2 answered \(outcome))")] }
        return collected.violations
    }

    /// What libxml2 reported, gathered by `collect`.
    private final class Collected: @unchecked Sendable {
        var violations: [Violation] = []
    }

    private static let collect: xmlStructuredErrorFunc = { user, error in
        guard let user, let error else { return }
        let collected = Unmanaged<Collected>.fromOpaque(user).takeUnretainedValue()
        let message = error.pointee.message.map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "invalid"
        collected.violations.append(Violation(line: Int(error.pointee.line), message: message))
    }

    /// libxml2's global state, set up once before any parse.
    private static let initialised: Void = xmlInitParser()
}
