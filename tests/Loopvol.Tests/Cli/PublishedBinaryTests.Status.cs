using System.Text.Json;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

/// <summary><c>loopvol status --json</c> from the native executable: the generated serializer survives trimming and AOT.</summary>
public sealed partial class PublishedBinaryTests
{
    [Test]
    public async Task Status_Json_WritesEveryKey_AndExitsOneForWhatNeedsAnOperator()
    {
        using var data = new TempDirectory();
        var seed = await StatusSeed.CreateAsync(data.Path, problems: true);

        var (exit, text) = await Processes.RunExpectingFailureAsync(_executable, ["status", "--json", "--data-dir", data.Path]);

        Assert.That(exit, Is.EqualTo(1), text);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        StatusCommandTests.AssertKeys(root, "status");
        StatusCommandTests.AssertKeys(root.GetProperty("pool"), "pool");
        StatusCommandTests.AssertKeys(root.GetProperty("records").GetProperty("volume"), "state_counts");
        StatusCommandTests.AssertKeys(root.GetProperty("staged_volumes")[0], "staged_volume");
        Assert.That(root.GetProperty("pool").GetProperty("provisioned_bytes").GetInt64(), Is.EqualTo(StatusSeed.ProvisionedBytes));
        Assert.That(root.GetProperty("needs_operator").EnumerateArray().Select(i => i.GetProperty("subject").GetString()),
            Is.EquivalentTo(new[] { seed.Faulty.ToString(), seed.Orphan.ToString() }));
    }
}
