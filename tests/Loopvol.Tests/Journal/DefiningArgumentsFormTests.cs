using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Journal.Schema;

namespace Loopvol.Tests.Journal;

/// <summary>The one persisted form of defining arguments and of an image's record, pinned byte for byte.</summary>
public sealed class DefiningArgumentsFormTests
{
    private static readonly ObjectId Snapshot = ObjectId.Parse("snap-0250c6fd-ff51-4a5a-8373-70ef57660238", ObjectKind.Snapshot, "t");
    private static readonly ObjectId VolumeA = ObjectId.Parse("vol-511212a5-cdfa-4d91-a074-20279cbc39f7", ObjectKind.Volume, "t");
    private static readonly ObjectId VolumeB = ObjectId.Parse("vol-d32a376e-214f-4d80-93d3-6f3bbf47c1e0", ObjectKind.Volume, "t");
    private static readonly ObjectId Group = ObjectId.Parse("group-0364f41e-8400-47a5-a4cc-16af34cacdbc", ObjectKind.Group, "t");

    private const string NodeKey = "topology.loopvol.csi.dev/node";

    /// <summary>JSON written with single quotes, for legibility.</summary>
    private static string Q(string text) => text.Replace('\'', '"');

    private static DefiningArguments Volume() => new()
    {
        RequiredBytes = 335544320,
        LimitBytes = 536870912,
        Parameters = new Dictionary<string, string> { ["fsType"] = "xfs", ["csi.storage.k8s.io/pvc/name"] = "data-0" },
        ContentSource = Snapshot,
        Accessibility = Accessibility.Of([[new(NodeKey, "node-1")]], [[new(NodeKey, "node-1")]]),
        Capabilities = CapabilitySet.Of([
            Capability.Block("SingleNodeReaderOnly"),
            Capability.Mount("SingleNodeWriter", "xfs", ["uid=1000,gid=1000", "noatime"], "2000"),
        ]),
    };

    private static readonly string VolumeForm =
        Q("{'v':1,'required_bytes':335544320,'limit_bytes':536870912,'parameters':{'csi.storage.k8s.io/pvc/name':'data-0','fsType':'xfs'},") +
        Q("'content_source':'snap-0250c6fd-ff51-4a5a-8373-70ef57660238','accessibility':{'requisite':[{'topology.loopvol.csi.dev/node':'node-1'}],") +
        Q("'preferred':[{'topology.loopvol.csi.dev/node':'node-1'}]},'capabilities':[{'access_type':'mount','access_mode':'SingleNodeWriter',") +
        Q("'fs_type':'xfs','mount_flags':['gid=1000','noatime','uid=1000'],'mount_group':'2000'},") +
        Q("{'access_type':'block','access_mode':'SingleNodeReaderOnly'}]}");

    private static IEnumerable<TestCaseData> Golden()
    {
        yield return new TestCaseData(Volume(), VolumeForm).SetName("Form_Volume_IsPinned");
        yield return new TestCaseData(new DefiningArguments { SourceVolume = VolumeA },
            Q("{'v':1,'parameters':{},'source_volume':'vol-511212a5-cdfa-4d91-a074-20279cbc39f7'}")).SetName("Form_Snapshot_IsPinned");
        yield return new TestCaseData(new DefiningArguments { GroupSources = [VolumeB, VolumeA] },
            Q("{'v':1,'parameters':{},'group_sources':['vol-511212a5-cdfa-4d91-a074-20279cbc39f7',") +
            Q("'vol-d32a376e-214f-4d80-93d3-6f3bbf47c1e0']}")).SetName("Form_GroupSnapshot_IsPinned");
        yield return new TestCaseData(new DefiningArguments { RequiredBytes = 0, LimitBytes = 0 },
            Q("{'v':1,'required_bytes':0,'limit_bytes':0,'parameters':{}}")).SetName("Form_EmptyVolume_IsPinned");
    }

    [TestCaseSource(nameof(Golden))]
    public void Form_IsExactly_AndReadsBackEqual(DefiningArguments arguments, string form)
    {
        Assert.That(DefiningArgumentsJson.Serialize(arguments), Is.EqualTo(form));
        Assert.That(DefiningArgumentsJson.Parse(form), Is.EqualTo(arguments));
        Assert.That(DefiningArgumentsJson.Serialize(DefiningArgumentsJson.Parse(form)), Is.EqualTo(form));
    }

    [Test]
    public void PortableRecord_OfAGroupMember_IsPinned_AndReadsBack()
    {
        var member = new PortableRecord(Snapshot, $"{Group}/{VolumeA}", DateTimeOffset.FromUnixTimeMilliseconds(1795377375428),
            new DefiningArguments { SourceVolume = VolumeA })
        {
            Group = new PortableGroup(Group, "group-1", DateTimeOffset.FromUnixTimeMilliseconds(1795377375425), 2),
        };
        var form =
            Q("{'v':1,'kind':'snapshot','id':'snap-0250c6fd-ff51-4a5a-8373-70ef57660238',") +
            Q("'name':'group-0364f41e-8400-47a5-a4cc-16af34cacdbc/vol-511212a5-cdfa-4d91-a074-20279cbc39f7',") +
            Q("'created_at_ms':1795377375428,'arguments':{'v':1,'parameters':{},'source_volume':'vol-511212a5-cdfa-4d91-a074-20279cbc39f7'},") +
            Q("'group':{'id':'group-0364f41e-8400-47a5-a4cc-16af34cacdbc','name':'group-1','created_at_ms':1795377375425,'members':2}}");

        Assert.That(member.ToJson(), Is.EqualTo(form));
        Assert.That(PortableRecord.Parse(form), Is.EqualTo(member));
    }

    [Test]
    public void PortableRecord_WithKubernetesNames_IsPinned_AndReadsBack()
    {
        var volume = new PortableRecord(VolumeA, "pvc-1", DateTimeOffset.FromUnixTimeMilliseconds(1795377375428), new DefiningArguments())
        {
            Kubernetes = new Dictionary<string, string>
            {
                ["csi.storage.k8s.io/pvc/namespace"] = "shop", ["csi.storage.k8s.io/pvc/name"] = "data",
            },
        };
        var form =
            Q("{'v':1,'kind':'volume','id':'vol-511212a5-cdfa-4d91-a074-20279cbc39f7','name':'pvc-1',") +
            Q("'created_at_ms':1795377375428,'arguments':{'v':1,'parameters':{}},") +
            Q("'kubernetes':{'csi.storage.k8s.io/pvc/name':'data','csi.storage.k8s.io/pvc/namespace':'shop'}}");

        Assert.That(volume.ToJson(), Is.EqualTo(form));
        Assert.That(PortableRecord.Parse(form), Is.EqualTo(volume));
        Assert.That(PortableRecord.Parse(form), Is.Not.EqualTo(volume with { Kubernetes = new Dictionary<string, string>() }));
    }

    [TestCase("{'v':2,'parameters':{}}", "version 2")]
    [TestCase("{'parameters':{}}", "version 0")]
    [TestCase("{'v':1,'parameters':{},'colour':'blue'}", "unknown part 'colour'")]
    [TestCase("{'v':1,'parameters':{},'source_volume':'snap-0250c6fd-ff51-4a5a-8373-70ef57660238'}", "is not a Volume ID")]
    [TestCase("{'v':1,'parameters':{},'capabilities':[{'access_type':'nfs','access_mode':'X'}]}", "unknown access type")]
    [TestCase("{'v':1,'required_bytes':'many','parameters':{}}", "malformed")]
    [TestCase("not json", "not JSON")]
    public void Parse_UnknownVersionOrMalformed_IsRefusedNeverGuessed(string form, string reason)
    {
        var error = Assert.Throws<FormatException>(() => DefiningArgumentsJson.Parse(Q(form)));
        Assert.That(error!.Message, Does.Contain(reason));
    }

    [Test]
    public void Equality_IgnoresOrderWhereItMeansNothing_AndKeepsItWhereItDoes()
    {
        var reordered = Volume() with
        {
            Parameters = new SortedDictionary<string, string> { ["csi.storage.k8s.io/pvc/name"] = "data-0", ["fsType"] = "xfs" },
            Capabilities = CapabilitySet.Of([
                Capability.Mount("SingleNodeWriter", "xfs", ["noatime", "gid=1000", "uid=1000"], "2000"),
                Capability.Block("SingleNodeReaderOnly"),
            ]),
        };
        var otherPreference = Volume() with
        {
            Accessibility = Accessibility.Of([[new(NodeKey, "node-1")]], [[new(NodeKey, "node-2")], [new(NodeKey, "node-1")]]),
        };

        Assert.That(reordered, Is.EqualTo(Volume()));
        Assert.That(Volume().FirstDifference(otherPreference), Does.StartWith("accessibility requirements"));
        Assert.That(Volume().FirstDifference(Volume() with { ContentSource = VolumeA }), Does.StartWith("content source"));
        Assert.That(Volume().FirstDifference(Volume() with { Capabilities = CapabilitySet.Of([Capability.Block("SingleNodeWriter")]) }),
            Does.StartWith("volume capabilities"));
        Assert.That(new DefiningArguments { GroupSources = [VolumeA] }.FirstDifference(new DefiningArguments { GroupSources = [VolumeA, VolumeB] }),
            Does.StartWith("source volumes"));
    }

    /// <summary>Each text form of schema version 2 and the typed record today's code makes of the same request.</summary>
    private static IEnumerable<TestCaseData> LegacyForms()
    {
        yield return new TestCaseData(ObjectKind.Volume, "{\"csi.storage.k8s.io/pvc/name\":\"data-0\",\"fsType\":\"xfs\"}",
                "snapshot:" + Snapshot, $"requisite={NodeKey}=node-1;preferred={NodeKey}=node-1",
                "block;SingleNodeReaderOnly|mount;SingleNodeWriter;xfs;noatime,uid=1000,gid=1000;2000", null, Volume())
            .SetName("Legacy_VolumeFromSnapshotWithEverything_ReadsAsToday");
        yield return new TestCaseData(ObjectKind.Volume, "{}", "volume:" + VolumeA, null, "mount;SingleNodeReaderOnly;;;", null,
                new DefiningArguments
                {
                    RequiredBytes = 335544320, LimitBytes = 536870912, ContentSource = VolumeA,
                    Capabilities = CapabilitySet.Of([Capability.Mount("SingleNodeReaderOnly", "", [], "")]),
                })
            .SetName("Legacy_Clone_ReadsAsToday");
        yield return new TestCaseData(ObjectKind.Volume, "{}", null, "requisite=;preferred=", "block;SingleNodeWriter", null,
                new DefiningArguments
                {
                    RequiredBytes = 335544320, LimitBytes = 536870912, Accessibility = Accessibility.Of([], []),
                    Capabilities = CapabilitySet.Of([Capability.Block("SingleNodeWriter")]),
                })
            .SetName("Legacy_BlockWithEmptyTopology_ReadsAsToday");
        yield return new TestCaseData(ObjectKind.Snapshot, "{}", null, null, null, VolumeA.ToString(),
                new DefiningArguments { RequiredBytes = 335544320, LimitBytes = 536870912, SourceVolume = VolumeA })
            .SetName("Legacy_Snapshot_ReadsAsToday");
        yield return new TestCaseData(ObjectKind.Group, "{}", null, null, null, $"{VolumeA},{VolumeB}",
                new DefiningArguments { RequiredBytes = 335544320, LimitBytes = 536870912, GroupSources = [VolumeA, VolumeB] })
            .SetName("Legacy_GroupSources_ReadAsToday");
    }

    [TestCaseSource(nameof(LegacyForms))]
    public void Legacy_TextsOfVersion2_ReadAsTheTypedRecordOfTheSameRequest(ObjectKind kind, string parameters,
        string? source, string? accessibility, string? capabilities, string? sourceVolume, DefiningArguments expected)
    {
        var read = LegacyArguments.Read(kind, 335544320, 536870912, parameters, source, accessibility, capabilities, sourceVolume);

        Assert.That(read.FirstDifference(expected), Is.Null);
    }

    [TestCase("mount;SingleNodeWriter;xfs", "capability")]
    [TestCase("floppy;SingleNodeWriter", "capability")]
    public void Legacy_Unreadable_IsRefused(string capabilities, string reason)
    {
        var error = Assert.Throws<FormatException>(() =>
            LegacyArguments.Read(ObjectKind.Volume, null, null, "{}", null, null, capabilities, null));
        Assert.That(error!.Message, Does.Contain(reason));
    }
}
