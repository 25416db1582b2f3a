using System.Collections.Concurrent;
using Loopvol.Core.Errors;

namespace Loopvol.Core.Concurrency;

/// <summary>
/// One lock per key (a request name, a volume ID), taken without waiting: a second operation on a key that is
/// already held fails at once with <see cref="BusyException"/> (ABORTED for the CO, which retries with backoff),
/// instead of queueing behind a slow one. Keys not in use take no memory.
/// </summary>
public sealed class OperationLocks
{
    private readonly ConcurrentDictionary<string, Holder> _held = new(StringComparer.Ordinal);

    /// <summary>Takes every key or none; the handle releases them all.</summary>
    public IDisposable Acquire(params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var taken = new List<string>(keys.Length);
        foreach (var key in keys.Distinct(StringComparer.Ordinal))
        {
            if (!_held.TryAdd(key, new Holder()))
            {
                Release(taken);
                throw new BusyException($"an operation on {key} is already in progress");
            }
            taken.Add(key);
        }
        return new Handle(this, taken);
    }

    public bool IsHeld(string key) => _held.ContainsKey(key);

    private void Release(List<string> keys)
    {
        foreach (var key in keys)
        {
            _held.TryRemove(key, out _);
        }
    }

    private sealed class Holder;

    private sealed class Handle(OperationLocks owner, List<string> keys) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(keys);
            }
        }
    }
}
