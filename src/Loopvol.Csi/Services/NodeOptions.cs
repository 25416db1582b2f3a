namespace Loopvol.Csi.Services;

/// <summary>What the node service reports about its node.</summary>
public sealed record NodeOptions(string NodeId, long MaxVolumesPerNode);
