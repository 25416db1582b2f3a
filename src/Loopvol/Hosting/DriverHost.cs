using System.Runtime.InteropServices;
using Loopvol.Csi;
using Loopvol.Journal;
using Microsoft.Extensions.Logging;

namespace Loopvol.Hosting;

/// <summary>Runs the driver: builds it from its settings, serves until SIGTERM or SIGINT, then stops gracefully.</summary>
public static partial class DriverHost
{
    /// <summary>Runs the driver until a termination signal; returns the process exit code.</summary>
    public static async Task<int> RunAsync(DriverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var loggerFactory = Logging.Create(settings.LogLevel, settings.JsonLogs);
        var logger = loggerFactory.CreateLogger("Loopvol");
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => RequestStop(c, stop));
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => RequestStop(c, stop));
        if (settings.Mode == DriverMode.Controller)
        {
            return await RunControllerAsync(settings, loggerFactory, logger, stop.Task).ConfigureAwait(false);
        }
        Driver driver;
        try
        {
            driver = await Driver.CreateAsync(settings, loggerFactory).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or JournalException)
        {
            StartFailed(logger, e.Message);
            return 1;
        }
        await using (driver.ConfigureAwait(false))
        {
            var metrics = settings.MetricsAddress is { } address ? MetricsServer.Create(address, loggerFactory, driver.CreateGauges()) : null;
            try
            {
                try
                {
                    // Metrics first, so that the first call served is counted.
                    await (metrics?.StartAsync() ?? Task.CompletedTask).ConfigureAwait(false);
                    // The agent endpoint first: the kubelet's socket answering is the sign that all of it serves.
                    await (driver.AgentServer?.StartAsync() ?? Task.CompletedTask).ConfigureAwait(false);
                    await driver.Server.StartAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    StartFailed(logger, e.Message);
                    return 1;
                }
                Started(logger, settings.DriverName, DriverIdentity.AssemblyVersion, settings.NodeId,
                    settings.DataDirectory);
                if (driver.AgentServer is { } agent)
                {
                    AgentServing(logger, agent.Endpoint.ToString());
                }
                ReleaseStartupMemory();
                await stop.Task.ConfigureAwait(false);
                await driver.Server.StopAsync().ConfigureAwait(false);
                await (driver.AgentServer?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
            }
            finally
            {
                await (metrics?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
            }
        }
        return 0;
    }

    /// <summary>Runs the central controller until <paramref name="stop"/>; returns the process exit code.</summary>
    private static async Task<int> RunControllerAsync(DriverSettings settings, ILoggerFactory loggerFactory, ILogger logger,
        Task stop)
    {
        ClusterController controller;
        try
        {
            controller = ClusterController.Create(settings, loggerFactory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            StartFailed(logger, e.Message);
            return 1;
        }
        await using (controller.ConfigureAwait(false))
        {
            var metrics = settings.MetricsAddress is { } address ? MetricsServer.Create(address, loggerFactory) : null;
            try
            {
                try
                {
                    await (metrics?.StartAsync() ?? Task.CompletedTask).ConfigureAwait(false);
                    await controller.Server.StartAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    StartFailed(logger, e.Message);
                    return 1;
                }
                ControllerStarted(logger, settings.DriverName, DriverIdentity.AssemblyVersion, controller.Server.Endpoint.ToString());
                await stop.ConfigureAwait(false);
                await controller.Server.StopAsync().ConfigureAwait(false);
            }
            finally
            {
                await (metrics?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
            }
        }
        return 0;
    }

    /// <summary>
    /// Start-up (configuration, routing tables, reconciliation) leaves garbage the driver never needs again: collect
    /// it once and give its memory back, so a node's idle driver holds only what serving takes.
    /// </summary>
    private static void ReleaseStartupMemory() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    private static void RequestStop(PosixSignalContext context, TaskCompletionSource stop)
    {
        context.Cancel = true;
        stop.TrySetResult();
    }

    [LoggerMessage(1, LogLevel.Information,
        "loopvol {Name} {Version} started: node {NodeId}, data directory {DataDirectory}")]
    private static partial void Started(ILogger logger, string name, string version, string nodeId,
        string dataDirectory);

    [LoggerMessage(4, LogLevel.Information, "agent endpoint serving this node's pool to the controller on {Endpoint}")]
    private static partial void AgentServing(ILogger logger, string endpoint);

    [LoggerMessage(5, LogLevel.Information, "loopvol {Name} {Version} started as the central controller on {Endpoint}")]
    private static partial void ControllerStarted(ILogger logger, string name, string version, string endpoint);

    [LoggerMessage(2, LogLevel.Critical, "cannot start: {Reason}")]
    private static partial void StartFailed(ILogger logger, string reason);
}
