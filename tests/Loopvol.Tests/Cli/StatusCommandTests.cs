using System.Text.Json;
using Loopvol.Cli;
using Loopvol.Core.Native;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

/// <summary><c>loopvol status</c> over a real SQLite journal and a real pool directory (<see cref="StatusSeed"/>).</summary>
public sealed class StatusCommandTests
{
    /// <summary>Every key of the JSON form, by object; scripts rely on them.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> JsonKeys = new Dictionary<string, string[]>
    {
        ["status"] = ["journal", "pool", "records", "staged_volumes", "needs_operator"],
        ["pool"] = ["directory", "size_bytes", "used_bytes", "free_bytes", "used_ratio", "provisioned_bytes",
            "provisioned_ratio", "copy_mode"],
        ["records"] = ["volume", "snapshot", "group"],
        ["state_counts"] = ["reserved", "created", "deleting", "faulty"],
        ["staged_volume"] = ["volume_id", "state", "staging_path", "loop_device", "publications"],
        ["publication"] = ["target_path", "read_only", "access_type"],
        ["needs_operator"] = ["kind", "subject", "detail", "repairable"],
    };

    [Test]
    public async Task Text_CountsRecords_ShowsStagedAndPublished_NothingNeedsAnOperator_ExitZero()
    {
        using var data = new TempDirectory();
        var seed = await StatusSeed.CreateAsync(data.Path, problems: false);

        var (exit, text) = await RunAsync(data, "status");

        Assert.That(exit, Is.Zero, text);
        Assert.That(text, Does.Contain($"pool           {Path.Combine(data.Path, "pool")}"));
        Assert.That(text, Does.Contain($"journal        {Path.Combine(data.Path, "journal.db")}"));
        var used = System.Text.RegularExpressions.Regex.Match(text, @"  used         \[[#-]{20}\] (\d+) %");
        Assert.That(used.Success, Is.True, text);
        var df = await Processes.RunAsync("df", ["--output=pcent", Path.Combine(data.Path, "pool")]);
        Assert.That(int.Parse(used.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(int.Parse(df.Split('\n')[1].Trim().TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture)).Within(1),
            "the fill is df's Use%");
        Assert.That(text, Does.Contain("  provisioned  9.0 MiB, "));
        Assert.That(text, Does.Contain("  copies       full copies (no reflinks)"), "the temp directory is on ext4");
        Assert.That(Lines(text), Does.Contain("  volume             1         2         1         0"));
        Assert.That(Lines(text), Does.Contain("  snapshot           0         2         0         0"));
        Assert.That(Lines(text), Does.Contain("  group              0         1         0         0"));
        Assert.That(text, Does.Contain("staged         2 volume(s)"));
        Assert.That(text, Does.Contain($"  {seed.Staged}  in_use  at {seed.StagingPath} on /dev/loop41"));
        Assert.That(text, Does.Contain($"    published at {seed.TargetPath} (mount, read-only)"));
        Assert.That(text, Does.Contain($"  {seed.Attached}  attached  at - on /dev/loop42"));
        Assert.That(text, Does.EndWith("nothing needs an operator\n"));
    }

    [Test]
    public async Task Json_HasTheDocumentedKeys_AndTheSameFacts()
    {
        using var data = new TempDirectory();
        var seed = await StatusSeed.CreateAsync(data.Path, problems: false);

        var (exit, text) = await RunAsync(data, "status", "--json");

        Assert.That(exit, Is.Zero, text);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        AssertKeys(root, "status");
        var pool = root.GetProperty("pool");
        AssertKeys(pool, "pool");
        var stats = FileSystemStats.Of(Path.Combine(data.Path, "pool"));
        Assert.That(pool.GetProperty("size_bytes").GetInt64(), Is.EqualTo(stats.TotalBytes));
        Assert.That(pool.GetProperty("used_bytes").GetInt64(), Is.InRange(1, stats.TotalBytes));
        Assert.That(pool.GetProperty("free_bytes").GetInt64(), Is.InRange(1, stats.TotalBytes));
        var (usedBytes, freeBytes) = (pool.GetProperty("used_bytes").GetInt64(), pool.GetProperty("free_bytes").GetInt64());
        Assert.That(pool.GetProperty("used_ratio").GetDouble(), Is.EqualTo((double)usedBytes / (usedBytes + freeBytes)).Within(0.0001));
        Assert.That(pool.GetProperty("provisioned_bytes").GetInt64(), Is.EqualTo(StatusSeed.ProvisionedBytes));
        Assert.That(pool.GetProperty("provisioned_ratio").GetDouble(),
            Is.EqualTo((double)StatusSeed.ProvisionedBytes / stats.TotalBytes).Within(0.0001));
        Assert.That(pool.GetProperty("copy_mode").GetString(), Is.EqualTo("copy"));
        var records = root.GetProperty("records");
        AssertKeys(records, "records");
        foreach (var (kind, expected) in new[] { ("volume", new[] { 1L, 2, 1, 0 }), ("snapshot", [0, 2, 0, 0]), ("group", [0, 1, 0, 0]) })
        {
            AssertKeys(records.GetProperty(kind), "state_counts");
            Assert.That(JsonKeys["state_counts"].Select(s => records.GetProperty(kind).GetProperty(s).GetInt64()),
                Is.EqualTo(expected), kind);
        }
        var staged = root.GetProperty("staged_volumes").EnumerateArray().ToDictionary(v => v.GetProperty("volume_id").GetString()!);
        Assert.That(staged.Keys, Is.EquivalentTo(new[] { seed.Staged.ToString(), seed.Attached.ToString() }));
        var inUse = staged[seed.Staged.ToString()];
        AssertKeys(inUse, "staged_volume");
        Assert.That(inUse.GetProperty("state").GetString(), Is.EqualTo("in_use"));
        Assert.That(inUse.GetProperty("staging_path").GetString(), Is.EqualTo(seed.StagingPath));
        Assert.That(inUse.GetProperty("loop_device").GetString(), Is.EqualTo("/dev/loop41"));
        var publication = inUse.GetProperty("publications").EnumerateArray().Single();
        AssertKeys(publication, "publication");
        Assert.That(publication.GetProperty("target_path").GetString(), Is.EqualTo(seed.TargetPath));
        Assert.That(publication.GetProperty("read_only").GetBoolean(), Is.True);
        Assert.That(staged[seed.Attached.ToString()].GetProperty("staging_path").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(root.GetProperty("needs_operator").GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task FaultyRecordAndOrphanImage_NeedAnOperator_InTextAndJson_ExitOne()
    {
        using var data = new TempDirectory();
        var seed = await StatusSeed.CreateAsync(data.Path, problems: true);

        var (textExit, text) = await RunAsync(data, "status");
        var (jsonExit, jsonText) = await RunAsync(data, "status", "--json");

        Assert.That(textExit, Is.EqualTo(1), text);
        Assert.That(jsonExit, Is.EqualTo(1), jsonText);
        Assert.That(text, Does.Contain("needs an operator (2)").And.Not.Contain("nothing needs an operator"));
        Assert.That(text, Does.Contain($"  faulty_record   {seed.Faulty}: creation of 'pvc-faulty' failed half way"));
        Assert.That(text, Does.Contain($"  orphan_backend  {seed.Orphan}: no record names it; gc deletes it"));
        Assert.That(Lines(text), Does.Contain("  volume             1         2         1         1"));
        using var json = JsonDocument.Parse(jsonText);
        var items = json.RootElement.GetProperty("needs_operator").EnumerateArray().ToList();
        items.ForEach(i => AssertKeys(i, "needs_operator"));
        Assert.That(items.Select(i => (i.GetProperty("kind").GetString(), i.GetProperty("subject").GetString())),
            Is.EquivalentTo(new[] { ("faulty_record", seed.Faulty.ToString()), ("orphan_backend", seed.Orphan.ToString()) }));
        Assert.That(items.Select(i => i.GetProperty("detail").GetString()), Has.All.Not.Empty);
        Assert.That(items.Select(i => i.GetProperty("repairable").GetBoolean()), Has.All.True, "journal gc repairs both");
    }

    [Test]
    public async Task MissingJournal_FailsNamingThePath_AndCreatesNothing()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");

        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await LoopvolCommand.RunAsync(["status", "--json", "--data-dir", data], output, error);
        Assert.That(Directory.Exists(data), Is.False);
        Directory.CreateDirectory(data);
        var (again, textAgain) = await RunAsync(data, "status");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error.ToString(), Is.EqualTo($"no journal at {Path.Combine(data, "journal.db")}\n"));
        Assert.That(output.ToString(), Is.Empty, "nothing on standard output that a script could take for JSON");
        Assert.That(again, Is.EqualTo(1));
        Assert.That(textAgain, Does.Contain(Path.Combine(data, "journal.db")));
        Assert.That(Directory.GetFileSystemEntries(data), Is.Empty, "no journal, no pool directory, nothing");
    }

    [Test]
    public async Task MissingPool_FailsNamingThePath_AndCreatesNothing()
    {
        using var data = new TempDirectory();
        await StatusSeed.CreateAsync(data.Path, problems: false);
        var elsewhere = data.Combine("elsewhere");

        var (exit, text) = await RunAsync(data, "status", "--pool-dir", elsewhere);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(text, Does.StartWith($"no pool at {elsewhere}"));
        Assert.That(Directory.Exists(elsewhere), Is.False);
    }

    [Test]
    public async Task UnknownFlag_IsAUsageError()
    {
        using var data = new TempDirectory();

        var (exit, _) = await RunAsync(data, "status", "--yaml");

        Assert.That(exit, Is.EqualTo(LoopvolCommand.UsageError));
    }

    [TestCase(0.0, "[--------------------]")]
    [TestCase(0.52, "[##########----------]")]
    [TestCase(1.0, "[####################]")]
    [TestCase(1.7, "[####################]")]
    public void Bar_FillsInTwentiethParts(double ratio, string bar) => Assert.That(StatusPrinter.Bar(ratio), Is.EqualTo(bar));

    [TestCase(0L, "0 B")]
    [TestCase(1023L, "1023 B")]
    [TestCase(1536L, "1.5 KiB")]
    [TestCase(9L << 20, "9.0 MiB")]
    [TestCase(5L << 40, "5.0 TiB")]
    public void Size_InBinaryUnits(long bytes, string text) => Assert.That(StatusPrinter.Size(bytes), Is.EqualTo(text));

    public static void AssertKeys(JsonElement element, string shape) =>
        Assert.That(element.EnumerateObject().Select(p => p.Name), Is.EqualTo(JsonKeys[shape]), shape);

    private static string[] Lines(string text) => text.Split('\n');

    private static Task<(int Exit, string Text)> RunAsync(TempDirectory data, params string[] args) => RunAsync(data.Path, args);

    /// <summary>Runs the command line in this process; standard output and error both go to the text.</summary>
    private static async Task<(int Exit, string Text)> RunAsync(string data, params string[] args)
    {
        using var output = new StringWriter();
        var exit = await LoopvolCommand.RunAsync([.. args, "--data-dir", data], output, output);
        return (exit, output.ToString());
    }
}
