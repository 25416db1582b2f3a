using Loopvol.Cluster.Discovery.Internal;

namespace Loopvol.Cluster.Discovery;

/// <summary>
/// The loop: list, then watch from the list's resource version; a watch the server ends is opened again from the last
/// version seen; a version the server no longer has (410 Gone) means listing again; any failure waits a backoff
/// (doubling from <see cref="KubernetesAgentsOptions.FirstBackoff"/> to <see cref="KubernetesAgentsOptions.MaxBackoff"/>)
/// and tries the same step again. Only a list or an event changes the agents.
/// </summary>
public sealed partial class KubernetesAgents
{
    /// <summary>How long past its own timeout a watch may stay open before it is taken as a dead connection.</summary>
    private static readonly TimeSpan WatchGrace = TimeSpan.FromMinutes(1);

    private async Task RunAsync(CancellationToken stop)
    {
        var mustList = true;
        var backoff = _options.FirstBackoff;
        DateTimeOffset? outage = null;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (mustList)
                {
                    var list = await _api.ListAsync(Namespace, _options.LabelSelector, stop).ConfigureAwait(false);
                    Reached(ref outage);
                    Replace(list);
                    mustList = false;
                    backoff = _options.FirstBackoff;
                }
                if (await WatchAsync(() => Reached(ref outage), stop).ConfigureAwait(false))
                {
                    backoff = _options.FirstBackoff;
                }
                WatchEnded(_logger, _version);
            }
            catch (ResourceVersionGoneException e)
            {
                Relisting(_logger, _version, e.Message);
                mustList = true;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Never ends the loop: the agents known stay, and the API is asked again after the backoff.
                var step = mustList ? "list" : "watch";
                if (outage is null)
                {
                    outage = _options.Time.GetUtcNow();
                    Unreachable(_logger, step, Namespace, e.Message, _agents.Count, _options.MaxBackoff);
                }
                else
                {
                    StillUnreachable(_logger, step, e.Message, backoff);
                }
                if (!await WaitAsync(backoff, stop).ConfigureAwait(false))
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>
    /// One watch from <see cref="_version"/> until the server ends it; <paramref name="opened"/> runs once the server
    /// has answered. Whether it brought an event or ended by itself (so the API works, and the backoff starts over).
    /// </summary>
    private async Task<bool> WatchAsync(Action opened, CancellationToken stop)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(_options.WatchTimeout + WatchGrace);
        try
        {
            using var watch = await _api.WatchAsync(Namespace, _options.LabelSelector, _version ?? "0",
                _options.WatchTimeout, deadline.Token).ConfigureAwait(false);
            opened();
            await foreach (var change in PodsApi.EventsAsync(watch, deadline.Token).ConfigureAwait(false))
            {
                Apply(change);
            }
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            throw new TimeoutException($"the watch was still open {WatchGrace.TotalSeconds:F0}s after its " +
                                       $"{_options.WatchTimeout.TotalSeconds:F0}s timeout: taken as a dead connection");
        }
    }

    private void Reached(ref DateTimeOffset? outage)
    {
        if (outage is { } since)
        {
            Reachable(_logger, (_options.Time.GetUtcNow() - since).TotalSeconds, _agents.Count);
            outage = null;
        }
    }

    /// <summary>Waits <paramref name="delay"/> on the options' clock; false when stopped meanwhile.</summary>
    private async Task<bool> WaitAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, _options.Time, stop).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
