using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Loopvol.Csi.Logging;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Csi;

public sealed class SecretRedactionTests
{
    private const string SecretValue = "hunter2-very-secret";

    /// <summary>Every CSI message with a field the spec marks csi_secret.</summary>
    private static IEnumerable<TestCaseData> MessagesWithSecrets() =>
        CsiReflection.Descriptor.MessageTypes
            .Where(m => m.Fields.InDeclarationOrder().Any(IsSecret))
            .Select(m => new TestCaseData(m.FullName).SetName($"Format_{m.Name}_WithholdsSecrets"));

    [Test]
    public void Spec_MarksNineteenSecretFields() =>
        Assert.That(CsiReflection.Descriptor.MessageTypes.SelectMany(m => m.Fields.InDeclarationOrder()).Count(IsSecret),
            Is.EqualTo(19));

    [TestCaseSource(nameof(MessagesWithSecrets))]
    public void Format_MessageWithSecrets_WithholdsEverySecretValue(string fullName)
    {
        var descriptor = CsiReflection.Descriptor.MessageTypes.Single(m => m.FullName == fullName);
        var message = (IMessage)Activator.CreateInstance(descriptor.ClrType)!;
        var secrets = 0;
        foreach (var field in descriptor.Fields.InDeclarationOrder().Where(IsSecret))
        {
            var map = (System.Collections.IDictionary)field.Accessor.GetValue(message);
            map["user"] = SecretValue;
            map["password"] = SecretValue;
            secrets += 2;
        }

        var text = new SecretRedactingFormatter().Format(message);

        Assert.That(text, Does.Not.Contain(SecretValue));
        Assert.That(text, Does.Contain($"({secrets} secret entries withheld)"));
    }

    [Test]
    public void Format_LeavesTheCallersMessageUntouched()
    {
        var request = new CreateVolumeRequest { Name = "pvc-1", Secrets = { ["token"] = SecretValue } };

        var text = new SecretRedactingFormatter().Format(request);

        Assert.That(text, Does.Contain("pvc-1"));
        Assert.That(request.Secrets["token"], Is.EqualTo(SecretValue));
    }

    [Test]
    public async Task DebugLog_OfACallCarryingSecrets_NeverHoldsTheSecret()
    {
        await using var driver = await InProcessDriver.StartAsync();

        // Refused (the ID is not one of ours), but the request is logged at Debug first.
        Assert.ThrowsAsync<RpcException>(() => driver.CallAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume",
            new NodeStageVolumeRequest { VolumeId = "vol-1", Secrets = { ["key"] = SecretValue } }));

        Assert.That(driver.Logs.AllText, Does.Contain("vol-1").And.Contain("1 secret entries withheld"));
        Assert.That(driver.Logs.AllText, Does.Not.Contain(SecretValue));
    }

    private static bool IsSecret(FieldDescriptor field) =>
        field.GetOptions()?.GetExtension(CsiExtensions.CsiSecret) == true;
}
