using System.Runtime.InteropServices;
using Loopvol.Core.Health;
using Loopvol.Csi;
using Loopvol.Csi.Errors;
using Loopvol.Csi.Logging;
using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Loopvol.Grpc;
using Microsoft.Extensions.Logging;

namespace Loopvol.Hosting;

/// <summary>Assembles the driver from its settings, serves until SIGTERM or SIGINT, then stops gracefully.</summary>
public static partial class DriverHost
{
    /// <summary>Builds the server for <paramref name="settings"/> without starting it.</summary>
    public static GrpcServer Build(DriverSettings settings, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Directory.CreateDirectory(settings.DataDirectory,
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        var identity = new IdentityService(
            new DriverIdentity(settings.DriverName, DriverIdentity.AssemblyVersion),
            PluginCapabilities(),
            [new DataDirectoryCheck(settings.DataDirectory)],
            loggerFactory.CreateLogger<IdentityService>());
        var options = new GrpcServerOptions
        {
            MaxReceiveMessageSize = settings.MaxMessageSize,
            ShutdownTimeout = settings.ShutdownTimeout,
            QuietMethods = CsiRegistry.QuietMethods,
            ExceptionMapper = new CsiExceptionMapper(),
            MessageFormatter = new SecretRedactingFormatter(),
        };
        return GrpcServer.Create(settings.Endpoint, CsiRegistry.Create(identity), options, loggerFactory);
    }

    /// <summary>Runs the driver until a termination signal; returns the process exit code.</summary>
    public static async Task<int> RunAsync(DriverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var loggerFactory = Logging.Create(settings.LogLevel, settings.JsonLogs);
        var logger = loggerFactory.CreateLogger("Loopvol");
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => RequestStop(c, stop));
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => RequestStop(c, stop));
        GrpcServer server;
        try
        {
            server = Build(settings, loggerFactory);
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            StartFailed(logger, e.Message);
            return 1;
        }
        await using (server.ConfigureAwait(false))
        {
            Started(logger, settings.DriverName, DriverIdentity.AssemblyVersion, settings.NodeId,
                settings.DataDirectory);
            await stop.Task.ConfigureAwait(false);
            await server.StopAsync().ConfigureAwait(false);
        }
        return 0;
    }

    /// <summary>What GetPluginCapabilities advertises: exactly the services implemented so far.</summary>
    internal static IReadOnlyList<PluginCapability> PluginCapabilities() => [];

    private static void RequestStop(PosixSignalContext context, TaskCompletionSource stop)
    {
        context.Cancel = true;
        stop.TrySetResult();
    }

    [LoggerMessage(1, LogLevel.Information,
        "loopvol {Name} {Version} started: node {NodeId}, data directory {DataDirectory}")]
    private static partial void Started(ILogger logger, string name, string version, string nodeId,
        string dataDirectory);

    [LoggerMessage(2, LogLevel.Critical, "cannot start: {Reason}")]
    private static partial void StartFailed(ILogger logger, string reason);
}
