using Loopvol.Bench.Tls;
using System.Security.Cryptography;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Transport;

/// <summary>Loading <c>--tls-cert</c>, <c>--tls-key</c> and <c>--tls-ca</c>: what loads, and each refusal naming its file.</summary>
public sealed class TlsFilesTests
{
    private static TestCa _ca = null!;
    private static TestCa _otherCa = null!;
    private TempDirectory _dir = null!;

    [OneTimeSetUp]
    public void MakeCas()
    {
        _ca = TestCa.CreateRoot("loopvol test CA");
        _otherCa = TestCa.CreateRoot("unrelated CA");
    }

    [SetUp]
    public void MakeDirectory() => _dir = new TempDirectory();

    [TearDown]
    public void RemoveDirectory() => _dir.Dispose();

    [TestCase(KeyKind.Rsa)]
    [TestCase(KeyKind.RsaPkcs1)]
    [TestCase(KeyKind.Ecdsa)]
    [TestCase(KeyKind.EcdsaSec1)]
    public void EachKeyKind_Loads_WithItsKeyAndTheBundle(KeyKind kind)
    {
        var files = _ca.Write(_dir.Path, "agent", _ca.Server(["10.0.0.7"], kind), _ca);

        using var tls = files.Load();

        Assert.That(tls.Certificate.HasPrivateKey, Is.True);
        Assert.That(tls.Certificate.Subject, Is.EqualTo("CN=loopvol agent"));
        Assert.That(tls.Intermediates, Is.Empty);
        Assert.That(tls.TrustAnchors.Select(a => a.Subject), Is.EqualTo(new[] { "CN=loopvol test CA" }));
    }

    [Test]
    public void CertificateFileWithItsChain_AndBundleOfTwoCas_Load()
    {
        var intermediate = _ca.CreateIntermediate("loopvol intermediate");
        var files = intermediate.Write(_dir.Path, "agent", intermediate.Server(["10.0.0.7"]), _ca, _otherCa);

        using var tls = files.Load();

        Assert.That(tls.Certificate.Subject, Is.EqualTo("CN=loopvol agent"));
        Assert.That(tls.Intermediates.Select(c => c.Subject), Is.EqualTo(new[] { "CN=loopvol intermediate" }));
        Assert.That(tls.TrustAnchors.Select(a => a.Subject), Is.EqualTo(new[] { "CN=loopvol test CA", "CN=unrelated CA" }));
    }

    [Test]
    public void OneFileHoldingCertificateAndKey_LoadsAsBoth()
    {
        var files = _ca.Write(_dir.Path, "agent", _ca.Server(["10.0.0.7"]), _ca);
        var both = Path.Combine(_dir.Path, "agent.pem");
        File.WriteAllText(both, File.ReadAllText(files.CertificateFile) + File.ReadAllText(files.KeyFile));

        using var tls = (files with { CertificateFile = both, KeyFile = both }).Load();

        Assert.That(tls.Certificate.HasPrivateKey, Is.True);
    }

    [Test]
    public void ExpiredCaBesideAValidOne_Loads()
    {
        var retired = TestCa.CreateRoot("retired CA", DateTimeOffset.UtcNow.AddDays(-30), TimeSpan.FromDays(20));
        var files = _ca.Write(_dir.Path, "agent", _ca.Server(["10.0.0.7"]), retired, _ca);

        using var tls = files.Load();

        Assert.That(tls.TrustAnchors, Has.Count.EqualTo(2));
    }

    [TestCaseSource(nameof(Refusals))]
    public void Refusal_NamesTheFileAndWhatIsWrong(Refusal refusal)
    {
        var good = _ca.Write(_dir.Path, "agent", _ca.Server(["10.0.0.7"], KeyKind.Ecdsa), _ca);
        var files = refusal.Arrange(new Kit(good, _dir.Path));

        var error = Assert.Throws<TlsFileException>(() => files.Load());

        var (role, path) = refusal.File(files);
        Assert.That(error!.FilePath, Is.EqualTo(path));
        Assert.That(error.Message, Does.StartWith($"{role} {path}: "));
        Assert.That(error.Problem, Does.Contain(refusal.Problem));
    }

    /// <summary>What a refusal case starts from: a good set of files (ECDSA key) and a directory for more.</summary>
    public sealed record Kit(TlsFiles Good, string Directory)
    {
        public string Write(string name, string text)
        {
            var path = Path.Combine(Directory, name);
            File.WriteAllText(path, text);
            return path;
        }
    }

    /// <summary>One way the files go wrong, which file is named, and what the message says.</summary>
    public sealed record Refusal(string Name, Func<Kit, TlsFiles> Arrange, Func<TlsFiles, (string Role, string Path)> File,
        string Problem)
    {
        public override string ToString() => Name;
    }

    private static (string, string) Certificate(TlsFiles f) => ("TLS certificate", f.CertificateFile);

    private static (string, string) Key(TlsFiles f) => ("TLS key", f.KeyFile);

    private static (string, string) Bundle(TlsFiles f) => ("TLS CA bundle", f.CaFile);

    private const string Garbage = "this is not a certificate\n";

    public static IEnumerable<Refusal> Refusals() =>
    [
        new("certificate missing", k => k.Good with { CertificateFile = k.Good.CertificateFile + ".gone" }, Certificate, "does not exist"),
        new("key missing", k => k.Good with { KeyFile = Path.Combine(k.Directory, "no", "agent.key") }, Key, "does not exist"),
        new("bundle missing", k => k.Good with { CaFile = k.Good.CaFile + ".gone" }, Bundle, "does not exist"),
        new("certificate unreadable", k => k.Good with { CertificateFile = k.Directory }, Certificate, "cannot be read"),
        new("key unreadable", k => k.Good with { KeyFile = k.Directory }, Key, "cannot be read"),
        new("bundle unreadable", k => k.Good with { CaFile = k.Directory }, Bundle, "cannot be read"),
        new("certificate not PEM", k => k.Good with { CertificateFile = k.Write("c.pem", Garbage) }, Certificate, "is not PEM"),
        new("key given as the certificate", k => k.Good with { CertificateFile = k.Good.KeyFile }, Certificate,
            "is not a PEM certificate: it holds no CERTIFICATE block (found PRIVATE KEY)"),
        new("certificate block malformed", k => k.Good with { CertificateFile = k.Write("c.pem", Pem("CERTIFICATE", [1, 2, 3])) },
            Certificate, "certificate 1 in it does not parse"),
        new("key not PEM", k => k.Good with { KeyFile = k.Write("k.pem", Garbage) }, Key, "is not PEM"),
        new("certificate given as the key", k => k.Good with { KeyFile = k.Good.CertificateFile }, Key,
            "is not a PEM private key: it holds no PRIVATE KEY block (found CERTIFICATE)"),
        new("key encrypted", k => k.Good with { KeyFile = k.Write("k.pem", Encrypted()) }, Key, "is encrypted"),
        new("two keys", k => k.Good with { KeyFile = k.Write("k.pem", File.ReadAllText(k.Good.KeyFile) + File.ReadAllText(k.Good.KeyFile)) },
            Key, "holds 2 private keys"),
        new("key of another certificate", k => k.Good with { KeyFile = k.Write("k.pem", _ca.Client().KeyPem) }, Key,
            "does not match the certificate in"),
        new("RSA key for an ECDSA certificate", k => k.Good with { KeyFile = k.Write("k.pem", _ca.Client(KeyKind.Rsa).KeyPem) }, Key,
            "an RSA key for an ECDSA certificate"),
        new("key block malformed", k => k.Good with { KeyFile = k.Write("k.pem", Pem("PRIVATE KEY", [1, 2, 3])) }, Key,
            "neither an RSA nor an ECDSA key, or is malformed"),
        new("certificate expired", k => Replace(k, _ca.Client(notBefore: DateTimeOffset.UtcNow.AddDays(-3), notAfter: DateTimeOffset.UtcNow.AddDays(-1))),
            Certificate, "the certificate CN=loopvol controller expired on "),
        new("certificate not yet valid", k => Replace(k, _ca.Client(notBefore: DateTimeOffset.UtcNow.AddDays(1))), Certificate,
            "the certificate CN=loopvol controller is not valid before "),
        new("bundle not PEM", k => k.Good with { CaFile = k.Write("ca.pem", Garbage) }, Bundle, "is not PEM"),
        new("bundle without a certificate", k => k.Good with { CaFile = k.Good.KeyFile }, Bundle, "holds no CA certificate"),
        new("bundle holding a leaf", k => k.Good with { CaFile = k.Good.CertificateFile }, Bundle,
            "certificate 1 (CN=loopvol agent) is not a CA certificate"),
        new("bundle of expired CAs only", k => k.Good with
        {
            CaFile = k.Write("ca.pem", TestCa.CreateRoot("retired CA", DateTimeOffset.UtcNow.AddDays(-30), TimeSpan.FromDays(20)).CertificatePem),
        }, Bundle, "holds no CA certificate valid now: CN=retired CA expired on "),
    ];

    private static TlsFiles Replace(Kit kit, Issued issued) =>
        kit.Good with { CertificateFile = kit.Write("c.pem", issued.CertificatePem), KeyFile = kit.Write("k.pem", issued.KeyPem) };

    private static string Pem(string label, byte[] der) => PemEncoding.WriteString(label, der) + "\n";

    private static string Encrypted()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportEncryptedPkcs8PrivateKeyPem("secret",
            new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1000));
    }
}
