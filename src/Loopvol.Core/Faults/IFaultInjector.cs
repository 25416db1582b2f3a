namespace Loopvol.Core.Faults;

/// <summary>
/// Named points inside multi-step operations where a test can make the process fail, to prove that what is on
/// disk after each step can be recovered. Production code gets <see cref="NoFaults"/>.
/// </summary>
public interface IFaultInjector
{
    /// <summary>Called when an operation reaches <paramref name="point"/>; may throw or end the process.</summary>
    void Reached(string point);
}

/// <summary>The injector of production: does nothing.</summary>
public sealed class NoFaults : IFaultInjector
{
    public static readonly NoFaults Instance = new();

    public void Reached(string point)
    {
    }
}
