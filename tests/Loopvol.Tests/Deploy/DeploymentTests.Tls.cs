using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Deploy;

/// <summary>
/// The central mode's TLS material: the files the flags name are where the Secrets are mounted, and the certificates
/// the chart generates (or the kustomize path makes) pass the driver's own loading and the checks each side makes
/// of the other: one CA, the agents' DNS name the controller expects, and the key usages.
/// </summary>
public sealed partial class DeploymentTests
{
    private const string ScriptPath = "deploy/kubernetes/central/make-tls-secrets.sh";

    [TestCaseSource(nameof(CentralRenders))]
    public async Task Central_TlsFiles_AreMountedWhereTheFlagsPointThem(string tool, string? values)
    {
        var r = await RenderCentralAsync(tool, values);

        Assert.Multiple(() =>
        {
            var secrets = new[] { ("DaemonSet", "agent"), ("Deployment", "controller") }.Select(side =>
            {
                var (kind, role) = side;
                var container = r.Container(kind, "loopvol");
                var files = new[] { "--tls-cert", "--tls-key", "--tls-ca" }.Select(f => Rendered.Arg(container, f)!).ToList();
                var mount = Mounts(container).Single(m => files.All(f => Path.GetDirectoryName(f) == m.Path));
                var volume = r.Volume(kind, mount.Name).GetProperty("secret");
                var secret = volume.GetProperty("secretName").GetString()!;

                Assert.That(files.Select(Path.GetFileName), Is.EqualTo(new[] { "tls.crt", "tls.key", "ca.crt" }), role);
                Assert.That(ReadOnly(container, mount.Name), Is.True, role);
                Assert.That(volume.TryGetProperty("items", out _), Is.False, $"{role}: every file of the Secret");
                if (r.OfKind("Secret").Any())
                {
                    Assert.That(Rendered.Map(r.Named("Secret", secret), "data").Keys, Is.SupersetOf(files.Select(Path.GetFileName)), role);
                }
                return secret;
            }).ToList();
            Assert.That(secrets.Distinct().Count(), Is.EqualTo(2), "each side mounts its own key only");
        });
    }

    [TestCase(CentralValues, 3650)]
    [TestCase(CentralCustomValues, 30)]
    public async Task GeneratedCertificates_ChainToOneCa_AndNameTheServerName(string values, int days)
    {
        var r = await Rendered.HelmAsync(Values(values));
        var serverName = Rendered.Arg(r.Container("Deployment", "loopvol"), "--tls-server-name")!;
        using var dir = new TempDirectory();
        using var agent = await LoadAsync(dir, r.Named("Secret", MountedSecret(r, "DaemonSet")), "agent");
        using var controller = await LoadAsync(dir, r.Named("Secret", MountedSecret(r, "Deployment")), "controller");

        AssertMutualTls(agent, controller, serverName);
        Assert.That(agent.Certificate.NotAfter, Is.EqualTo(DateTime.Now.AddDays(days)).Within(TimeSpan.FromDays(1)));
        Assert.That(Checksum(r, "DaemonSet"), Is.Not.Null.And.EqualTo(Checksum(r, "Deployment")),
            "both sides restart together when the generated certificates change");
    }

    [Test]
    public async Task MakeTlsSecretsScript_MakesWhatTheDriverAccepts()
    {
        var kustomize = await Rendered.KustomizeAsync(CentralKustomization);
        var output = await Processes.RunAsync("/usr/bin/env", ["SERVER_NAME=agents.example.org", "/bin/bash",
            Path.Combine(Rendered.Root, ScriptPath)]);
        var r = await Rendered.ParseAsync(output);
        using var dir = new TempDirectory();
        using var agent = await LoadAsync(dir, r.Named("Secret", MountedSecret(kustomize, "DaemonSet")), "agent");
        using var controller = await LoadAsync(dir, r.Named("Secret", MountedSecret(kustomize, "Deployment")), "controller");

        AssertMutualTls(agent, controller, "agents.example.org");
        Assert.That(Chains(controller.Certificate, agent, TlsMaterial.ServerAuthentication), Is.False, "the controller only dials");
        Assert.That(r.OfKind("Secret").Select(Namespace), Is.All.EqualTo(Namespace(kustomize.One("Deployment"))));
    }

    [Test]
    public async Task CertManagerExample_IssuesTheSecretsTheCentralKustomizationMounts()
    {
        var central = await Rendered.KustomizeAsync(CentralKustomization);
        var r = await Rendered.KustomizeAsync(CentralKustomization + "/cert-manager");
        var serverName = Rendered.Arg(central.Container("Deployment", "loopvol"), "--tls-server-name");
        var agent = Certificate(r, MountedSecret(central, "DaemonSet"));
        var controller = Certificate(r, MountedSecret(central, "Deployment"));
        var ca = r.Named("Certificate", r.Named("Issuer", Issuer(agent)).GetProperty("spec").GetProperty("ca")
            .GetProperty("secretName").GetString()!);

        Assert.Multiple(() =>
        {
            Assert.That(Strings(agent, "dnsNames"), Does.Contain(serverName));
            Assert.That(Strings(agent, "usages"), Is.SupersetOf(new[] { "server auth", "client auth" }));
            Assert.That(Strings(controller, "usages"), Does.Contain("client auth"));
            Assert.That(Strings(controller, "usages"), Does.Not.Contain("server auth"), "the controller only dials");
            Assert.That(Issuer(controller), Is.EqualTo(Issuer(agent)), "one CA");
            Assert.That(ca.GetProperty("spec").GetProperty("isCA").GetBoolean(), Is.True);
            Assert.That(r.Objects.Select(Namespace), Is.All.EqualTo(Namespace(central.One("Deployment"))));
        });
    }

    // What the controller checks of an agent, and an agent of the controller (Transport/Tls: PeerCertificate with
    // TlsMaterial.ChainPolicy), and the key usages and names behind them.
    private static void AssertMutualTls(TlsMaterial agent, TlsMaterial controller, string serverName)
    {
        Assert.Multiple(() =>
        {
            Assert.That(Chains(agent.Certificate, controller, TlsMaterial.ServerAuthentication), Is.True);
            Assert.That(Dns(agent.Certificate), Does.Contain(serverName));
            Assert.That(agent.Certificate.MatchesHostname(serverName, allowWildcards: false, allowCommonName: false), Is.True);
            Assert.That(Chains(controller.Certificate, agent, TlsMaterial.ClientAuthentication), Is.True);
            Assert.That(Chains(agent.Certificate, agent, TlsMaterial.ClientAuthentication), Is.True, "agents may dial too");
            Assert.That(Usages(agent.Certificate), Is.SupersetOf(new[] { TlsMaterial.ServerAuthentication.Value, TlsMaterial.ClientAuthentication.Value }));
            Assert.That(Usages(controller.Certificate), Does.Contain(TlsMaterial.ClientAuthentication.Value));
            Assert.That(agent.TrustAnchors.Select(c => c.Thumbprint), Is.EqualTo(controller.TrustAnchors.Select(c => c.Thumbprint)));
            Assert.That(agent.TrustAnchors, Has.Count.EqualTo(1));
        });
    }

    private static bool Chains(X509Certificate2 leaf, TlsMaterial trusting, Oid usage)
    {
        using var chain = new X509Chain { ChainPolicy = trusting.ChainPolicy(usage) };
        return chain.Build(leaf);
    }

    /// <summary>The Secret's three files written out and loaded as the driver loads --tls-cert, --tls-key and --tls-ca.</summary>
    private static async Task<TlsMaterial> LoadAsync(TempDirectory dir, JsonElement secret, string role)
    {
        var data = Rendered.Map(secret, "data");
        var files = new TlsFiles(dir.Combine($"{role}.crt"), dir.Combine($"{role}.key"), dir.Combine($"{role}-ca.crt"));
        foreach (var (key, path) in new[] { ("tls.crt", files.CertificateFile), ("tls.key", files.KeyFile), ("ca.crt", files.CaFile) })
        {
            await File.WriteAllBytesAsync(path, Convert.FromBase64String(data[key]));
        }
        return files.Load();
    }

    private static string MountedSecret(Rendered r, string kind) =>
        r.Volume(kind, "tls").GetProperty("secret").GetProperty("secretName").GetString()!;

    private static string? Checksum(Rendered r, string kind) =>
        Rendered.Map(r.PodTemplateOf(kind).GetProperty("metadata"), "annotations").GetValueOrDefault("checksum/tls");

    private static bool ReadOnly(JsonElement container, string volume) => container.GetProperty("volumeMounts")
        .EnumerateArray().Single(m => m.GetProperty("name").GetString() == volume)
        .TryGetProperty("readOnly", out var readOnly) && readOnly.GetBoolean();

    private static JsonElement Certificate(Rendered r, string secretName) => r.OfKind("Certificate")
        .Single(c => c.GetProperty("spec").GetProperty("secretName").GetString() == secretName);

    private static string Issuer(JsonElement certificate) =>
        certificate.GetProperty("spec").GetProperty("issuerRef").GetProperty("name").GetString()!;

    private static IEnumerable<string?> Strings(JsonElement certificate, string property) =>
        certificate.GetProperty("spec").GetProperty(property).EnumerateArray().Select(e => e.GetString());

    private static IEnumerable<string> Dns(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames());

    private static IEnumerable<string?> Usages(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<Oid>())
            .Select(o => o.Value);
}
