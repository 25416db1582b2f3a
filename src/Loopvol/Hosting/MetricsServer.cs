using Loopvol.Core.Diagnostics;
using Loopvol.Csi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Loopvol.Hosting;

/// <summary>
/// The driver's instruments (<see cref="DriverMeters"/>) in the Prometheus text format, at <see cref="Path"/> on a
/// plain HTTP/1.1 listener of its own (<c>--metrics-address</c>): a web host apart from the CSI server, so the CSI
/// socket never answers HTTP/1.1 or serves metrics, and this port never serves CSI. The OpenTelemetry SDK listens to
/// the instruments and its Prometheus exporter renders them on each scrape; nothing runs between scrapes.
/// </summary>
public sealed partial class MetricsServer : IAsyncDisposable
{
    public const string Path = "/metrics";
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(2);
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private readonly IDisposable? _gauges;
    private int _stopped;

    private MetricsServer(WebApplication app, MetricsAddress address, ILogger logger, IDisposable? gauges)
    {
        _app = app;
        _gauges = gauges;
        Address = address;
        _logger = logger;
    }

    /// <summary>The address served; for port 0, the port actually bound once started.</summary>
    public MetricsAddress Address { get; private set; }

    /// <summary>The scrape URL, e.g. <c>http://127.0.0.1:9808/metrics</c>; 0.0.0.0 or [::] when bound to every interface.</summary>
    public Uri Url { get; private set; } = new("http://localhost" + Path);

    /// <summary>
    /// Builds the server without listening yet. <paramref name="gauges"/>, a driver's (<see cref="Driver.CreateGauges"/>),
    /// are served with the process-wide instruments and disposed with the server.
    /// </summary>
    public static MetricsServer Create(MetricsAddress address, ILoggerFactory loggerFactory, DriverGauges? gauges = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        DriverMeters.Initialize();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddLogging();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = StopTimeout);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("loopvol", serviceVersion: DriverIdentity.AssemblyVersion))
            .WithMetrics(metrics => metrics
                .AddMeter(DriverMeters.MeterName)
                // Every scrape reads the counters as they are now: a benchmark scrapes right before and after a run.
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (address.IsLocalhost)
            {
                kestrel.ListenLocalhost(address.Port, l => l.Protocols = HttpProtocols.Http1);
            }
            else if (address.Address is { } ip)
            {
                kestrel.Listen(ip, address.Port, l => l.Protocols = HttpProtocols.Http1);
            }
            else
            {
                kestrel.ListenAnyIP(address.Port, l => l.Protocols = HttpProtocols.Http1);
            }
        });
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(Path);
        app.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return context.Response.WriteAsync($"loopvol serves only {Path} here\n", context.RequestAborted);
        });
        return new MetricsServer(app, address, loggerFactory.CreateLogger("Loopvol.Metrics"), gauges);
    }

    /// <summary>Binds and serves; a port in use is an <see cref="IOException"/>.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            .FirstOrDefault();
        if (bound is not null && Uri.TryCreate(bound, UriKind.Absolute, out var uri))
        {
            Address = Address with { Port = uri.Port };
            Url = new Uri(uri, Path);
        }
        Serving(_logger, Url.ToString());
    }

    /// <summary>Stops serving; a second call does nothing.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _gauges?.Dispose();
    }

    [LoggerMessage(20, LogLevel.Information, "serving Prometheus metrics on {Url}")]
    private static partial void Serving(ILogger logger, string url);
}
