using System.Net;
using System.Net.Sockets;
using Loopvol.Core.Ids;
using Loopvol.Csi.Transport;
using Loopvol.Journal.Maintenance;
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

    [Test]
    public async Task StartUp_RepairsAndFindingsLeft_AreCountedByKind()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        string lost;
        await using (var driver = await DriverProcess.StartAsync(data))
        {
            using var client = new CsiClient(driver.Endpoint);
            lost = await CreateAsync(client);
            await CreateAsync(client);
        }
        // An empty volume whose image a crash lost before it was ever made durable, and an image no record names.
        File.Delete(Path.Combine(data, "pool", lost + ".img"));
        var orphan = ObjectId.New(ObjectKind.Volume);
        await File.WriteAllBytesAsync(Path.Combine(data, "pool", orphan + ".img"), new byte[4096]);

        await using var restarted = await DriverProcess.StartAsync(data, "--metrics-address", "127.0.0.1:0");
        var scrape = new Exposition(await Scrapes.GetAsync(Scrapes.UrlIn(restarted.Output)));

        Assert.Multiple(() =>
        {
            Assert.That(scrape.Sum("loopvol_reconcile_repairs_total", "kind=empty_image_restored"), Is.EqualTo(1));
            Assert.That(scrape.Sum("loopvol_reconcile_repairs_total"), Is.EqualTo(1), "nothing else was repaired");
            Assert.That(scrape.Sum("loopvol_reconcile_findings", "kind=orphan_backend"), Is.EqualTo(1));
            Assert.That(scrape.Sum("loopvol_reconcile_findings"), Is.EqualTo(1), "nothing else is left for an operator");
            Assert.That(scrape.Samples.Count(s => s.Name == "loopvol_reconcile_findings"),
                Is.EqualTo(Enum.GetValues<FindingKind>().Length + 1), "every kind is a series, at 0 too");
        });
        Assert.That(File.Exists(Path.Combine(data, "pool", lost + ".img")), Is.True, "the lost empty image was made again");
        Assert.That(File.Exists(Path.Combine(data, "pool", orphan + ".img")), Is.True, "the orphan is left alone");
    }

    private static async Task<string> CreateAsync(CsiClient client) =>
        (await client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = $"pvc-{Guid.NewGuid():N}",
            CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
            VolumeCapabilities = { ControllerFixture.Mount() },
        })).Volume.VolumeId;

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
