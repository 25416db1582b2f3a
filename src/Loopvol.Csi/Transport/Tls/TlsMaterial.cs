using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Loopvol.Csi.Transport.Tls;

/// <summary>
/// One side of a mutual TLS connection, loaded by <see cref="TlsFiles.Load"/>: the certificate it presents (with
/// its private key, and the intermediates sent with it) and the CA certificates it trusts for the other side, and
/// only those. The owner disposes it once no server or channel uses it.
/// </summary>
public sealed class TlsMaterial : IDisposable
{
    /// <summary>The extended key usage a server certificate must allow (if it limits its usages at all).</summary>
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    /// <summary>The extended key usage a client certificate must allow (if it limits its usages at all).</summary>
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    internal TlsMaterial(X509Certificate2 certificate, X509Certificate2Collection intermediates,
        X509Certificate2Collection trustAnchors)
    {
        Certificate = certificate;
        Intermediates = intermediates;
        TrustAnchors = trustAnchors;
    }

    /// <summary>The certificate presented to the other side, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificates that followed it in its file, sent with it so the other side can build the chain.</summary>
    public X509Certificate2Collection Intermediates { get; }

    /// <summary>The CA certificates of the bundle: the only roots the other side's chain may end in.</summary>
    public X509Certificate2Collection TrustAnchors { get; }

    /// <summary>
    /// A new policy for checking the other side's chain: it must end in one of <see cref="TrustAnchors"/> (custom root
    /// trust: the system's roots count for nothing), every certificate in it must be valid now, and the leaf must
    /// allow <paramref name="usage"/>. Revocation is not checked: the bundle is a private CA that publishes no CRL or
    /// OCSP responder, so an online check could only fail; a compromised certificate is dealt with by replacing the
    /// CA. Nothing is downloaded (no AIA fetches that a peer's certificate could point anywhere).
    /// </summary>
    public X509ChainPolicy ChainPolicy(Oid usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(TrustAnchors);
        policy.ApplicationPolicy.Add(usage);
        return policy;
    }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var certificate in Intermediates.Concat(TrustAnchors))
        {
            certificate.Dispose();
        }
    }
}
