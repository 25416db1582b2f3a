namespace Loopvol.Core.Concurrency;

/// <summary>
/// Every handler at work, including one whose call already ended (its client gave up, or its deadline passed):
/// shutdown cancels them and waits for them to finish before the journal they write to is closed.
/// </summary>
public sealed class CallTracker : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _idle = NewIdle(completed: true);
    private int _running;

    /// <summary>How many handlers are running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>
    /// Registers one handler. Its token is cancelled when the call's is, or when shutdown cancels every handler.
    /// Dispose when the handler has finished.
    /// </summary>
    public TrackedCall Enter(CancellationToken callToken)
    {
        lock (_gate)
        {
            if (_running++ == 0)
            {
                _idle = NewIdle(completed: false);
            }
        }
        return new TrackedCall(this, CancellationTokenSource.CreateLinkedTokenSource(callToken, _stopping.Token));
    }

    /// <summary>
    /// Cancels every handler still running, then waits up to <paramref name="timeout"/> for them to return.
    /// True when none is left.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task idle;
        lock (_gate)
        {
            idle = _idle.Task;
        }
        return await Task.WhenAny(idle, Task.Delay(timeout)).ConfigureAwait(false) == idle;
    }

    public void Dispose() => _stopping.Dispose();

    private void Leave()
    {
        lock (_gate)
        {
            if (--_running == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            source.SetResult();
        }
        return source;
    }

    /// <summary>One running handler; dispose when it returns.</summary>
    public sealed class TrackedCall(CallTracker tracker, CancellationTokenSource source) : IDisposable
    {
        private int _disposed;

        /// <summary>The token the handler passes to everything it calls.</summary>
        public CancellationToken Token => source.Token;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                source.Dispose();
                tracker.Leave();
            }
        }
    }
}
