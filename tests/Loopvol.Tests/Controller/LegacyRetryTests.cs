using Grpc.Core;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Journal.Model;
using Loopvol.Tests.Support;
using Mode = Loopvol.Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace Loopvol.Tests.Controller;

/// <summary>
/// A journal written by the driver of schema version 2 (its defining arguments ';'-joined texts), opened by this
/// driver: every retry of the requests that made it gets the same ID, and a retry with other arguments is still
/// ALREADY_EXISTS. The requests are those that made the fixture (Journal/Fixtures/README.md).
/// </summary>
public sealed class LegacyRetryTests
{
    private const string VolumeCaps = "vol-511212a5-cdfa-4d91-a074-20279cbc39f7";
    private const string VolumeBlock = "vol-d32a376e-214f-4d80-93d3-6f3bbf47c1e0";
    private const string Snapshot = "snap-0250c6fd-ff51-4a5a-8373-70ef57660238";
    private const string Restored = "vol-d9a83d28-964d-41b8-beea-bc57234de3be";
    private const string Clone = "vol-cfe969f6-0ace-47ea-9989-5f4c2c8825dc";
    private const string Group = "group-0364f41e-8400-47a5-a4cc-16af34cacdbc";

    private TempDirectory _data = null!;
    private InProcessDriver _driver = null!;

    [SetUp]
    public async Task StartOnTheFixtureAsync()
    {
        _data = new TempDirectory();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Journal", "Fixtures", "journal-v2-driver.db"), _data.Combine("journal.db"));
        _driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = _data.Path });
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _driver.DisposeAsync();
        _data.Dispose();
    }

    private static VolumeCapability MountXfs(params string[] flags) => new()
    {
        Mount = new VolumeCapability.Types.MountVolume { FsType = "xfs", MountFlags = { flags }, VolumeMountGroup = "2000" },
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
    };

    private static VolumeCapability MountReadOnly() => new()
    {
        Mount = new VolumeCapability.Types.MountVolume { FsType = "xfs" },
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeReaderOnly },
    };

    private static CreateVolumeRequest Caps() => new()
    {
        Name = "pvc-caps",
        CapacityRange = new CapacityRange { RequiredBytes = 320L << 20, LimitBytes = 512L << 20 },
        // The same capabilities in another order, the same mount options split differently: the same request.
        VolumeCapabilities = { MountReadOnly(), MountXfs("uid=1000", "gid=1000,noatime") },
        Parameters = { ["csi.storage.k8s.io/pvc/name"] = "data-0", ["fsType"] = "xfs" },
        AccessibilityRequirements = new TopologyRequirement
        {
            Requisite = { new Topology { Segments = { ["topology.loopvol.csi.dev/node"] = "node-1" } } },
            Preferred = { new Topology { Segments = { ["topology.loopvol.csi.dev/node"] = "node-1" } } },
        },
    };

    /// <summary>Exactly the request that made the fixture's volume.</summary>
    private static CreateVolumeRequest CapsAsMade()
    {
        var request = Caps();
        request.VolumeCapabilities.Clear();
        request.VolumeCapabilities.Add(MountXfs("noatime", "uid=1000,gid=1000"));
        request.VolumeCapabilities.Add(MountReadOnly());
        return request;
    }

    private static CreateVolumeRequest Block() => new()
    {
        Name = "pvc-block",
        CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
        VolumeCapabilities =
        {
            new VolumeCapability
            {
                Block = new VolumeCapability.Types.BlockVolume(),
                AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
            },
        },
    };

    private static CreateVolumeRequest FromSnapshot() => new()
    {
        Name = "pvc-restored",
        CapacityRange = new CapacityRange { RequiredBytes = 320L << 20 },
        VolumeCapabilities = { MountXfs("noatime", "uid=1000,gid=1000") },
        VolumeContentSource = new VolumeContentSource { Snapshot = new() { SnapshotId = Snapshot } },
    };

    private static CreateVolumeRequest CloneOfCaps() => new()
    {
        Name = "pvc-clone",
        VolumeCapabilities = { MountReadOnly() },
        VolumeContentSource = new VolumeContentSource { Volume = new() { VolumeId = VolumeCaps } },
    };

    private static IEnumerable<TestCaseData> SameRequests()
    {
        yield return new TestCaseData(CapsAsMade(), VolumeCaps).SetName("Retry_VolumeWithCapabilitiesTopologyAndParameters_GetsItsId");
        yield return new TestCaseData(Caps(), VolumeCaps).SetName("Retry_SameCapabilitiesReorderedFlagsSplitOtherwise_GetsItsId");
        yield return new TestCaseData(Block(), VolumeBlock).SetName("Retry_BlockVolume_GetsItsId");
        yield return new TestCaseData(FromSnapshot(), Restored).SetName("Retry_VolumeFromSnapshot_GetsItsId");
        yield return new TestCaseData(CloneOfCaps(), Clone).SetName("Retry_Clone_GetsItsId");
    }

    [TestCaseSource(nameof(SameRequests))]
    public async Task Retry_OfARequestMadeBySchema2_GetsTheSameId(CreateVolumeRequest request, string id)
    {
        var volume = (await _driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", request)).Volume;

        Assert.That(volume.VolumeId, Is.EqualTo(id));
    }

    private static IEnumerable<TestCaseData> DifferingRequests()
    {
        var otherFlags = Caps();
        otherFlags.VolumeCapabilities[1] = MountXfs("noatime");
        yield return new TestCaseData(otherFlags, "capabilities").SetName("Differing_MountFlags_IsAlreadyExists");
        var otherTopology = Caps();
        otherTopology.AccessibilityRequirements.Preferred.Clear();
        yield return new TestCaseData(otherTopology, "accessibility").SetName("Differing_Topology_IsAlreadyExists");
        var otherParameters = Caps();
        otherParameters.Parameters.Remove("fsType"); // The Kubernetes metadata keys never define a volume.
        yield return new TestCaseData(otherParameters, "parameters").SetName("Differing_Parameters_IsAlreadyExists");
        var mount = Block();
        mount.VolumeCapabilities[0] = MountReadOnly();
        yield return new TestCaseData(mount, "capabilities").SetName("Differing_MountInsteadOfBlock_IsAlreadyExists");
        var otherSource = FromSnapshot();
        otherSource.VolumeContentSource = new VolumeContentSource { Volume = new() { VolumeId = VolumeCaps } };
        yield return new TestCaseData(otherSource, "content source").SetName("Differing_ContentSource_IsAlreadyExists");
        var otherSize = CloneOfCaps();
        otherSize.CapacityRange = new CapacityRange { RequiredBytes = 512L << 20 };
        yield return new TestCaseData(otherSize, "capacity").SetName("Differing_Capacity_IsAlreadyExists");
    }

    [TestCaseSource(nameof(DifferingRequests))]
    public void Retry_WithOtherArguments_IsStillAlreadyExists(CreateVolumeRequest request, string difference)
    {
        var error = Assert.ThrowsAsync<RpcException>(() => _driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", request));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(error.Status.Detail, Does.Contain(difference));
    }

    [Test]
    public void Migration_MovesTheSidecarsMetadataOutOfTheDefiningArguments_AndKeepsIt()
    {
        var caps = _driver.Driver.Journal.Get(Loopvol.Core.Ids.ObjectId.Parse(VolumeCaps, Loopvol.Core.Ids.ObjectKind.Volume, "id"))!;

        Assert.That(caps.Arguments.Parameters.Keys, Is.EqualTo(new[] { "fsType" }));
        Assert.That(_driver.Driver.Journal.KubernetesNamesOf(caps.Id),
            Is.EquivalentTo(new Dictionary<string, string> { ["csi.storage.k8s.io/pvc/name"] = "data-0" }));
    }

    [Test]
    public async Task Retry_SnapshotAndGroupSnapshot_GetTheirIds_OtherSourcesAreAlreadyExists()
    {
        var snapshot = await _driver.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snapshot-1", SourceVolumeId = VolumeCaps });
        var group = await _driver.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { VolumeCaps, VolumeBlock } });
        var otherSnapshot = Assert.ThrowsAsync<RpcException>(() => _driver.CallAsync<CreateSnapshotResponse>("Controller",
            "CreateSnapshot", new CreateSnapshotRequest { Name = "snapshot-1", SourceVolumeId = VolumeBlock }));
        var otherGroup = Assert.ThrowsAsync<RpcException>(() => _driver.CallAsync<CreateVolumeGroupSnapshotResponse>(
            "GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { VolumeCaps } }));

        Assert.That(snapshot.Snapshot.SnapshotId, Is.EqualTo(Snapshot));
        Assert.That(group.GroupSnapshot.GroupSnapshotId, Is.EqualTo(Group));
        Assert.That(group.GroupSnapshot.Snapshots.Select(s => s.SourceVolumeId), Is.EquivalentTo(new[] { VolumeCaps, VolumeBlock }));
        Assert.That(otherSnapshot!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(otherGroup!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(otherGroup.Status.Detail, Does.Contain("source volumes"));
    }

    [Test]
    public void Migration_StoresEveryRecordTyped_InTheVersionedForm()
    {
        var journal = _driver.Driver.Journal;
        var caps = journal.Get(ObjectId.Parse(VolumeCaps, ObjectKind.Volume, "t"))!;
        var group = journal.Get(ObjectId.Parse(Group, ObjectKind.Group, "t"))!;

        Assert.That(caps.Arguments.Capabilities!.Items.Select(c => c.AccessMode), Is.EqualTo(new[] { "SingleNodeReaderOnly", "SingleNodeWriter" }));
        Assert.That(caps.Arguments.Capabilities.Items[1].MountFlags, Is.EqualTo(new[] { "gid=1000", "noatime", "uid=1000" }));
        Assert.That(caps.Arguments.Accessibility!.Requisite.Single()["topology.loopvol.csi.dev/node"], Is.EqualTo("node-1"));
        Assert.That(journal.Get(ObjectId.Parse(Restored, ObjectKind.Volume, "t"))!.Arguments.ContentSource.ToString(), Is.EqualTo(Snapshot));
        Assert.That(group.Arguments.GroupSources!.Select(v => v.ToString()), Is.EqualTo(new[] { VolumeCaps, VolumeBlock }));
        Assert.That(group.Arguments.SourceVolume, Is.Null);
        Assert.That(journal.Verify(), Is.Empty);
        Assert.That(DefiningArgumentsJson.Serialize(caps.Arguments), Does.StartWith("{\"v\":1,"));
    }
}
