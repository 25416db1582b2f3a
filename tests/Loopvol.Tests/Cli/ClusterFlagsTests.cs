using Loopvol.Cli;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Hosting;

namespace Loopvol.Tests.Cli;

/// <summary>The cluster roles' flags: each mode takes its own, needs what it cannot run without, and names the flag.</summary>
public sealed class ClusterFlagsTests
{
    private static readonly string[] Tls = ["--tls-cert", "/pki/c.crt", "--tls-key", "/pki/c.key", "--tls-ca", "/pki/ca.crt"];

    [TestCase(new[] { "--mode", "cluster" }, "--mode")]
    [TestCase(new[] { "--mode", "node", "--tls-cert", "/a", "--tls-key", "/b", "--tls-ca", "/c" }, "--agent-endpoint")]
    [TestCase(new[] { "--mode", "node", "--agent-endpoint", "unix:///x.sock", "--tls-cert", "/a", "--tls-key", "/b", "--tls-ca", "/c" }, "--agent-endpoint")]
    [TestCase(new[] { "--mode", "node", "--agent-endpoint", "tcp://0.0.0.0:9810" }, "--tls-cert")]
    [TestCase(new[] { "--mode", "node", "--agent-endpoint", "tcp://0.0.0.0:9810", "--tls-cert", "/a", "--tls-key", "/b" }, "--tls-ca")]
    [TestCase(new[] { "--mode", "controller", "--tls-cert", "/a", "--tls-key", "/b", "--tls-ca", "/c" }, "--agents-file or --agents-selector")]
    [TestCase(new[] { "--mode", "controller", "--agents-file", "/a", "--agents-selector", "x=y", "--tls-cert", "/a", "--tls-key", "/b", "--tls-ca", "/c" }, "give one")]
    [TestCase(new[] { "--mode", "controller", "--agents-file", "/a", "--agents-namespace", "kube-system", "--tls-cert", "/a", "--tls-key", "/b", "--tls-ca", "/c" }, "--agents-namespace goes with --agents-selector")]
    [TestCase(new[] { "--agents-file", "/a" }, "--agents-file is for --mode controller only")]
    [TestCase(new[] { "--agent-endpoint", "tcp://0.0.0.0:9810" }, "--agent-endpoint is for --mode node only")]
    [TestCase(new[] { "--tls-cert", "/a" }, "--tls-cert is for --mode node or controller")]
    [TestCase(new[] { "--mode", "node", "--default-node", "node-a" }, "--default-node is for --mode controller only")]
    [TestCase(new[] { "--mode", "controller", "--agents-file", "relative", "--tls-cert", "/a", "--tls-key", "/b", "--tls-ca", "/c" }, "--agents-file")]
    [TestCase(new[] { "--mode", "controller", "--agents-selector", "a=b", "--agents-namespace", "Bad_NS", "--tls-cert", "/a", "--tls-key", "/b", "--tls-ca", "/c" }, "--agents-namespace")]
    [TestCase(new[] { "--mode", "controller", "--agents-file", "/a", "--tls-server-name", "not a name", "--tls-cert", "/a", "--tls-key", "/b", "--tls-ca", "/c" }, "--tls-server-name")]
    public async Task UsageError_ExitsTwo_AndNamesTheFlag(string[] args, string message)
    {
        using var error = new StringWriter();
        var ran = false;

        var exit = await LoopvolCommand.RunAsync(args, TextWriter.Null, error, _ =>
        {
            ran = true;
            return Task.FromResult(0);
        });

        Assert.That(exit, Is.EqualTo(2), error.ToString());
        Assert.That(error.ToString(), Does.Contain(message));
        Assert.That(ran, Is.False);
    }

    [Test]
    public async Task NodeAndControllerFlags_ReachTheSettings_AllIsTheDefault()
    {
        var all = await ParseAsync();
        var node = await ParseAsync(["--mode", "node", "--agent-endpoint", "tcp://0.0.0.0:9810", .. Tls]);
        var fromFile = await ParseAsync(["--mode", "controller", "--agents-file", "/etc/loopvol/agents", "--default-node", "node-a",
            "--tls-server-name", "loopvol-agent", .. Tls]);
        var fromApi = await ParseAsync(["--mode", "controller", "--agents-selector", "app.kubernetes.io/component=node",
            "--agents-namespace", "loopvol", "--kubeconfig", "/root/.kube/config", .. Tls]);

        Assert.That((all.Mode, all.AgentEndpoint, all.Tls, all.AgentsFile), Is.EqualTo((DriverMode.All, (GrpcEndpoint?)null, (TlsFiles?)null, (string?)null)));
        Assert.That(node.Mode, Is.EqualTo(DriverMode.Node));
        Assert.That(node.AgentEndpoint, Is.EqualTo(GrpcEndpoint.Tcp("0.0.0.0", 9810)));
        Assert.That(node.Tls, Is.EqualTo(new TlsFiles("/pki/c.crt", "/pki/c.key", "/pki/ca.crt")));
        Assert.That((fromFile.Mode, fromFile.AgentsFile, fromFile.DefaultNode, fromFile.TlsServerName),
            Is.EqualTo((DriverMode.Controller, "/etc/loopvol/agents", "node-a", "loopvol-agent")));
        Assert.That(fromFile.AgentsFromKubernetes, Is.Null);
        Assert.That(fromApi.AgentsFromKubernetes!.LabelSelector, Is.EqualTo("app.kubernetes.io/component=node"));
        Assert.That(fromApi.AgentsFromKubernetes.Namespace, Is.EqualTo("loopvol"));
        Assert.That(fromApi.AgentsFromKubernetes.KubeconfigPath, Is.EqualTo("/root/.kube/config"));
    }

    private static async Task<DriverSettings> ParseAsync(params string[] args)
    {
        DriverSettings? seen = null;
        var exit = await LoopvolCommand.RunAsync(args, TextWriter.Null, TextWriter.Null, s =>
        {
            seen = s;
            return Task.FromResult(0);
        });
        Assert.That(exit, Is.Zero);
        return seen!;
    }
}
