using Loopvol.Pool.Extents;

namespace Loopvol.Tests.ChangedBlocks;

/// <summary>How ranges become the answer: widened to whole blocks, clipped, and merged when they overlap or touch.</summary>
public sealed class SnapshotMetadataBlocksTests
{
    private const long B = 4096;

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(new[] { (0L, 1L) }, 0L, 10 * B, new[] { (0L, B) }).SetName("Merged_APartialBlock_IsTheWholeBlock");
        yield return new TestCaseData(new[] { (0L, B), (B, 2 * B) }, 0L, 10 * B, new[] { (0L, 2 * B) })
            .SetName("Merged_TouchingRanges_AreOne");
        yield return new TestCaseData(new[] { (0L, 3 * B), (B, 2 * B), (2 * B + 5, 4 * B) }, 0L, 10 * B, new[] { (0L, 4 * B) })
            .SetName("Merged_OverlappingAndContainedRanges_AreOne");
        yield return new TestCaseData(new[] { (0L, B), (2 * B, 3 * B) }, 0L, 10 * B, new[] { (0L, B), (2 * B, B) })
            .SetName("Merged_ABlockApart_StayTwo");
        yield return new TestCaseData(new[] { (0L, 2 * B), (4 * B, 6 * B) }, B, 5 * B, new[] { (B, B), (4 * B, B) })
            .SetName("Merged_AreClippedToFromAndLimit");
        yield return new TestCaseData(new[] { (0L, B), (9 * B, 12 * B) }, 2 * B, 10 * B, new[] { (9 * B, B) })
            .SetName("Merged_RangesOutsideFromAndLimit_AreDropped");
    }

    [TestCaseSource(nameof(Cases))]
    public void Merged_GivesOrderedWholeBlocks((long, long)[] input, long from, long limit, (long Offset, long Length)[] expected) =>
        Assert.That(Blocks.Merged(input, from, limit), Is.EqualTo(expected.Select(e => new BlockRange(e.Offset, e.Length))));

    [Test]
    public void Interleaved_TwoOrderedSequences_AreOneOrderedSequence() =>
        Assert.That(Blocks.Interleaved([(0, 1), (5, 6), (9, 10)], [(2, 3), (5, 7), (11, 12)]),
            Is.EqualTo(new (long, long)[] { (0, 1), (2, 3), (5, 6), (5, 7), (9, 10), (11, 12) }));
}
