namespace Loopvol.Pool.Extents;

/// <summary>A range of an image in bytes: whole blocks, except that the last may end at the image's size.</summary>
public readonly record struct BlockRange(long Offset, long Length)
{
    public long End => Offset + Length;
}
