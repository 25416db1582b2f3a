using Grpc.Net.Client;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Transport;

/// <summary>A mutual TLS client channel made by <see cref="CsiChannel"/>, with its log kept.</summary>
public sealed class TlsClient : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly ILoggerFactory _loggers;
    private readonly TlsMaterial _tls;

    private TlsClient(GrpcChannel channel, CapturingLoggerProvider logs, ILoggerFactory loggers, TlsMaterial tls)
    {
        Channel = channel;
        Logs = logs;
        _loggers = loggers;
        _tls = tls;
    }

    public GrpcChannel Channel { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>A client of <paramref name="endpoint"/> with the files' material, loaded at <paramref name="clock"/>'s now.</summary>
    public static TlsClient Create(GrpcEndpoint endpoint, TlsFiles files, TimeProvider? clock = null)
    {
        var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        var tls = files.Load(clock);
        return new TlsClient(CsiChannel.Create(endpoint, tls, loggers.CreateLogger("Loopvol.Transport")), logs,
            loggers, tls);
    }

    /// <summary>
    /// A client of <paramref name="endpoint"/> that trusts the files' CA but presents no certificate: the real
    /// handler, with its certificate taken out.
    /// </summary>
    public static TlsClient WithoutCertificate(GrpcEndpoint endpoint, TlsFiles files)
    {
        var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        var tls = files.Load();
        var handler = CsiChannel.Handler(endpoint, tls, loggers.CreateLogger("Loopvol.Transport"));
        handler.SslOptions.ClientCertificateContext = null;
        var channel = GrpcChannel.ForAddress($"https://{endpoint.Host}:{endpoint.Port}",
            new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return new TlsClient(channel, logs, loggers, tls);
    }

    public Task<GetPluginInfoResponse> GetPluginInfoAsync() => GetPluginInfoAsync(Channel);

    public static async Task<GetPluginInfoResponse> GetPluginInfoAsync(GrpcChannel channel) =>
        await new Identity.IdentityClient(channel).GetPluginInfoAsync(new GetPluginInfoRequest(),
            deadline: DateTime.UtcNow + Deadline);

    public void Dispose()
    {
        Channel.Dispose();
        _tls.Dispose();
        _loggers.Dispose();
    }
}
