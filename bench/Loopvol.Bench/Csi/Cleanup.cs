namespace Loopvol.Bench.Csi;

/// <summary>
/// What a workload made, undone in reverse order when it ends: normally, on failure, or after Ctrl-C (the undo
/// steps themselves are not cancelled). Each step's failure is reported and the rest still run.
/// </summary>
internal sealed class Cleanup
{
    private readonly Stack<(string What, Func<Task> Undo)> _steps = new();
    private readonly Lock _lock = new();

    public void Add(string what, Func<Task> undo)
    {
        lock (_lock)
        {
            _steps.Push((what, undo));
        }
    }

    /// <summary>
    /// Makes something by name and registers its undo first. If the call is cut off (Ctrl-C, deadline), the server
    /// may still have made it, so the undo repeats the same idempotent create to learn the ID, then deletes it,
    /// as the external-provisioner does.
    /// </summary>
    public async Task<string> TrackAsync(string what, Func<CancellationToken, Task<string>> create, Func<string, Task> delete,
        CancellationToken ct)
    {
        string? id = null;
        var made = true;
        Add(what, async () =>
        {
            if (made)
            {
                // The cut-off create may still be running on the server, which answers ABORTED (busy) meanwhile.
                var known = id ?? await WhileBusyAsync(() => create(CancellationToken.None)).ConfigureAwait(false);
                await WhileBusyAsync(async () =>
                {
                    await delete(known).ConfigureAwait(false);
                    return known;
                }).ConfigureAwait(false);
            }
        });
        try
        {
            id = await create(ct).ConfigureAwait(false);
            return id;
        }
        catch (Grpc.RpcException e) when (e.StatusCode is not (Grpc.StatusCode.Cancelled or Grpc.StatusCode.DeadlineExceeded
                                              or Grpc.StatusCode.Unavailable or Grpc.StatusCode.Internal or Grpc.StatusCode.Unknown))
        {
            made = false; // A definite answer (refused, busy, not found…): this call made nothing.
            throw;
        }
    }

    /// <summary>Repeats a call that is answered ABORTED or UNAVAILABLE (the object is busy), backing off, for up to about 30 s.</summary>
    private static async Task<string> WhileBusyAsync(Func<Task<string>> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Grpc.RpcException e) when (e.StatusCode is Grpc.StatusCode.Aborted or Grpc.StatusCode.Unavailable && attempt < 40)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 25 << Math.Min(attempt, 6)))).ConfigureAwait(false);
            }
        }
    }

    public async Task<IReadOnlyList<string>> RunAsync()
    {
        var failures = new List<string>();
        while (true)
        {
            (string What, Func<Task> Undo) step;
            lock (_lock)
            {
                if (!_steps.TryPop(out step))
                {
                    return failures;
                }
            }
            try
            {
                await step.Undo().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failures.Add($"{step.What}: {e.Message}");
            }
        }
    }
}
