using System.Text;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Hosting;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

/// <summary>The metrics listener of the native executable: the exporter survives trimming and AOT compilation.</summary>
public sealed partial class PublishedBinaryTests
{
    [Test]
    public async Task MetricsAddress_ServesTheFsyncCounter_ThatCallsMove()
    {
        using var dir = new TempDirectory();
        var socket = dir.Combine("data", "csi.sock");
        var output = new StringBuilder();
        using var driver = StartCapturing(output, _executable, "--data-dir", dir.Combine("data"), "--nodeid", "aot-node",
            "--metrics-address", "127.0.0.1:0");
        try
        {
            using (var channel = CsiChannel.Create(GrpcEndpoint.Unix(socket)))
            {
                await WaitUntilReadyAsync(new Identity.IdentityClient(channel), driver, output);
            }
            var url = Scrapes.UrlIn(Text(output));
            var before = Scrapes.Fsyncs(await Scrapes.GetAsync(url));

            await MetricsEndpointTests.CreateAndDeleteAsync(GrpcEndpoint.Unix(socket));

            var moved = Scrapes.Moved(before, Scrapes.Fsyncs(await Scrapes.GetAsync(url)));
            Assert.That(moved.Keys, Is.EquivalentTo(new[] { "directory", "image", "journal" }));
            Assert.That(moved["journal"], Is.EqualTo(FsyncBudget.JournalSyncsPerEmptyCreateDelete));
            Assert.That(moved["image"], Is.EqualTo(FsyncBudget.ImageSyncsPerEmptyCreateDelete));
        }
        finally
        {
            driver.Kill(entireProcessTree: true);
            await driver.WaitForExitAsync();
        }
    }
}
