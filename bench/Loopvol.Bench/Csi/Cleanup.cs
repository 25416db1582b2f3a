using Grpc.Core;
using Loopvol.Csi.Transport;

namespace Loopvol.Bench.Csi;

/// <summary>
/// What a workload made, undone in reverse order when it ends: normally, on failure, or after Ctrl-C (the undo
/// steps themselves are not cancelled). Undo calls run under <see cref="CsiClientPolicy"/>, so a busy object
/// (ABORTED) or a dropped connection is waited out. Each step's failure is reported and the rest still run.
/// <paramref name="onMade"/>, if given, is told the ID of each object as soon as the endpoint acknowledges its create.
/// </summary>
internal sealed class Cleanup(Action<string>? onMade = null, CsiClientPolicy? policy = null)
{
    private readonly Stack<(string What, Func<Task> Undo)> _steps = new();
    private readonly Lock _lock = new();

    public CsiClientPolicy Policy { get; } = policy ?? new CsiClientPolicy();

    public void Add(string what, Func<Task> undo)
    {
        lock (_lock)
        {
            _steps.Push((what, undo));
        }
    }

    /// <summary>
    /// Makes something by name and registers its undo first. If the call is cut off (Ctrl-C, deadline, lost
    /// connection, unknown failure), the server may still have made it, so the undo repeats the same idempotent create
    /// to learn the ID, then deletes it, as the external-provisioner does. A definite refusal means nothing was made.
    /// </summary>
    public async Task<string> TrackAsync(string what, Func<CallOptions, Task<string>> create,
        Func<string, CallOptions, Task> delete, CancellationToken ct)
    {
        string? id = null;
        var made = true;
        Add(what, async () =>
        {
            if (id is { } known)
            {
                await Policy.DeleteAsync(known, delete).ConfigureAwait(false);
            }
            else if (made)
            {
                await Policy.UndoCutOffCreateAsync(create, delete).ConfigureAwait(false);
            }
        });
        try
        {
            id = await create(CsiTarget.Options(ct)).ConfigureAwait(false);
            onMade?.Invoke(id);
            return id;
        }
        catch (RpcException e) when (!CsiClientPolicy.MayHaveMade(e.StatusCode))
        {
            made = false; // A definite answer (refused, busy, not found…): this call made nothing.
            throw;
        }
    }

    /// <summary>Runs every undo step, the last added first; returns what failed, one line per step.</summary>
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
