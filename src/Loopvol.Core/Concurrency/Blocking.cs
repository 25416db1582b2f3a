namespace Loopvol.Core.Concurrency;

/// <summary>
/// Work that blocks its thread for long (a copy of a volume's data, a freeze and the copies made under it): it runs
/// on a thread of its own, so the thread pool keeps serving other calls meanwhile. The work is given the call's
/// token and checks it as it goes; a token cancelled before it starts keeps it from starting.
/// </summary>
public static class Blocking
{
    public static Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default);

    public static Task RunAsync(Action work, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default);
}
