using Loopvol.Csi;
using Loopvol.Csi.Transport;
using Loopvol.Hosting;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Support;

/// <summary>The driver as the executable assembles it, on a temp socket and data directory, in this process.</summary>
public sealed class InProcessDriver : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ILoggerFactory _loggers;

    private InProcessDriver(Func<DriverSettings, DriverSettings>? customize)
    {
        _loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        Logs = logs;
        var settings = new DriverSettings
        {
            Endpoint = GrpcEndpoint.Unix(_dir.Combine("csi.sock")),
            NodeId = "node-1",
            DriverName = DriverIdentity.DefaultName,
            DataDirectory = _dir.Combine("data"),
        };
        Settings = customize?.Invoke(settings) ?? settings;
        Driver = Driver.Create(Settings, _loggers);
        Client = new CsiClient(Settings.Endpoint);
    }

    public DriverSettings Settings { get; }

    public Driver Driver { get; }

    public CsiServer Server => Driver.Server;

    public CsiClient Client { get; }

    public CapturingLoggerProvider Logs { get; }

    public static async Task<InProcessDriver> StartAsync(Func<DriverSettings, DriverSettings>? customize = null)
    {
        var driver = new InProcessDriver(customize);
        try
        {
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
