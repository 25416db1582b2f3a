using Grpc.Core;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Loopvol.Csi.Transport;

/// <summary>
/// How a CSI client repeats calls, as the external-provisioner does: ABORTED (the name or object is busy with another
/// call), UNAVAILABLE (no server yet, or the connection dropped) and DEADLINE_EXCEEDED are repeated with exponential
/// backoff and jitter, within <see cref="MaxAttempts"/> and <see cref="TotalTime"/>; a definite answer
/// (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, RESOURCE_EXHAUSTED…) and an OK are returned at once. Only idempotent
/// calls belong under it, which every CSI call is.
/// </summary>
public sealed class CsiClientPolicy
{
    private ResiliencePipeline? _pipeline;

    /// <summary>Attempts in all, the first included.</summary>
    public int MaxAttempts { get; init; } = 10;

    /// <summary>The first backoff; each next one is about twice the last (with jitter), up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The deadline each attempt is sent with.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>All attempts and backoffs together; past it the call ends in a <see cref="TimeoutRejectedException"/>.</summary>
    public TimeSpan TotalTime { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The jitter's source of numbers in [0, 1); fixed only to make delays reproducible.</summary>
    public Func<double>? Randomizer { get; init; }

    /// <summary>Told of each retry: the attempt number that failed (0 is the first), its status and the backoff before the next.</summary>
    public Action<int, StatusCode, TimeSpan>? OnRetry { get; init; }

    /// <summary>The Polly pipeline: a total-time timeout around a retry on the retryable status codes.</summary>
    public ResiliencePipeline Pipeline => _pipeline ??= Build();

    /// <summary>Whether a call answered with <paramref name="code"/> is worth repeating as it is.</summary>
    public static bool IsRetryable(StatusCode code) =>
        code is StatusCode.Aborted or StatusCode.Unavailable or StatusCode.DeadlineExceeded;

    /// <summary>
    /// Whether a create that failed with <paramref name="code"/> may still have made its object: the call was cut off
    /// (cancelled, deadline, connection lost) or failed in an unknown way. Any other answer is definite.
    /// </summary>
    public static bool MayHaveMade(StatusCode code) =>
        code is StatusCode.Cancelled or StatusCode.DeadlineExceeded or StatusCode.Unavailable or StatusCode.Internal
            or StatusCode.Unknown;

    /// <summary>
    /// Runs <paramref name="call"/> under the policy; each attempt gets call options with its own deadline and a token
    /// that ends with <paramref name="cancellationToken"/> or <see cref="TotalTime"/>.
    /// </summary>
    public async Task<T> CallAsync<T>(Func<CallOptions, Task<T>> call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        return await Pipeline.ExecuteAsync(async token =>
        {
            try
            {
                return await call(new CallOptions(deadline: DateTime.UtcNow + AttemptTimeout, cancellationToken: token))
                    .ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && token.IsCancellationRequested)
            {
                // Cancelled by our token: say so, so that the timeout strategy can tell its own timeout apart.
                throw new OperationCanceledException(e.Status.Detail, e, token);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Undoes a create that was cut off: repeats the very same idempotent create (same name, same parameters) under
    /// the policy to learn the object's ID, whether the cut-off call made it or this repeat does, then deletes it
    /// under the policy. Returns the deleted ID, or null when the repeat is definitely refused (so nothing by that
    /// name exists). The external-provisioner undoes a timed-out CreateVolume the same way.
    /// </summary>
    public async Task<string?> UndoCutOffCreateAsync(Func<CallOptions, Task<string>> repeatCreate,
        Func<string, CallOptions, Task> delete, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repeatCreate);
        ArgumentNullException.ThrowIfNull(delete);
        string id;
        try
        {
            id = await CallAsync(repeatCreate, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (!MayHaveMade(e.StatusCode))
        {
            return null;
        }
        await DeleteAsync(id, delete, cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>Deletes <paramref name="id"/> under the policy; a CSI delete is idempotent, so repeating it is safe.</summary>
    public Task DeleteAsync(string id, Func<string, CallOptions, Task> delete, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(delete);
        return CallAsync(async options =>
        {
            await delete(id, options).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    private ResiliencePipeline Build()
    {
        var retry = new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => IsRetryable(e.StatusCode)),
            MaxRetryAttempts = Math.Max(1, MaxAttempts) - 1,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = FirstDelay,
            MaxDelay = MaxDelay,
            OnRetry = args =>
            {
                if (args.Outcome.Exception is RpcException e)
                {
                    OnRetry?.Invoke(args.AttemptNumber, e.StatusCode, args.RetryDelay);
                }
                return ValueTask.CompletedTask;
            },
        };
        if (Randomizer is { } random)
        {
            retry.Randomizer = random;
        }
        var builder = new ResiliencePipelineBuilder().AddTimeout(TotalTime);
        return MaxAttempts > 1 ? builder.AddRetry(retry).Build() : builder.Build();
    }
}
