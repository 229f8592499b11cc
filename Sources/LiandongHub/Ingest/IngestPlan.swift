import Crypto
import Foundation
import LiandongModel

/// The current stored version of one entity, as the planner needs it.
struct EntityState: Sendable {
    var id: UUID
    var version: Int
    var sourceTime: Date
    var contentHash: String
    var fields: [String: FieldValue]
    /// The mapping that produced the stored version: a value it loses is recorded as that mapping's.
    var mapping: MappingRef
}

/// Decides, without touching the database, what a sequence of mapped records does to the entities:
/// which are inserted or updated, which values lose and become alternates, what is audited.
///
/// The newest *source* time wins (ties broken by the content hash, so arrival order never matters);
/// an identical record changes nothing.
struct IngestPlan {
    struct EntityWrite {
        var kind: EntityKind
        var id: UUID
        var source: SourceSystemID
        var externalID: String
        var version: Int
        var sourceTime: Date
        var contentHash: String
        var fieldsJSON: String
        var mapping: MappingRef
        var rawPayloadID: Int64
    }

    struct AlternateValue {
        var kind: EntityKind
        var entityID: UUID
        var field: String
        var value: FieldValue
        var source: SourceSystemID
        var sourceTime: Date
        var mapping: MappingRef
        var reason: String
    }

    struct LinkWrite {
        var kind: EntityKind
        var fromEntity: UUID
        var link: CanonicalRecord.Link
    }

    /// Current state by (source, external id); updated as records are planned.
    var states: [String: EntityState]
    var newXrefs: [(source: SourceSystemID, externalID: String, kind: EntityKind, id: UUID)] = []
    var writes: [UUID: EntityWrite] = [:]
    var alternates: [AlternateValue] = []
    var links: [LinkWrite] = []
    var changes = ChangeSet()
    var summary = IngestSummary()
    /// Reports that were inserted, updated or given alternates: identity resolution looks at these.
    var touchedReports: [UUID: CanonicalRecord] = [:]
    /// Reports whose stored version is now this record: identity resolution need not read them back.
    var storedReports: [UUID: CanonicalRecord] = [:]

    /// Readings that are now their entity's stored version, in the order planned: threshold rules
    /// look at these.
    var currentReadings: [(record: CanonicalRecord, rawPayloadID: Int64)] = []

    /// The kinds whose records are reports of incidents.
    let reports: [EntityKind]
    /// The kinds whose records are readings a threshold rule compares.
    let readings: Set<EntityKind>

    init(states: [String: EntityState], reports: [EntityKind], readings: Set<EntityKind> = []) {
        self.states = states
        self.reports = reports
        self.readings = readings
    }

    static func key(_ source: SourceSystemID, _ externalID: String) -> String { "\(source.rawValue)\u{1F}\(externalID)" }

    /// The content hash of a record, given the canonical JSON of its fields.
    static func contentHash(ofFields json: [UInt8]) -> String { SHA256.hash(data: json).hexString }

    /// An entity's id, derived from its kind, source and external id, so that a rebuild gives every
    /// entity the id it had and the audit trail keeps following it.
    static func entityID(_ record: CanonicalRecord) -> UUID {
        let hash = SHA256.hash(data: Data("\(record.kind.rawValue)\u{1F}\(record.source.rawValue)\u{1F}\(record.externalID)".utf8))
        return UUID(Array(hash.prefix(16)), version: 5)  // version 5 style: name-based
    }

    /// A record's fields as canonical JSON and their content hash: each record's own, so a batch's
    /// are made on every core before it is planned.
    struct Encoded: Sendable {
        var json: [UInt8]
        var hash: String

        init(_ record: CanonicalRecord) {
            json = FieldValue.object(record.fields).canonicalJSONBytes
            hash = IngestPlan.contentHash(ofFields: json)
        }
    }

    /// Plans one record; `encoded` is its `Encoded`, when made already.
    mutating func apply(_ record: CanonicalRecord, rawPayloadID: Int64, encoded: Encoded? = nil) {
        let key = Self.key(record.source, record.externalID)
        let encoded = encoded ?? Encoded(record)
        let (json, hash) = (encoded.json, encoded.hash)
        guard let current = states[key] else {
            let id = Self.entityID(record)
            newXrefs.append((record.source, record.externalID, record.kind, id))
            store(record, id: id, version: 1, hash: hash, json: json, rawPayloadID: rawPayloadID)
            summary.inserted += 1
            touch(record, id: id)
            changes.append(
                .entity(action: .insert, record: record, id: id, before: nil, after: .object(record.fields), afterJSON: json),
                newVersionOf: record.kind, id: id)
            return
        }
        if current.contentHash == hash {
            summary.unchanged += 1
            return
        }
        let newer = record.sourceTime > current.sourceTime
            || (record.sourceTime == current.sourceTime && hash > current.contentHash)
        let names = Set(current.fields.keys).union(record.fields.keys).sorted()
        let changed = names.filter { current.fields[$0] != record.fields[$0] }
        if newer {
            for name in changed {
                if let old = current.fields[name] {
                    alternates.append(
                        AlternateValue(
                            kind: record.kind, entityID: current.id, field: name, value: old, source: record.source,
                            sourceTime: current.sourceTime, mapping: current.mapping, reason: "replaced"))
                }
            }
            store(record, id: current.id, version: current.version + 1, hash: hash, json: json, rawPayloadID: rawPayloadID)
            summary.updated += 1
            touch(record, id: current.id)
            changes.append(
                .entity(
                    action: .update, record: record, id: current.id,
                    before: .object(Dictionary(uniqueKeysWithValues: changed.map { ($0, current.fields[$0] ?? .null) })),
                    after: .object(Dictionary(uniqueKeysWithValues: changed.map { ($0, record.fields[$0] ?? .null) }))),
                newVersionOf: record.kind, id: current.id)
        } else {
            var kept: [String: FieldValue] = [:]
            for name in changed {
                if let value = record.fields[name] {
                    kept[name] = value
                    alternates.append(
                        AlternateValue(
                            kind: record.kind, entityID: current.id, field: name, value: value, source: record.source,
                            sourceTime: record.sourceTime, mapping: record.mapping, reason: "older"))
                }
            }
            summary.older += 1
            touch(record, id: current.id)
            changes.append(.entity(action: .alternate, record: record, id: current.id, before: nil, after: .object(kept)))
        }
    }

    /// Notes a report whose incident must be resolved or recomputed.
    private mutating func touch(_ record: CanonicalRecord, id: UUID) {
        if reports.contains(record.kind) { touchedReports[id] = record }
    }

    private mutating func store(
        _ record: CanonicalRecord, id: UUID, version: Int, hash: String, json: [UInt8], rawPayloadID: Int64
    ) {
        states[Self.key(record.source, record.externalID)] = EntityState(
            id: id, version: version, sourceTime: record.sourceTime, contentHash: hash, fields: record.fields,
            mapping: record.mapping)
        writes[id] = EntityWrite(
            kind: record.kind, id: id, source: record.source, externalID: record.externalID, version: version,
            sourceTime: record.sourceTime, contentHash: hash, fieldsJSON: String(decoding: json, as: UTF8.self),
            mapping: record.mapping, rawPayloadID: rawPayloadID)
        for link in record.links {
            links.append(LinkWrite(kind: record.kind, fromEntity: id, link: link))
        }
        if reports.contains(record.kind) { storedReports[id] = record }
        if readings.contains(record.kind) { currentReadings.append((record, rawPayloadID)) }
    }
}
