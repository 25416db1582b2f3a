using Loopvol.Core.Native;

namespace Loopvol.Pool.Extents;

/// <summary>Where an image holds data: its written extents, from FIEMAP, or from SEEK_DATA/SEEK_HOLE where FIEMAP is not answered.</summary>
internal static class DataExtents
{
    /// <summary>
    /// The written extents of <paramref name="image"/> that overlap [<paramref name="start"/>, <paramref name="end"/>),
    /// clipped to it and to the image's length, in order, read lazily. Unwritten extents read as zeros and are left
    /// out, as SEEK_DATA leaves them out. Only from FIEMAP: ask <see cref="Fiemap.IsSupported"/> first.
    /// </summary>
    public static IEnumerable<FileExtent> Mapped(PinnedImage image, long start, long end)
    {
        var limit = Math.Min(end, image.Length);
        foreach (var extent in Fiemap.Extents(image.Handle, start, limit, image.Path))
        {
            if (extent.IsUnwritten)
            {
                continue;
            }
            var from = Math.Max(extent.Logical, start);
            var to = Math.Min(extent.End, limit);
            if (to > from)
            {
                // Clipped so that Physical - Logical, where each byte lies, is the same as before.
                yield return extent with { Logical = from, Physical = extent.Physical + (from - extent.Logical), Length = to - from };
            }
        }
    }

    /// <summary>The data regions of [<paramref name="start"/>, <paramref name="end"/>), by FIEMAP where answered.</summary>
    public static IEnumerable<(long Start, long End)> Regions(PinnedImage image, long start, long end) =>
        Fiemap.IsSupported(image.Handle, image.Path)
            ? Mapped(image, start, end).Select(e => (e.Logical, e.End))
            : DataRegions.Of(image.Handle, start, Math.Min(end, image.Length), image.Path);
}
