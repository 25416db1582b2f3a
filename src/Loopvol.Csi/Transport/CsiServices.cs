using System.Diagnostics.CodeAnalysis;
using Loopvol.Csi.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Loopvol.Csi.Transport;

/// <summary>
/// The CSI services one server offers. Identity is always there; a service left out answers every method
/// UNIMPLEMENTED, as does every method a service does not implement.
/// </summary>
public sealed record CsiServices(IdentityService Identity)
{
    public ControllerService? Controller { get; init; }

    public NodeService? Node { get; init; }

    public GroupControllerService? GroupController { get; init; }

    /// <summary>Served wherever the Controller of this node's pool is.</summary>
    public SnapshotMetadataService? SnapshotMetadata { get; init; }

    /// <summary>A node agent's own service (docs/cluster.md), on an agent endpoint only.</summary>
    public AgentService? Agent { get; init; }

    /// <summary>Services implemented elsewhere, e.g. the central controller's routing ones (docs/cluster.md).</summary>
    public IReadOnlyList<GrpcService> Others { get; init; } = [];
}

/// <summary>One gRPC service implementation a <see cref="CsiServer"/> registers and maps by its own type.</summary>
public sealed class GrpcService
{
    /// <summary>What Grpc.AspNetCore needs kept of a service type (its MapGrpcService annotation).</summary>
    private const DynamicallyAccessedMemberTypes ServiceAccessibility = DynamicallyAccessedMemberTypes.PublicConstructors |
        DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods;

    private GrpcService(ServiceDescriptor descriptor, Action<IServiceCollection> add, Action<IEndpointRouteBuilder> map)
    {
        Descriptor = descriptor;
        Add = add;
        Map = map;
    }

    /// <summary>The service as reflection lists it.</summary>
    public ServiceDescriptor Descriptor { get; }

    internal Action<IServiceCollection> Add { get; }

    internal Action<IEndpointRouteBuilder> Map { get; }

    /// <summary><paramref name="service"/>, which implements the gRPC service <paramref name="descriptor"/>.</summary>
    public static GrpcService Of<[DynamicallyAccessedMembers(ServiceAccessibility)] T>(
        T service, ServiceDescriptor descriptor) where T : class =>
        new(descriptor, di => di.AddSingleton(service), app => app.MapGrpcService<T>());
}
