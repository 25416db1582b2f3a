using Loopvol.Core.Native;
using Loopvol.Pool.Extents;

namespace Loopvol.Tests.ChangedBlocks;

/// <summary>
/// Writes into a volume's image as its loop device would (whole blocks, then fsync), punches holes, and works out
/// the expected answers without the driver's code: by reading whole images, and by lseek(2) directly.
/// </summary>
internal static class MetadataWorkload
{
    public const int Block = 4096;

    /// <summary><paramref name="count"/> writes of 1 to 16 random blocks each, at random blocks below <paramref name="limit"/>.</summary>
    public static void WriteRandom(string image, Random random, int count, long limit)
    {
        using var handle = File.OpenHandle(image, FileMode.Open, FileAccess.Write);
        for (var i = 0; i < count; i++)
        {
            var blocks = random.Next(1, 17);
            var at = random.NextInt64(0, limit / Block - blocks) * Block;
            var bytes = new byte[blocks * Block];
            random.NextBytes(bytes);
            RandomAccess.Write(handle, bytes, at);
        }
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary><paramref name="count"/> holes of 1 to 8 blocks punched at random blocks below <paramref name="limit"/>.</summary>
    public static void PunchRandom(string image, Random random, int count, long limit)
    {
        const int punchHoleKeepSize = 0x3; // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
        using var handle = File.OpenHandle(image, FileMode.Open, FileAccess.Write);
        for (var i = 0; i < count; i++)
        {
            var blocks = random.Next(1, 9);
            var at = random.NextInt64(0, limit / Block - blocks) * Block;
            Assert.That(Libc.Fallocate(handle, punchHoleKeepSize, at, (long)blocks * Block), Is.Zero, "fallocate");
        }
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>The blocks whose bytes differ between two images, reading both whole (past an image's end: zeros).</summary>
    public static IReadOnlyList<BlockRange> DifferingBlocks(string baseImage, string targetImage, long capacity)
    {
        var a = File.ReadAllBytes(baseImage);
        var b = File.ReadAllBytes(targetImage);
        var changed = new List<(long, long)>();
        for (long offset = 0; offset < capacity; offset += Block)
        {
            if (!Slice(a, offset).SequenceEqual(Slice(b, offset)))
            {
                changed.Add((offset, offset + Block));
            }
        }
        return Merge(changed);
    }

    /// <summary>SEEK_DATA/SEEK_HOLE's data regions, widened to whole blocks and merged.</summary>
    public static IReadOnlyList<BlockRange> SeekData(string image, long capacity)
    {
        using var handle = File.OpenHandle(image, FileMode.Open, FileAccess.Read);
        var regions = new List<(long, long)>();
        long offset = 0;
        while (offset < capacity)
        {
            var data = Libc.Lseek(handle, offset, 3);
            if (data < 0 || data >= capacity)
            {
                break;
            }
            var hole = Libc.Lseek(handle, data, 4);
            regions.Add((data / Block * Block, Math.Min(capacity, (hole + Block - 1) / Block * Block)));
            offset = hole;
        }
        return Merge(regions);
    }

    /// <summary>Every range of a paged answer, in order.</summary>
    public static IReadOnlyList<BlockRange> ReadAll(MetadataStream stream, int max)
    {
        var all = new List<BlockRange>();
        for (var page = stream.Next(max); page.Count > 0; page = stream.Next(max))
        {
            Assert.That(page, Has.Count.LessThanOrEqualTo(max));
            all.AddRange(page);
        }
        return all;
    }

    public static IReadOnlyList<BlockRange> Merge(IEnumerable<(long Start, long End)> ranges)
    {
        var merged = new List<BlockRange>();
        foreach (var (start, end) in ranges)
        {
            if (merged.Count > 0 && merged[^1].End >= start)
            {
                merged[^1] = merged[^1] with { Length = Math.Max(merged[^1].End, end) - merged[^1].Offset };
            }
            else
            {
                merged.Add(new BlockRange(start, end - start));
            }
        }
        return merged;
    }

    private static ReadOnlySpan<byte> Slice(byte[] image, long offset) =>
        offset >= image.Length ? new byte[Block] : image.AsSpan((int)offset, (int)Math.Min(Block, image.Length - offset));
}
