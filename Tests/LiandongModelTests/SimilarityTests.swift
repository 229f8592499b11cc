import LiandongModel
import Testing

/// Address similarity: the share of the shorter text's character bigrams the other has, white space
/// and punctuation ignored.
@Suite struct SimilarityTests {
    @Test(arguments: [
        ("建国路88号", "建国路88号", 1.0),
        // 建国 国路 路8 88 8号 against 建国 国路 路8 86 6号: 3 of 5 shared.
        ("建国路88号", "建国路86号", 3.0 / 5.0),
        ("建国路 88号。", "建国路88号", 1.0),
        // One address says more than the other: 五一 一北 北路 路1 12 28 8号 all in the longer one, 号附 附近 not.
        ("五一北路128号附近", "福州市鼓楼区五一北路128号", 7.0 / 9.0),
        ("甲", "甲", 1.0),
        ("甲", "甲乙", 0.0),
        ("", "建国路", 0.0),
        ("abab", "ab", 1.0),  // {ab} is all in {ab, ba}
        // Characters of several scalars: é composed or not is one character; flags are one each.
        ("café路", "cafe\u{301}路", 1.0),
        // Kana with its voicing mark apart, and a Hangul syllable as its jamo, are the same characters.
        ("がっこう", "か\u{3099}っこう", 1.0),
        ("한국", "\u{1112}\u{1161}\u{11AB}국", 1.0),
        ("🇨🇳建国路", "🇨🇳建国", 2.0 / 2.0),
        ("🇨🇳建国路", "🇯🇵建国路", 2.0 / 3.0),
    ])
    func bigramOverlap(a: String, b: String, expected: Double) {
        #expect(abs(MatchingPolicy.similarity(a, b) - expected) < 1e-12)
        #expect(abs(MatchingPolicy.similarity(b, a) - expected) < 1e-12)
    }
}
