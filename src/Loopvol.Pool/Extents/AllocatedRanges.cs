namespace Loopvol.Pool.Extents;

/// <summary>The blocks of an image that hold data, as SEEK_DATA/SEEK_HOLE see them: written extents, in whole blocks, merged.</summary>
internal static class AllocatedRanges
{
    /// <summary>From <paramref name="from"/> (a block boundary) up to <paramref name="capacity"/>, read lazily.</summary>
    public static IEnumerable<BlockRange> Of(PinnedImage image, long from, long capacity) =>
        Blocks.Merged(DataExtents.Regions(image, from, capacity), from, capacity);
}
