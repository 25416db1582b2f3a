using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Loopvol.Core.Ids;

namespace Loopvol.Cluster.Discovery;

/// <summary>A pod that should give an agent but cannot, and why (a deployment mistake, logged once per pod).</summary>
internal sealed record PodMisfit(string Pod, string Problem);

/// <summary>
/// Which agents the node DaemonSet's pods give (docs/cluster.md, "Discovery"). A pod gives one when it is Running,
/// has a pod IP and a node, and is not being deleted: <c>https://POD-IP:PORT</c> for its node, PORT being its
/// container port named <c>agent</c>. Two such pods on one node (a rolling update): the Ready one, then the newest.
/// </summary>
internal static class AgentPods
{
    /// <summary>One agent per node, by node ID (ordinal), and the pods that would serve but cannot say where.</summary>
    public static (IReadOnlyList<AgentAddress> Agents, IReadOnlyList<PodMisfit> Misfits) Select(IEnumerable<V1Pod> pods,
        string portName)
    {
        var chosen = new Dictionary<string, (V1Pod Pod, AgentAddress Agent)>(StringComparer.Ordinal);
        var misfits = new List<PodMisfit>();
        foreach (var pod in pods)
        {
            if (!Serves(pod))
            {
                continue; // Not yet, or no longer, an agent: nothing is wrong with it.
            }
            var node = pod.Spec.NodeName;
            if (!NodeIds.IsValid(node))
            {
                misfits.Add(new PodMisfit(NameOf(pod), $"its node name '{node}' is no valid node ID (1 to 63 letters, " +
                                                       "digits, '-', '_' or '.')"));
                continue;
            }
            if (PodIp(pod.Status.PodIP) is not { } ip)
            {
                misfits.Add(new PodMisfit(NameOf(pod), $"its pod IP '{pod.Status.PodIP}' is no IP address"));
                continue;
            }
            if (PortOf(pod, portName) is not { } port)
            {
                misfits.Add(new PodMisfit(NameOf(pod), $"it has no container port named '{portName}' (1 to 65535)"));
                continue;
            }
            if (!chosen.TryGetValue(node, out var held) || Preferred(pod, held.Pod))
            {
                chosen[node] = (pod, new AgentAddress(node, Url(ip, port)));
            }
        }
        return ([.. chosen.Values.Select(c => c.Agent).OrderBy(a => a.NodeId, StringComparer.Ordinal)], misfits);
    }

    /// <summary><c>https://IP:PORT</c>, an IPv6 address in brackets.</summary>
    public static Uri Url(IPAddress ip, int port) =>
        new(ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"https://[{ip}]:{port}" : $"https://{ip}:{port}");

    /// <summary>The pod's namespace/name, for logs.</summary>
    public static string NameOf(V1Pod pod) => $"{pod.Metadata?.NamespaceProperty}/{pod.Metadata?.Name}";

    private static bool Serves(V1Pod pod) =>
        pod.Metadata is { DeletionTimestamp: null } &&
        pod.Status is { Phase: "Running", PodIP.Length: > 0 } &&
        pod.Spec is { NodeName.Length: > 0 };

    /// <summary>
    /// The pod IP when it is a plain address: IPv4 as four decimal numbers (not <c>10.244.2</c>, which .NET would read
    /// as 10.244.0.2), IPv6 without brackets or a zone.
    /// </summary>
    private static IPAddress? PodIp(string text) =>
        IPAddress.TryParse(text, out var ip) &&
        (ip.AddressFamily == AddressFamily.InterNetworkV6 ? !text.Contains('%') && !text.Contains('[') : ip.ToString() == text)
            ? ip
            : null;

    private static int? PortOf(V1Pod pod, string portName) =>
        (pod.Spec.Containers ?? [])
        .SelectMany(c => c.Ports ?? [])
        .Where(p => p.Name == portName && p.ContainerPort is > 0 and <= 65535)
        .Select(p => (int?)p.ContainerPort)
        .FirstOrDefault();

    private static bool IsReady(V1Pod pod) =>
        pod.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>Whether <paramref name="pod"/> serves its node rather than <paramref name="held"/>: Ready first, then newest.</summary>
    private static bool Preferred(V1Pod pod, V1Pod held)
    {
        if (IsReady(pod) != IsReady(held))
        {
            return IsReady(pod);
        }
        var created = Nullable.Compare(pod.Metadata.CreationTimestamp, held.Metadata.CreationTimestamp);
        return created != 0
            ? created > 0
            : string.CompareOrdinal(pod.Metadata.Name, held.Metadata.Name) > 0; // Same second: any fixed choice.
    }
}
