using System.Security.Cryptography.X509Certificates;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Deploy;

/// <summary>
/// The external-snapshot-metadata sidecar option (issue 17): the sidecar dials the controller's socket, the Service
/// reaches it, and the SnapshotMetadataService object tells backup clients that Service's address, an audience the
/// sidecar accepts, and a CA that vouches for the certificate the sidecar serves under that address.
/// </summary>
public sealed partial class DeploymentTests
{
    private const string MetadataValues = "snapshot-metadata-values.yaml";
    private const string MetadataExistingValues = "snapshot-metadata-existing-values.yaml";
    private const string MetadataKustomization = "deploy/kubernetes/snapshot-metadata";
    private const string MetadataScript = "deploy/kubernetes/snapshot-metadata/make-tls.sh";
    private const string Sidecar = "csi-snapshot-metadata";

    private static IEnumerable<TestCaseData> MetadataRenders()
    {
        yield return new TestCaseData("kustomize", null).SetArgDisplayNames("kustomize", "make-tls.sh");
        yield return new TestCaseData("helm", MetadataValues).SetArgDisplayNames("helm", MetadataValues);
        yield return new TestCaseData("helm", MetadataExistingValues).SetArgDisplayNames("helm", MetadataExistingValues);
    }

    /// <summary>The kustomization with what make-tls.sh prints for it, or the chart.</summary>
    private static async Task<Rendered> RenderMetadataAsync(string tool, string? values)
    {
        if (tool == "helm")
        {
            return await Rendered.HelmAsync(Values(values!));
        }
        var kustomize = await Rendered.KustomizeAsync(MetadataKustomization);
        var script = await Rendered.ParseAsync(await Processes.RunAsync("/bin/bash", [Path.Combine(Rendered.Root, MetadataScript)]));
        return new Rendered([.. kustomize.Objects, .. script.Objects]);
    }

    [TestCaseSource(nameof(MetadataRenders))]
    public async Task SnapshotMetadata_SidecarDialsTheController_AndTheServiceReachesIt(string tool, string? values)
    {
        var r = await RenderMetadataAsync(tool, values);
        var sidecar = r.Container("Deployment", Sidecar);
        var controller = r.Container("Deployment", "loopvol");
        var service = r.Named("Service", "loopvol-snapshot-metadata");
        var port = service.GetProperty("spec").GetProperty("ports").EnumerateArray().Single();
        var controllerPods = Rendered.Map(r.PodTemplateOf("Deployment").GetProperty("metadata"), "labels");

        Assert.Multiple(() =>
        {
            Assert.That("unix://" + Rendered.Arg(sidecar, "--csi-address"), Is.EqualTo(Rendered.Arg(controller, "--endpoint")));
            Assert.That(Mounts(sidecar).Single(m => m.Name == "socket-dir").Path,
                Is.EqualTo(Mounts(controller).Single(m => m.Name == "socket-dir").Path));
            Assert.That(sidecar.GetProperty("image").GetString(), Does.Match(Pinned().ToString())
                .And.StartWith("registry.k8s.io/sig-storage/csi-snapshot-metadata:"));
            Assert.That(Rendered.Args(sidecar), Has.None.StartsWith("--leader-election"), "every replica serves");

            // The Service: the controller's pods only, on the port the sidecar serves gRPC on.
            Assert.That(Rendered.Map(service.GetProperty("spec"), "selector"), Is.Not.Empty.And.SubsetOf(controllerPods)
                .And.Not.SubsetOf(r.PodLabels));
            Assert.That(Namespace(service), Is.EqualTo(Namespace(r.One("Deployment"))));
            Assert.That(Rendered.Port(sidecar, port.GetProperty("targetPort").GetString()!),
                Is.EqualTo(int.Parse(Rendered.Arg(sidecar, "--port")!)));

            // Readiness on the sidecar's own health endpoint; no port of the pod taken twice.
            var probe = sidecar.GetProperty("readinessProbe").GetProperty("httpGet");
            Assert.That(probe.GetProperty("path").GetString(), Is.EqualTo("/health"));
            Assert.That(Rendered.Port(sidecar, probe.GetProperty("port").GetString()!),
                Is.EqualTo(int.Parse(Rendered.Arg(sidecar, "--http-endpoint")!.Split(':')[^1])));
            var ports = r.ContainersOf("Deployment").SelectMany(Rendered.Ports).Select(p => p.Number).ToList();
            Assert.That(ports, Is.Unique);

            var security = sidecar.GetProperty("securityContext");
            Assert.That(security.GetProperty("allowPrivilegeEscalation").GetBoolean(), Is.False);
            Assert.That(security.GetProperty("readOnlyRootFilesystem").GetBoolean(), Is.True);
            Assert.That(r.ContainersOf("Deployment").First().GetProperty("name").GetString(), Is.EqualTo("loopvol"),
                "the controller stays the pod's first (default) container");
        });
    }

    [TestCaseSource(nameof(MetadataRenders))]
    public async Task SnapshotMetadataService_NamesTheService_ItsAudience_AndACaThatVouchesForIt(string tool, string? values)
    {
        var r = await RenderMetadataAsync(tool, values);
        var sidecar = r.Container("Deployment", Sidecar);
        var sms = r.One("SnapshotMetadataService");
        var spec = sms.GetProperty("spec");
        var service = r.Named("Service", "loopvol-snapshot-metadata");
        var servicePort = service.GetProperty("spec").GetProperty("ports").EnumerateArray().Single().GetProperty("port").GetInt32();
        var host = $"loopvol-snapshot-metadata.{Namespace(service)}";
        var files = new[] { "--tls-cert", "--tls-key" }.Select(f => Rendered.Arg(sidecar, f)!).ToList();
        var mount = Mounts(sidecar).Single(m => files.All(f => Path.GetDirectoryName(f) == m.Path));
        var secretName = r.Volume("Deployment", mount.Name).GetProperty("secret").GetProperty("secretName").GetString()!;

        Assert.Multiple(() =>
        {
            Assert.That(sms.GetProperty("apiVersion").GetString(), Is.EqualTo("cbt.storage.k8s.io/v1beta1"));
            Assert.That(sms.GetProperty("metadata").GetProperty("name").GetString(),
                Is.EqualTo(r.One("CSIDriver").GetProperty("metadata").GetProperty("name").GetString()), "clients look it up by driver");
            Assert.That(sms.GetProperty("metadata").TryGetProperty("namespace", out _), Is.False, "cluster-scoped");
            Assert.That(spec.GetProperty("address").GetString(), Is.EqualTo($"{host}:{servicePort}"));
            Assert.That(spec.GetProperty("audience").GetString(), Is.Not.Empty.And.EqualTo(Rendered.Arg(sidecar, "--audience")));
            Assert.That(ReadOnly(sidecar, mount.Name), Is.True);
            Assert.That(files.Select(Path.GetFileName), Is.EqualTo(new[] { "tls.crt", "tls.key" }));
            Assert.That(secretName, Is.Not.EqualTo(MountedSecret(r, "Deployment")), "not the controller's own key");
        });

        using var ca = X509Certificate2.CreateFromPem(Pem(spec.GetProperty("caCert").GetString()!));
        Assert.That(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority, Is.True);
        if (!r.OfKind("Secret").Any(s => s.GetProperty("metadata").GetProperty("name").GetString() == secretName))
        {
            return; // existingSecret: the chart copies caCert as given, and renders no Secret to check it against.
        }

        // The certificate a client sees when it dials the address, checked as a client checks it: against caCert only.
        var data = Rendered.Map(r.Named("Secret", secretName), "data");
        using var leaf = X509Certificate2.CreateFromPem(Pem(data["tls.crt"]), Pem(data["tls.key"]));
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new("1.3.6.1.5.5.7.3.1"));
        Assert.Multiple(() =>
        {
            Assert.That(chain.Build(leaf), Is.True, string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
            Assert.That(leaf.MatchesHostname(host, allowWildcards: false, allowCommonName: false), Is.True, host);
            Assert.That(leaf.HasPrivateKey, Is.True);
            Assert.That(Pem(data["ca.crt"]), Is.EqualTo(Pem(spec.GetProperty("caCert").GetString()!)));
            Assert.That(leaf.NotAfter, Is.GreaterThan(DateTime.Now.AddDays(365)));
        });

        // Its own CA: a client that trusts the sidecar trusts no agent, and the agents trust no sidecar.
        if (r.OfKind("Secret").Any(s => s.GetProperty("metadata").GetProperty("name").GetString() == MountedSecret(r, "DaemonSet")))
        {
            var agentCa = Rendered.Map(r.Named("Secret", MountedSecret(r, "DaemonSet")), "data")["ca.crt"];
            Assert.That(Pem(agentCa), Is.Not.EqualTo(Pem(data["ca.crt"])));
        }
    }

    [TestCaseSource(nameof(MetadataRenders))]
    public async Task SnapshotMetadata_Rbac_LetsTheSidecarReviewTokensAndAccess_AndReadSnapshots(string tool, string? values)
    {
        var r = await RenderMetadataAsync(tool, values);
        var rbac = new Rbac(r);
        var ns = Namespace(r.One("Deployment"))!;
        var account = r.PodTemplateOf("Deployment").GetProperty("spec").GetProperty("serviceAccountName").GetString()!;

        Assert.Multiple(() =>
        {
            Assert.That(rbac.Allows(account, ns, "authentication.k8s.io", "tokenreviews", "create", null), Is.True);
            Assert.That(rbac.Allows(account, ns, "authorization.k8s.io", "subjectaccessreviews", "create", null), Is.True);
            // A backup client's VolumeSnapshots are in its application's namespace, never loopvol's.
            Assert.That(rbac.Allows(account, ns, "snapshot.storage.k8s.io", "volumesnapshots", "get", "some-app"), Is.True);
            Assert.That(rbac.Allows(account, ns, "snapshot.storage.k8s.io", "volumesnapshotcontents", "get", null), Is.True);
            Assert.That(rbac.Allows(account, ns, "snapshot.storage.k8s.io", "volumesnapshotclasses", "list", null), Is.True);
            // v1.1.0 reads the audience from the object on every call, whatever --audience says (a k8s-lab run
            // without this rule: every call Internal, "cannot get resource snapshotmetadataservices").
            Assert.That(rbac.Allows(account, ns, "cbt.storage.k8s.io", "snapshotmetadataservices", "get", null), Is.True);
            Assert.That(rbac.Allows(account, ns, "", "secrets", "get", "some-app"), Is.False, "loopvol's classes carry no secret");
            Assert.That(rbac.BindingsOf(r.PodTemplate.GetProperty("spec").GetProperty("serviceAccountName").GetString()!, ns),
                Is.Empty, "the node pods' account is still bound to nothing");
        });
    }

    [TestCaseSource(nameof(MetadataRenders))]
    public async Task SnapshotMetadataClientRole_BoundToABackupTool_GivesWhatAClientReads_AndNoTokens(string tool, string? values)
    {
        var rendered = await RenderMetadataAsync(tool, values);
        var binding = await Rendered.ParseAsync("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: { name: backup }
            subjects: [{ kind: ServiceAccount, name: backup, namespace: backup-tool }]
            roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: loopvol-snapshot-metadata-client }
            """);
        var rbac = new Rbac(new Rendered([.. rendered.Objects, .. binding.Objects]));

        Assert.Multiple(() =>
        {
            // The sidecar's SubjectAccessReview of the client, then the iterator's own reads: the snapshot, its
            // content, and the driver's SnapshotMetadataService.
            Assert.That(rbac.Allows("backup", "backup-tool", "snapshot.storage.k8s.io", "volumesnapshots", "get", "some-app"), Is.True);
            Assert.That(rbac.Allows("backup", "backup-tool", "snapshot.storage.k8s.io", "volumesnapshotcontents", "get", null), Is.True);
            Assert.That(rbac.Allows("backup", "backup-tool", "cbt.storage.k8s.io", "snapshotmetadataservices", "get", null), Is.True);
            // A token for any service account anywhere would make the tool every account: its own token comes from
            // a projected volume, or a Role of its own naming only its account.
            Assert.That(rbac.Allows("backup", "backup-tool", "", "serviceaccounts/token", "create", "loopvol"), Is.False);
            Assert.That(rbac.Allows("backup", "backup-tool", "snapshot.storage.k8s.io", "volumesnapshots", "delete", "some-app"), Is.False,
                "reading only");
            Assert.That(rbac.BindingsOf("backup", "backup-tool").Count(), Is.EqualTo(1), "the chart binds it to nobody");
        });
    }

    [Test]
    public async Task ChartAndKustomization_RenderTheSameSnapshotMetadataObjects()
    {
        var kustomize = await RenderMetadataAsync("kustomize", null);
        var helm = await Rendered.HelmAsync(Values(MetadataExistingValues));
        var central = await Rendered.KustomizeAsync(CentralKustomization);

        // The chart with every Secret given renders what the kustomization does, and make-tls.sh adds the two objects
        // that carry the certificates.
        var fromScript = new[] { "Secret/loopvol-snapshot-metadata-tls", $"SnapshotMetadataService/{DriverName(kustomize)}" };
        Assert.That(Keys(helm), Is.EquivalentTo(Keys(kustomize).Where(k => !k.StartsWith("Namespace/", StringComparison.Ordinal))
            .Except(["Secret/loopvol-snapshot-metadata-tls"])));
        Assert.That(Keys(kustomize).Except(Keys(central)), Is.EquivalentTo(new[]
        {
            "Service/loopvol-snapshot-metadata", "ClusterRole/loopvol-snapshot-metadata",
            "ClusterRoleBinding/loopvol-snapshot-metadata", "ClusterRole/loopvol-snapshot-metadata-client",
        }.Concat(fromScript)));
        Assert.That(helm.ContainersOf("Deployment").Select(Describe), Is.EqualTo(kustomize.ContainersOf("Deployment").Select(Describe)));
        Assert.That(helm.ContainersOf("Deployment").Select(c => string.Join(',', Rendered.Ports(c))),
            Is.EqualTo(kustomize.ContainersOf("Deployment").Select(c => string.Join(',', Rendered.Ports(c)))));
        Assert.That(Pod(helm, "Deployment"), Is.EqualTo(Pod(kustomize, "Deployment")));
        Assert.That(Rendered.Canonical(helm.Named("Service", "loopvol-snapshot-metadata").GetProperty("spec")),
            Is.EqualTo(Rendered.Canonical(kustomize.Named("Service", "loopvol-snapshot-metadata").GetProperty("spec"))));
        foreach (var role in new[] { "loopvol-snapshot-metadata", "loopvol-snapshot-metadata-client" })
        {
            Assert.That(Normalize(helm.Named("ClusterRole", role)), Is.EqualTo(Normalize(kustomize.Named("ClusterRole", role))), role);
        }
        var (chartSms, scriptSms) = (helm.One("SnapshotMetadataService").GetProperty("spec"), kustomize.One("SnapshotMetadataService").GetProperty("spec"));
        Assert.That(chartSms.GetProperty("address").GetString(), Is.EqualTo(scriptSms.GetProperty("address").GetString()));
        Assert.That(chartSms.GetProperty("audience").GetString(), Is.EqualTo(scriptSms.GetProperty("audience").GetString()));
    }

    [Test]
    public async Task CentralWithoutTheOption_RendersNoSnapshotMetadataObject()
    {
        var r = await Rendered.HelmAsync(Values(CentralValues));

        Assert.That(r.ContainersOf("Deployment").Select(Name), Has.None.EqualTo(Sidecar));
        Assert.That(Keys(r), Has.None.Contains("snapshot-metadata").And.None.StartsWith("SnapshotMetadataService/"));
    }

    [TestCase("snapshotMetadata.enabled=true", "deployment.mode=central")]
    [TestCase("deployment.mode=central,snapshotMetadata.enabled=true,snapshotMetadata.tls.existingSecret=mine", "snapshotMetadata.tls.caCert")]
    [TestCase("deployment.mode=central,snapshotMetadata.enabled=true,snapshotMetadata.tls.caCert=not base64!", "/snapshotMetadata/tls/caCert")]
    [TestCase("deployment.mode=central,snapshotMetadata.enabled=true,snapshotMetadata.port=0", "/snapshotMetadata/port")]
    [TestCase("deployment.mode=central,snapshotMetadata.enabled=true,sidecars.snapshotMetadata.image=csi-snapshot-metadata:latest", "/sidecars/snapshotMetadata/image")]
    public async Task SnapshotMetadataValuesThatCannotWork_AreRefused(string set, string named)
    {
        var (exit, text) = await Processes.RunExpectingFailureAsync(Rendered.Helm,
            ["template", "loopvol", Path.Combine(Rendered.Root, "charts", "loopvol"), "--set", set]);

        Assert.That(exit, Is.Not.Zero);
        Assert.That(text, Does.Contain(named));
    }

    private static string DriverName(Rendered r) => r.One("CSIDriver").GetProperty("metadata").GetProperty("name").GetString()!;

    private static string Pem(string base64) => System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(base64)).Trim();
}
