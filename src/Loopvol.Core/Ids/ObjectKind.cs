namespace Loopvol.Core.Ids;

/// <summary>The kinds of object the driver creates on request and hands out IDs for.</summary>
public enum ObjectKind
{
    Volume,
    Snapshot,
    Group,
}
