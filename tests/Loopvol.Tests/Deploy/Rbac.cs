using System.Text.Json;

namespace Loopvol.Tests.Deploy;

/// <summary>
/// What rendered RBAC objects let a service account do, as the API server's RBAC authorizer decides it: a
/// ClusterRoleBinding grants its ClusterRole everywhere, a RoleBinding grants its Role (or ClusterRole) in the
/// binding's namespace only. No wildcards: the manifests use none, and a rule with one does not match here.
/// </summary>
public sealed class Rbac(Rendered rendered)
{
    /// <summary>Whether <paramref name="account"/> in <paramref name="accountNamespace"/> may do <paramref name="verb"/>
    /// on <paramref name="resource"/> (<c>pods</c>, <c>persistentvolumeclaims/status</c>…) of <paramref name="group"/>
    /// ("" for the core group) in <paramref name="ns"/> (null: a cluster-scoped resource).</summary>
    public bool Allows(string account, string accountNamespace, string group, string resource, string verb, string? ns) =>
        RulesOf(account, accountNamespace, ns).Any(r =>
            Strings(r, "apiGroups").Contains(group) && Strings(r, "resources").Contains(resource) &&
            Strings(r, "verbs").Contains(verb));

    /// <summary>Every binding that names the account, of either kind.</summary>
    public IEnumerable<JsonElement> BindingsOf(string account, string accountNamespace) =>
        rendered.OfKind("RoleBinding").Concat(rendered.OfKind("ClusterRoleBinding")).Where(b =>
            b.GetProperty("subjects").EnumerateArray().Any(s => s.GetProperty("kind").GetString() == "ServiceAccount" &&
                s.GetProperty("name").GetString() == account && s.GetProperty("namespace").GetString() == accountNamespace));

    /// <summary>The service accounts any binding names, as (name, namespace).</summary>
    public IEnumerable<(string Name, string Namespace)> Accounts =>
        rendered.OfKind("RoleBinding").Concat(rendered.OfKind("ClusterRoleBinding"))
            .SelectMany(b => b.GetProperty("subjects").EnumerateArray())
            .Where(s => s.GetProperty("kind").GetString() == "ServiceAccount")
            .Select(s => (s.GetProperty("name").GetString()!, s.GetProperty("namespace").GetString()!))
            .Distinct();

    private IEnumerable<JsonElement> RulesOf(string account, string accountNamespace, string? ns) =>
        BindingsOf(account, accountNamespace)
            .Where(b => b.GetProperty("kind").GetString() == "ClusterRoleBinding" ||
                (ns is not null && b.GetProperty("metadata").GetProperty("namespace").GetString() == ns))
            .SelectMany(b =>
            {
                var role = b.GetProperty("roleRef");
                return rendered.Named(role.GetProperty("kind").GetString()!, role.GetProperty("name").GetString()!)
                    .GetProperty("rules").EnumerateArray();
            });

    private static HashSet<string> Strings(JsonElement rule, string property) =>
        rule.GetProperty(property).EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
}
