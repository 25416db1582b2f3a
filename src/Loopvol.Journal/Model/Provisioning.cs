namespace Loopvol.Journal.Model;

/// <summary>
/// How a volume's image holds its space (the mutable parameter <c>provisioning</c>). <see cref="Thin"/>: blocks are
/// taken as they are written. <see cref="Thick"/>: every block is reserved on the pool's file system, so writes never
/// meet a full pool. <see cref="ThinPendingRelease"/>: thin, but the reservation of an earlier thick is still held,
/// because the volume was attached when it became thin; it is released once the volume is detached.
/// </summary>
public enum Provisioning
{
    Thin,
    Thick,
    ThinPendingRelease,
}
