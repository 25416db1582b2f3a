using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Loopvol.Csi.Transport.Tls;

namespace Loopvol.Bench.Tls;

/// <summary>
/// A private CA made in memory with System.Security.Cryptography (ECDSA P-256, basic constraints CA:TRUE), issuing
/// certificates for tests and benchmarks, and writing them as PEM files the way an operator would give them.
/// </summary>
public sealed class TestCa(Issued self, TestCa? parent)
{
    /// <summary>The CA's own certificate, with its key.</summary>
    public Issued Self { get; } = self;

    /// <summary>The CA that issued this one, for an intermediate; null for a root.</summary>
    public TestCa? Parent { get; } = parent;

    public string CertificatePem => Self.CertificatePem;

    /// <summary>A root CA valid from <paramref name="notBefore"/> (ten days ago) for <paramref name="lifetime"/> (30 days).</summary>
    public static TestCa CreateRoot(string name, DateTimeOffset? notBefore = null, TimeSpan? lifetime = null)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = CaRequest(name, key);
        var from = notBefore ?? DateTimeOffset.UtcNow.AddDays(-10);
        return new TestCa(new Issued(request.CreateSelfSigned(from, from + (lifetime ?? TimeSpan.FromDays(30))), key,
            KeyKind.Ecdsa), null);
    }

    /// <summary>An intermediate CA issued by this one.</summary>
    public TestCa CreateIntermediate(string name)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = CaRequest(name, key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Self.Certificate, true, false));
        using var issued = request.Create(Self.Certificate, Self.Certificate.NotBefore, Self.Certificate.NotAfter, Serial());
        return new TestCa(new Issued(issued.CopyWithPrivateKey(key), key, KeyKind.Ecdsa), this);
    }

    /// <summary>
    /// A leaf certificate for <paramref name="names"/> (subject alternative names: IP addresses and DNS names; none
    /// gives no SAN extension), allowing <paramref name="usage"/> (null: no extended key usage extension at all).
    /// </summary>
    public Issued Issue(string subject, KeyKind kind, Oid? usage, string[] names, DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null)
    {
        AsymmetricAlgorithm key = kind is KeyKind.Rsa or KeyKind.RsaPkcs1
            ? RSA.Create(2048)
            : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA rsa
            ? new CertificateRequest($"CN={subject}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest($"CN={subject}", (ECDsa)key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(key is RSA
            ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment
            : X509KeyUsageFlags.DigitalSignature, true));
        if (usage is not null)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        }
        if (names.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in names)
            {
                if (IPAddress.TryParse(name, out var address))
                {
                    san.AddIpAddress(address);
                }
                else
                {
                    san.AddDnsName(name);
                }
            }
            request.CertificateExtensions.Add(san.Build());
        }
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Self.Certificate, true, false));
        var from = notBefore ?? DateTimeOffset.UtcNow.AddHours(-1);
        // Signed through a generator: an ECDSA CA signs RSA leaves too (Create(issuerCertificate…) refuses that).
        var certificate = request.Create(Self.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa((ECDsa)Self.Key),
            from, notAfter ?? from.AddDays(7), Serial());
        return new Issued(certificate, key, kind);
    }

    /// <summary>A server certificate for <paramref name="names"/>.</summary>
    public Issued Server(string[] names, KeyKind kind = KeyKind.Rsa) =>
        Issue("loopvol agent", kind, TlsMaterial.ServerAuthentication, names);

    /// <summary>A client certificate (no subject alternative name: a server does not check a client's name).</summary>
    public Issued Client(KeyKind kind = KeyKind.Ecdsa, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null) =>
        Issue("loopvol controller", kind, TlsMaterial.ClientAuthentication, [], notBefore, notAfter);

    /// <summary>
    /// Writes <paramref name="leaf"/> (followed by the intermediates between it and its root, when it was issued by an
    /// intermediate), its key, and a bundle of <paramref name="trusted"/> as <c>NAME.crt</c>, <c>NAME.key</c> and
    /// <c>NAME-ca.crt</c> in <paramref name="directory"/>.
    /// </summary>
    public TlsFiles Write(string directory, string name, Issued leaf, params TestCa[] trusted)
    {
        var files = new TlsFiles(Path.Combine(directory, $"{name}.crt"), Path.Combine(directory, $"{name}.key"),
            Path.Combine(directory, $"{name}-ca.crt"));
        var chain = new List<string> { leaf.CertificatePem };
        for (var ca = this; ca.Parent is not null; ca = ca.Parent)
        {
            chain.Add(ca.CertificatePem);
        }
        File.WriteAllText(files.CertificateFile, string.Join('\n', chain) + "\n");
        File.WriteAllText(files.KeyFile, leaf.KeyPem + "\n");
        File.WriteAllText(files.CaFile, string.Join('\n', trusted.Select(t => t.CertificatePem)) + "\n");
        return files;
    }

    private static CertificateRequest CaRequest(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f; // A serial number is positive.
        return serial;
    }
}
