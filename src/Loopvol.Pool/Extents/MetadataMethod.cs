namespace Loopvol.Pool.Extents;

/// <summary>How a <see cref="MetadataStream"/> finds its ranges.</summary>
public enum MetadataMethod
{
    /// <summary>Where one image holds data: its extent map, or SEEK_DATA/SEEK_HOLE. Reads no data.</summary>
    DataRegions,

    /// <summary>A delta from both images' extent maps (reflinked images share the blocks nobody wrote). Reads no data.</summary>
    ExtentMaps,

    /// <summary>A delta by comparing the blocks that hold data in either image (full copies share nothing).</summary>
    Contents,
}
