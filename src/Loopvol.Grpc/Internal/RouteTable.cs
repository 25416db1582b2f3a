using System.Collections.Frozen;

namespace Loopvol.Grpc.Internal;

/// <summary>The frozen routes: handled methods, and every method path the services declare.</summary>
internal sealed class RouteTable(FrozenDictionary<string, MethodRoute> handled, FrozenSet<string> declared)
{
    public MethodRoute? Find(string path) => handled.GetValueOrDefault(path);

    public bool IsDeclared(string path) => declared.Contains(path);
}
