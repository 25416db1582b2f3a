using Loopvol.Core.Errors;
using Loopvol.Core.Native;
using Loopvol.NodeHost.Loop;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Loopvol.NodeHost.Resilience;

/// <summary>
/// The node's retries of transient kernel contention, one pipeline per concern. Each handles one errno from one
/// call and nothing else: any other failure passes straight through, and once the attempts are spent the last
/// busy failure reaches the caller unchanged (a <see cref="CommandFailedException"/> naming the call and errno,
/// as before the retries). Every retry is logged; the delays observe the call's cancellation token.
/// </summary>
internal sealed partial class KernelRetry
{
    /// <summary>LOOP_CONFIGURE retries: 8, from 5 ms doubling (jittered), about 1.3 s at most in all.</summary>
    public const int LoopAttachRetries = 8;

    /// <summary>umount2 retries: 5, from 50 ms doubling: 50+100+200+400+800 ms, about 1.5 s in all.</summary>
    public const int UnmountRetries = 5;

    public KernelRetry(ILogger logger)
    {
        LoopAttach = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<CommandFailedException>(e => IsBusy(e, LoopDevices.ConfigureCall)),
            MaxRetryAttempts = LoopAttachRetries,
            Delay = TimeSpan.FromMilliseconds(5),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true, // Two attachers that collided once should not ask again in step.
            OnRetry = args =>
            {
                LoopTaken(logger, args.AttemptNumber + 1, LoopAttachRetries, args.RetryDelay.TotalMilliseconds,
                    args.Outcome.Exception?.Message);
                return ValueTask.CompletedTask;
            },
        }).Build();
        Unmount = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<CommandFailedException>(e => IsBusy(e, UnmountCall)),
            MaxRetryAttempts = UnmountRetries,
            Delay = TimeSpan.FromMilliseconds(50),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            OnRetry = args =>
            {
                UnmountBusy(logger, args.AttemptNumber + 1, UnmountRetries, args.RetryDelay.TotalMilliseconds,
                    args.Outcome.Exception?.Message);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    /// <summary>
    /// Attaching a loop device: LOOP_CONFIGURE refused with EBUSY because another process bound the device that
    /// LOOP_CTL_GET_FREE had just offered. The attempt it wraps must ask for a fresh free device each time.
    /// </summary>
    public ResiliencePipeline LoopAttach { get; }

    /// <summary>
    /// Unmounting one of our mounts: umount2 refused with EBUSY while a process is still leaving it (its working
    /// directory or an open file is there). The attempt it wraps must check again that the mount is ours.
    /// </summary>
    public ResiliencePipeline Unmount { get; }

    private const string UnmountCall = "umount2";

    private static bool IsBusy(CommandFailedException e, string call) => e.ExitCode == Errno.EBUSY && e.Command == call;

    [LoggerMessage(4020, LogLevel.Information,
        "loop device taken by another process before it was configured; asking for another free device (retry {Attempt} of {Max}, after {DelayMs:F0} ms): {Reason}")]
    private static partial void LoopTaken(ILogger logger, int attempt, int max, double delayMs, string? reason);

    [LoggerMessage(4021, LogLevel.Warning,
        "unmount refused as busy: a process is still using the mount; trying again (retry {Attempt} of {Max}, after {DelayMs:F0} ms): {Reason}")]
    private static partial void UnmountBusy(ILogger logger, int attempt, int max, double delayMs, string? reason);
}
