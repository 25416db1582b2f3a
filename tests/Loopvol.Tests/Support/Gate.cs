using Loopvol.Core.Faults;

namespace Loopvol.Tests.Support;

/// <summary>Holds the handler that reaches <paramref name="point"/> until <see cref="Open"/> (at most 30 s).</summary>
public sealed class Gate(string point) : IFaultInjector
{
    private readonly ManualResetEventSlim _open = new();
    private readonly SemaphoreSlim _entered = new(0);

    public Task<bool> WaitEnteredAsync(TimeSpan timeout) => _entered.WaitAsync(timeout);

    public void Open() => _open.Set();

    public void Reached(string at)
    {
        if (at == point && !_open.IsSet)
        {
            _entered.Release();
            _open.Wait(TimeSpan.FromSeconds(30));
        }
    }
}

/// <summary>Throws an exception no domain error maps, at <paramref name="point"/>: a bug, as the transport sees it.</summary>
public sealed class Bug(string point) : IFaultInjector
{
    public void Reached(string at)
    {
        if (at == point)
        {
            throw new InvalidOperationException($"a bug at {at}");
        }
    }
}
