using System.Text.Json;
using Loopvol.Cli;
using Loopvol.Core.Host;
using Loopvol.Tests.Node;

namespace Loopvol.Tests.Cli;

/// <summary>
/// <c>loopvol status</c> while the driver serves the same data directory, with a volume staged and published for
/// real (a loop device, an ext4 mount, a bind mount), its pool on XFS with reflinks.
/// </summary>
public sealed class StatusOnNodeTests : NodeFixture
{
    [Test]
    public async Task WhileTheDriverServes_ShowsTheStagedVolume_ItsLoopDevice_AndItsPublication()
    {
        var capability = Mount("ext4");
        var volume = await CreateVolumeAsync(capability);
        await StageAsync(volume, capability);
        await PublishAsync(volume, capability, Target(), readOnly: true);
        try
        {
            var (exit, text) = await RunAsync("status", "--json");
            var (textExit, plain) = await RunAsync("status");

            Assert.That(exit, Is.Zero, text);
            Assert.That(textExit, Is.Zero, plain);
            using var json = JsonDocument.Parse(text);
            var staged = json.RootElement.GetProperty("staged_volumes").EnumerateArray().Single();
            var device = staged.GetProperty("loop_device").GetString()!;
            Assert.That(staged.GetProperty("volume_id").GetString(), Is.EqualTo(volume));
            Assert.That(staged.GetProperty("state").GetString(), Is.EqualTo("in_use"));
            Assert.That(staged.GetProperty("staging_path").GetString(), Is.EqualTo(Staging()));
            Assert.That(LoopBackingFiles.Read()[device], Does.EndWith($"/pool/{volume}.img"), "the loop device the kernel has");
            var publication = staged.GetProperty("publications").EnumerateArray().Single();
            Assert.That(publication.GetProperty("target_path").GetString(), Is.EqualTo(Target()));
            Assert.That(publication.GetProperty("read_only").GetBoolean(), Is.True);
            Assert.That(json.RootElement.GetProperty("pool").GetProperty("copy_mode").GetString(), Is.EqualTo("reflink"));
            Assert.That(json.RootElement.GetProperty("records").GetProperty("volume").GetProperty("created").GetInt64(), Is.EqualTo(1));
            Assert.That(json.RootElement.GetProperty("pool").GetProperty("provisioned_bytes").GetInt64(), Is.EqualTo(64 * MiB));
            Assert.That(plain, Does.Contain($"  {volume}  in_use  at {Staging()} on {device}"));
            Assert.That(plain, Does.Contain($"    published at {Target()} (mount, read-only)"));
            Assert.That(plain, Does.Contain("  copies       reflinks (shared extents)"));
            Assert.That(plain, Does.EndWith("nothing needs an operator\n"));
        }
        finally
        {
            await UnpublishAsync(volume, Target());
            await UnstageAsync(volume);
        }
    }

    private async Task<(int Exit, string Text)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await LoopvolCommand.RunAsync([.. args, "--data-dir", Driver.Settings.DataDirectory], output, output);
        return (exit, output.ToString());
    }
}
