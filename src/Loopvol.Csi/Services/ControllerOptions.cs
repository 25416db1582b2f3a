namespace Loopvol.Csi.Services;

/// <summary>What the controller needs to know about its deployment.</summary>
public sealed record ControllerOptions(string NodeId, bool EnableAttach);
