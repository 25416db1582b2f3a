namespace Loopvol.Pool.Extents;

/// <summary>Ranges in whole blocks of <see cref="PoolOptions.BlockSize"/>, merged as they come.</summary>
internal static class Blocks
{
    public const long Size = PoolOptions.BlockSize;

    public static long Floor(long offset) => offset / Size * Size;

    public static long Ceiling(long offset) => offset > long.MaxValue - Size + 1 ? long.MaxValue : (offset + Size - 1) / Size * Size;

    /// <summary>
    /// <paramref name="ranges"/> (ordered by start, possibly overlapping) widened to whole blocks, clipped to
    /// [<paramref name="from"/>, <paramref name="limit"/>), with overlapping or touching ones merged; read lazily.
    /// </summary>
    public static IEnumerable<BlockRange> Merged(IEnumerable<(long Start, long End)> ranges, long from, long limit)
    {
        long start = -1, end = -1;
        foreach (var (s, e) in ranges)
        {
            var first = Math.Max(Floor(s), from);
            var last = Math.Min(Ceiling(e), limit);
            if (last <= first)
            {
                continue;
            }
            if (start < 0)
            {
                (start, end) = (first, last);
            }
            else if (first <= end)
            {
                end = Math.Max(end, last);
            }
            else
            {
                yield return new BlockRange(start, end - start);
                (start, end) = (first, last);
            }
        }
        if (start >= 0)
        {
            yield return new BlockRange(start, end - start);
        }
    }

    /// <summary>Two sequences ordered by start, as one ordered by start (read lazily).</summary>
    public static IEnumerable<(long Start, long End)> Interleaved(IEnumerable<(long Start, long End)> a,
        IEnumerable<(long Start, long End)> b)
    {
        using var left = a.GetEnumerator();
        using var right = b.GetEnumerator();
        var hasLeft = left.MoveNext();
        var hasRight = right.MoveNext();
        while (hasLeft || hasRight)
        {
            if (hasLeft && (!hasRight || left.Current.Start <= right.Current.Start))
            {
                yield return left.Current;
                hasLeft = left.MoveNext();
            }
            else
            {
                yield return right.Current;
                hasRight = right.MoveNext();
            }
        }
    }
}
