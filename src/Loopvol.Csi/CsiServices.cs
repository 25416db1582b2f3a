using Google.Protobuf.Reflection;
using Loopvol.Csi.V1;

namespace Loopvol.Csi;

/// <summary>The CSI services and their methods, looked up from the generated descriptors.</summary>
public static class CsiServices
{
    public static ServiceDescriptor Identity => Service("Identity");

    public static ServiceDescriptor Controller => Service("Controller");

    public static ServiceDescriptor GroupController => Service("GroupController");

    public static ServiceDescriptor Node => Service("Node");

    public static ServiceDescriptor SnapshotMetadata => Service("SnapshotMetadata");

    /// <summary>All services of the CSI spec, in the order the spec declares them.</summary>
    public static IReadOnlyList<ServiceDescriptor> All { get; } = [.. CsiReflection.Descriptor.Services];

    /// <summary>A method by service and name, e.g. <c>Method("Identity", "Probe")</c>; throws if there is none.</summary>
    public static MethodDescriptor Method(string service, string method) =>
        Service(service).FindMethodByName(method)
        ?? throw new ArgumentException($"csi.v1.{service} has no method {method}", nameof(method));

    private static ServiceDescriptor Service(string name) =>
        CsiReflection.Descriptor.FindTypeByName<ServiceDescriptor>(name)
        ?? throw new ArgumentException($"csi.v1 has no service {name}", nameof(name));
}
