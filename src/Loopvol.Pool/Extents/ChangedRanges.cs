using Loopvol.Core.Native;

namespace Loopvol.Pool.Extents;

/// <summary>
/// The blocks that differ between two images of one volume, base and target, from <c>from</c> up to the target's
/// capacity. By extent maps (<see cref="ByExtents"/>, for reflinked images) no data is read; by contents
/// (<see cref="ByContents"/>, for full copies) only the blocks that hold data in either image are read and compared.
/// Either way the answer is whole blocks, merged, in order, and computed lazily as it is read.
/// </summary>
internal sealed class ChangedRanges(PinnedImage baseImage, PinnedImage target, long capacity,
    CancellationToken cancellationToken)
{
    /// <summary>How much each read of a compare takes from each image.</summary>
    internal const int ChunkBytes = 4 << 20;

    private byte[]? _baseChunk, _targetChunk;
    private long _bytesRead;

    /// <summary>Bytes of image data read so far to compare contents (both images counted).</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>
    /// Walks both extent maps over the logical offsets: a range is unchanged where both are holes (or unwritten),
    /// or where both map it to the same physical place (the target still shares the base's blocks); changed where
    /// the places differ or only one holds data. Where either extent's physical address means nothing, that range
    /// is compared by contents.
    /// </summary>
    public IEnumerable<BlockRange> ByExtents(long from) => Blocks.Merged(ChangedByExtents(from), from, capacity);

    /// <summary>
    /// Compares, block by block, the union of both images' data regions; elsewhere both are holes. A block that is
    /// a hole in one and zeros in the other is unchanged.
    /// </summary>
    public IEnumerable<BlockRange> ByContents(long from)
    {
        var data = Blocks.Merged(Blocks.Interleaved(DataExtents.Regions(baseImage, from, capacity),
            DataExtents.Regions(target, from, capacity)), from, capacity);
        return Blocks.Merged(data.SelectMany(r => Compare(r.Offset, r.End)), from, capacity);
    }

    private IEnumerable<(long Start, long End)> ChangedByExtents(long from)
    {
        using var bases = DataExtents.Mapped(baseImage, from, capacity).GetEnumerator();
        using var targets = DataExtents.Mapped(target, from, capacity).GetEnumerator();
        var b = Next(bases);
        var t = Next(targets);
        var x = from;
        while (x < capacity && (b is not null || t is not null))
        {
            cancellationToken.ThrowIfCancellationRequested();
            while (b is { } done && done.End <= x)
            {
                b = Next(bases);
            }
            while (t is { } done && done.End <= x)
            {
                t = Next(targets);
            }
            var inBase = b is { } be && be.Logical <= x;
            var inTarget = t is { } te && te.Logical <= x;
            var y = capacity;
            if (b is { } nb)
            {
                y = Math.Min(y, inBase ? nb.End : nb.Logical);
            }
            if (t is { } nt)
            {
                y = Math.Min(y, inTarget ? nt.End : nt.Logical);
            }
            if (inBase && inTarget)
            {
                var (e, f) = (b!.Value, t!.Value);
                if (!e.HasPhysical || !f.HasPhysical)
                {
                    foreach (var changed in Compare(Blocks.Floor(x), Math.Min(Blocks.Ceiling(y), capacity)))
                    {
                        yield return changed;
                    }
                }
                else if (e.Physical - e.Logical != f.Physical - f.Logical)
                {
                    yield return (x, y);
                }
            }
            else if (inBase || inTarget)
            {
                yield return (x, y);
            }
            x = y;
        }
    }

    private static FileExtent? Next(IEnumerator<FileExtent> extents) => extents.MoveNext() ? extents.Current : null;

    /// <summary>The blocks of [<paramref name="start"/>, <paramref name="end"/>) whose bytes differ, read in large chunks.</summary>
    private IEnumerable<(long Start, long End)> Compare(long start, long end)
    {
        _baseChunk ??= new byte[ChunkBytes];
        _targetChunk ??= new byte[ChunkBytes];
        for (var offset = start; offset < end; offset += ChunkBytes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var length = (int)Math.Min(ChunkBytes, end - offset);
            Read(baseImage, _baseChunk.AsSpan(0, length), offset);
            Read(target, _targetChunk.AsSpan(0, length), offset);
            for (var block = 0; block < length; block += (int)Blocks.Size)
            {
                var size = (int)Math.Min(Blocks.Size, length - block);
                if (!_baseChunk.AsSpan(block, size).SequenceEqual(_targetChunk.AsSpan(block, size)))
                {
                    yield return (offset + block, offset + block + size);
                }
            }
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; what lies past the file's end reads as zeros.</summary>
    private void Read(PinnedImage image, Span<byte> buffer, long offset)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = RandomAccess.Read(image.Handle, buffer[filled..], offset + filled);
            if (read == 0)
            {
                break;
            }
            filled += read;
        }
        buffer[filled..].Clear();
        Interlocked.Add(ref _bytesRead, filled);
    }
}
