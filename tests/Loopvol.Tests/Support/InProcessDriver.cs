using Loopvol.Csi;
using Loopvol.Csi.Transport;
using Loopvol.Hosting;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Support;

/// <summary>The driver as the executable assembles it, on a temp socket and data directory, in this process.</summary>
public sealed class InProcessDriver : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly ILoggerFactory _loggers;

    private InProcessDriver(TempDirectory dir, ILoggerFactory loggers, CapturingLoggerProvider logs, DriverSettings settings,
        Driver driver)
    {
        _dir = dir;
        _loggers = loggers;
        Logs = logs;
        Settings = settings;
        Driver = driver;
        Client = new CsiClient(Settings.Endpoint);
    }

    public DriverSettings Settings { get; }

    public Driver Driver { get; }

    public CsiServer Server => Driver.Server;

    public CsiClient Client { get; }

    public CapturingLoggerProvider Logs { get; }

    public static async Task<InProcessDriver> StartAsync(Func<DriverSettings, DriverSettings>? customize = null)
    {
        var dir = new TempDirectory();
        var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        var defaults = new DriverSettings
        {
            Endpoint = GrpcEndpoint.Unix(dir.Combine("csi.sock")),
            NodeId = "node-1",
            DriverName = DriverIdentity.DefaultName,
            DataDirectory = dir.Combine("data"),
        };
        var settings = customize?.Invoke(defaults) ?? defaults;
        var driver = new InProcessDriver(dir, loggers, logs, settings, await Driver.CreateAsync(settings, loggers));
        try
        {
            await (driver.Driver.AgentServer?.StartAsync() ?? Task.CompletedTask);
            await driver.Server.StartAsync();
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }
        return driver;
    }

    public Task<TResponse> CallAsync<TResponse>(string service, string method, Google.Protobuf.IMessage request)
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new() =>
        Client.UnaryAsync<TResponse>(service, method, request);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Driver.DisposeAsync();
        _loggers.Dispose();
        _dir.Dispose();
    }
}
