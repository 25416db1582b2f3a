using System.Net;
using System.Net.Sockets;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Hosting;

/// <summary>
/// The real driver with <c>--metrics-address</c>: the Prometheus text format on a listener of its own, the fsync
/// counter moving as calls sync, and neither listener answering for the other.
/// </summary>
public sealed class MetricsEndpointTests
{
    private static readonly string[] Targets = ["directory", "image", "journal"];

    [Test]
    public async Task CreateThenDelete_MovesTheFsyncCounter_ByTheBudget()
    {
        using var dir = new TempDirectory();
        await using var driver = await DriverProcess.StartAsync(dir.Combine("data"), "--metrics-address", "127.0.0.1:0");
        var url = Scrapes.UrlIn(driver.Output);
        var before = Scrapes.Fsyncs(await Scrapes.GetAsync(url));

        await CreateAndDeleteAsync(driver.Endpoint);

        var moved = Scrapes.Moved(before, Scrapes.Fsyncs(await Scrapes.GetAsync(url)));
        Assert.That(before.Keys, Is.EquivalentTo(Targets), "every target is a series from the first scrape on");
        Assert.That(moved["journal"], Is.EqualTo(FsyncBudget.JournalSyncsPerEmptyCreateDelete),
            () => $"one log sync per durable journal commit; moved: {string.Join(", ", moved)}");
        Assert.That(moved["image"], Is.EqualTo(FsyncBudget.ImageSyncsPerEmptyCreateDelete));
        Assert.That(moved["directory"], Is.AtMost(FsyncBudget.DirectorySyncsPerEmptyCreateDelete));
    }

    [Test]
    public async Task Scrape_AfterCalls_PassesPromtoolCheckMetrics()
    {
        using var dir = new TempDirectory();
        await using var driver = await DriverProcess.StartAsync(dir.Combine("data"), "--metrics-address", "127.0.0.1:0");
        await CreateAndDeleteAsync(driver.Endpoint);
        var scrape = dir.Combine("scrape.txt");
        await File.WriteAllTextAsync(scrape, await Scrapes.GetAsync(Scrapes.UrlIn(driver.Output)));

        // promtool (Debian's prometheus package, installed by scripts/test) reads the exposition on standard input.
        var lint = await Processes.RunAsync("sh", ["-c", "promtool check metrics < \"$0\"", scrape]);

        Assert.That(lint, Is.Empty, "promtool found nothing to complain about");
        Assert.That(await File.ReadAllTextAsync(scrape), Does.Contain("# TYPE loopvol_fsyncs_total counter"));
    }

    [Test]
    public async Task MetricsPort_ServesNoCsi_AndTheCsiSocketServesNoMetrics()
    {
        using var dir = new TempDirectory();
        await using var driver = await DriverProcess.StartAsync(dir.Combine("data"), "--metrics-address", "127.0.0.1:0");
        var url = Scrapes.UrlIn(driver.Output);

        using var probe = await Scrapes.SendAsync(new HttpRequestMessage(HttpMethod.Post,
            new Uri(url, "/csi.v1.Identity/Probe")) { Content = new ByteArrayContent([0, 0, 0, 0, 0]) });
        using var socket = new HttpClient(CsiChannel.Handler(driver.Endpoint));
        using var metrics = await socket.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://localhost/metrics")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });

        Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "no CSI method on the metrics port");
        Assert.That(await metrics.Content.ReadAsStringAsync(), Does.Not.Contain("loopvol_fsyncs_total"),
            "no metrics on the CSI socket");
        Assert.That(metrics.Content.Headers.ContentType?.MediaType, Is.Not.EqualTo("text/plain"));
    }

    [Test]
    public async Task MetricsPortInUse_DriverRefusesToStart()
    {
        using var dir = new TempDirectory();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exit, text) = await Processes.RunExpectingFailureAsync("dotnet",
        [
            Path.Combine(AppContext.BaseDirectory, "loopvol.dll"), "--data-dir", dir.Combine("data"),
            "--metrics-address", $"127.0.0.1:{port}",
        ]);

        Assert.That(exit, Is.EqualTo(1), text);
        Assert.That(text, Does.Contain("cannot start").And.Contain(port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(File.Exists(dir.Combine("data", "csi.sock")), Is.False, "it never served CSI");
    }

    /// <summary>An empty 16 MiB volume created and deleted, one call after the other.</summary>
    internal static async Task CreateAndDeleteAsync(GrpcEndpoint endpoint)
    {
        using var client = new CsiClient(endpoint);
        var created = await client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = $"pvc-{Guid.NewGuid():N}",
            CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
            VolumeCapabilities = { ControllerFixture.Mount() },
        });
        await client.UnaryAsync<DeleteVolumeResponse>("Controller", "DeleteVolume",
            new DeleteVolumeRequest { VolumeId = created.Volume.VolumeId });
    }
}
