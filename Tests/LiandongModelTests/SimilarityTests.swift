import LiandongModel
import Testing

/// Address similarity: character-bigram Jaccard, white space and punctuation ignored.
@Suite struct SimilarityTests {
    @Test(arguments: [
        ("建国路88号", "建国路88号", 1.0),
        // 建国 国路 路8 88 8号 against 建国 国路 路8 86 6号: 3 shared of 7.
        ("建国路88号", "建国路86号", 3.0 / 7.0),
        ("建国路 88号。", "建国路88号", 1.0),
        ("甲", "甲", 1.0),
        ("甲", "甲乙", 0.0),
        ("", "建国路", 0.0),
        ("abab", "ab", 0.5),  // {ab, ba} against {ab}
    ])
    func bigramJaccard(a: String, b: String, expected: Double) {
        #expect(abs(MatchingPolicy.similarity(a, b) - expected) < 1e-12)
        #expect(abs(MatchingPolicy.similarity(b, a) - expected) < 1e-12)
    }
}
