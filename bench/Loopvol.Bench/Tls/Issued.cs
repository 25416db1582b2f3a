using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Loopvol.Bench.Tls;

/// <summary>A certificate made here with its private key.</summary>
public sealed record Issued(X509Certificate2 Certificate, AsymmetricAlgorithm Key, KeyKind Kind)
{
    public string CertificatePem => Certificate.ExportCertificatePem();

    public string KeyPem => (Key, Kind) switch
    {
        (RSA rsa, KeyKind.RsaPkcs1) => rsa.ExportRSAPrivateKeyPem(),
        (ECDsa ecdsa, KeyKind.EcdsaSec1) => ecdsa.ExportECPrivateKeyPem(),
        _ => Key.ExportPkcs8PrivateKeyPem(),
    };
}
