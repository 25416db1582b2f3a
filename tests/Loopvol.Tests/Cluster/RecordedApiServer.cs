using Loopvol.Bench.Tls;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Cluster;

/// <summary>One request the API server got: its path, query and bearer token.</summary>
public sealed record ApiRequest(string Path, IReadOnlyDictionary<string, string> Query, string? Authorization)
{
    public bool IsWatch => Query.GetValueOrDefault("watch") == "true";
}

/// <summary>
/// A stand-in for kube-apiserver's pod endpoint that answers with responses recorded from a real one
/// (Cluster/Recorded, see record.sh there): HTTPS with a certificate of a test CA on 127.0.0.1, a list answered with
/// the JSON set by <see cref="ServeList"/>, and each watch held open as a <see cref="RecordedWatch"/> the test feeds
/// line by line. It serves only <c>GET /api/v1/namespaces/NS/pods</c>; anything else is 404.
/// </summary>
public sealed class RecordedApiServer : IAsyncDisposable
{
    public const string Token = "recorded-test-token";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ApiRequest> _requests = new();
    private readonly Channel<RecordedWatch> _watches = Channel.CreateUnbounded<RecordedWatch>();
    private readonly ConcurrentQueue<(int Status, string Body)> _refusals = new();
    private readonly ConcurrentDictionary<RecordedWatch, HttpContext> _open = new();
    private volatile string _list = """{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}""";

    private RecordedApiServer(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public IReadOnlyList<ApiRequest> Requests => [.. _requests];

    public IReadOnlyList<ApiRequest> Lists => [.. _requests.Where(r => !r.IsWatch)];

    /// <summary>The text of a recorded response.</summary>
    public static string Recorded(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Cluster", "Recorded", name));

    /// <summary>Serves on 127.0.0.1:<paramref name="port"/> (0: any free port) with a certificate <paramref name="ca"/> issues.</summary>
    public static async Task<RecordedApiServer> StartAsync(TestCa ca, int port = 0)
    {
        var issued = ca.Server(["127.0.0.1"]);
        var certificate = issued.Certificate.CopyWithPrivateKey((RSA)issued.Key);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(certificate)));
        var app = builder.Build();
        var server = new RecordedApiServer(app);
        app.MapGet("/api/v1/namespaces/{ns}/pods", server.ServeAsync);
        await app.StartAsync();
        server.Port = new Uri(app.Urls.Single()).Port;
        return server;
    }

    /// <summary>What list requests get from now on.</summary>
    public void ServeList(string json) => _list = json;

    /// <summary>The next watch request is refused with <paramref name="status"/> and <paramref name="body"/>.</summary>
    public void RefuseNextWatch(int status, string body) => _refusals.Enqueue((status, body));

    /// <summary>The next watch the client opens (waits for it).</summary>
    public async Task<RecordedWatch> NextWatchAsync() =>
        await _watches.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

    /// <summary>A kubeconfig for this server: its CA, the bearer token <see cref="Token"/>, and the context's namespace.</summary>
    public string WriteKubeconfig(string directory, TestCa ca, string? ns)
    {
        var path = Path.Combine(directory, "kubeconfig");
        var caData = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(ca.CertificatePem));
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: recorded
              cluster:
                server: https://127.0.0.1:{Port}
                certificate-authority-data: {caData}
            users:
            - name: loopvol
              user:
                token: {Token}
            contexts:
            - name: recorded
              context:
                cluster: recorded
                user: loopvol
            {(ns is null ? "" : $"    namespace: {ns}")}
            current-context: recorded

            """);
        return path;
    }

    /// <summary>The API goes away: open watches are cut and the port is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var context in _open.Values)
        {
            try
            {
                context.Abort();
            }
            catch (ObjectDisposedException)
            {
                // That request has just ended.
            }
        }
        using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(quick.Token);
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(HttpContext context, string ns)
    {
        var request = new ApiRequest(context.Request.Path, context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
            context.Request.Headers.Authorization.ToString());
        _requests.Enqueue(request);
        context.Response.ContentType = "application/json";
        if (!request.IsWatch)
        {
            await context.Response.WriteAsync(_list);
            return;
        }
        if (_refusals.TryDequeue(out var refusal))
        {
            context.Response.StatusCode = refusal.Status;
            await context.Response.WriteAsync(refusal.Body);
            return;
        }
        var watch = new RecordedWatch(request);
        _open[watch] = context;
        try
        {
            await context.Response.StartAsync();
            await _watches.Writer.WriteAsync(watch);
            await watch.PumpAsync(context.Response, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            _open.TryRemove(watch, out _);
        }
    }
}

/// <summary>One open watch: the test sends recorded event lines, and may end it as the API server does at its timeout.</summary>
public sealed class RecordedWatch(ApiRequest request)
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    public ApiRequest Request { get; } = request;

    public void Send(string line) => _lines.Writer.TryWrite(line);

    public void End() => _lines.Writer.TryComplete();

    internal async Task PumpAsync(HttpResponse response, CancellationToken aborted)
    {
        await foreach (var line in _lines.Reader.ReadAllAsync(aborted))
        {
            await response.WriteAsync(line + "\n", aborted);
            await response.Body.FlushAsync(aborted);
        }
    }
}
