using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Loopvol.Csi.Transport.Tls;

/// <summary>
/// The PEM files of one side of a mutual TLS connection (the host takes them as <c>--tls-cert</c>,
/// <c>--tls-key</c> and <c>--tls-ca</c>): <paramref name="CertificateFile"/> holds this side's certificate first
/// and any intermediates after it; <paramref name="KeyFile"/> its unencrypted RSA or ECDSA private key (PKCS#8,
/// PKCS#1 or SEC1); <paramref name="CaFile"/> one or more CA certificates, the only ones the other side's chain may
/// end in.
/// </summary>
public sealed record TlsFiles(string CertificateFile, string KeyFile, string CaFile)
{
    private const string CertificateRole = "TLS certificate";
    private const string KeyRole = "TLS key";
    private const string CaRole = "TLS CA bundle";

    /// <summary>
    /// Reads and checks the three files. Throws <see cref="TlsFileException"/>, naming the file and what is wrong,
    /// when one is missing or unreadable, is not PEM, holds a key that does not match the certificate, a certificate
    /// that is expired or not yet valid at <paramref name="clock"/>'s now, or no CA certificate valid now.
    /// Reading again reads the files again (a renewed certificate is picked up by a new load).
    /// </summary>
    public TlsMaterial Load(TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        var chain = ReadCertificates(CertificateRole, CertificateFile);
        var anchors = new X509Certificate2Collection();
        try
        {
            CheckValidity(CertificateRole, CertificateFile, chain[0], now);
            anchors.AddRange(ReadCertificates(CaRole, CaFile).ToArray());
            CheckAnchors(anchors, now);
            var certificate = WithPrivateKey(chain[0]);
            var intermediates = new X509Certificate2Collection();
            intermediates.AddRange(chain.Skip(1).ToArray());
            chain[0].Dispose();
            return new TlsMaterial(certificate, intermediates, anchors);
        }
        catch
        {
            foreach (var certificate in chain.Concat(anchors))
            {
                certificate.Dispose();
            }
            throw;
        }
    }

    private static List<X509Certificate2> ReadCertificates(string role, string path)
    {
        var text = ReadText(role, path);
        var blocks = Pem.Blocks(text);
        if (blocks.Count == 0)
        {
            throw new TlsFileException(role, path, "is not PEM: it holds no -----BEGIN ...----- block");
        }
        var certificates = new List<X509Certificate2>();
        foreach (var (label, der) in blocks.Where(b => b.Label == "CERTIFICATE"))
        {
            try
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(der));
            }
            catch (CryptographicException e)
            {
                certificates.ForEach(c => c.Dispose());
                throw new TlsFileException(role, path,
                    $"certificate {certificates.Count + 1} in it does not parse: {e.Message}", e);
            }
        }
        if (certificates.Count == 0)
        {
            var found = string.Join(", ", blocks.Select(b => b.Label).Distinct());
            throw new TlsFileException(role, path, role == CaRole
                ? $"holds no CA certificate (no CERTIFICATE block; found {found})"
                : $"is not a PEM certificate: it holds no CERTIFICATE block (found {found})");
        }
        return certificates;
    }

    private static void CheckValidity(string role, string path, X509Certificate2 certificate, DateTimeOffset now)
    {
        if (Validity(certificate, now) is { } problem)
        {
            throw new TlsFileException(role, path, $"the certificate {certificate.Subject} {problem}");
        }
    }

    private void CheckAnchors(X509Certificate2Collection anchors, DateTimeOffset now)
    {
        for (var i = 0; i < anchors.Count; i++)
        {
            var basic = anchors[i].Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
            if (basic is not { CertificateAuthority: true })
            {
                throw new TlsFileException(CaRole, CaFile,
                    $"certificate {i + 1} ({anchors[i].Subject}) is not a CA certificate (no basic constraints CA:TRUE)");
            }
        }
        // A bundle may carry a CA being retired beside its successor; it is unusable only when none is valid now.
        if (anchors.All(a => Validity(a, now) is not null))
        {
            throw new TlsFileException(CaRole, CaFile,
                $"holds no CA certificate valid now: {anchors[0].Subject} {Validity(anchors[0], now)}");
        }
    }

    private static string? Validity(X509Certificate2 certificate, DateTimeOffset now) =>
        now < certificate.NotBefore.ToUniversalTime() ? $"is not valid before {Utc(certificate.NotBefore)}"
        : now > certificate.NotAfter.ToUniversalTime() ? $"expired on {Utc(certificate.NotAfter)}"
        : null;

    private static string Utc(DateTime time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// The certificate joined with the key of <see cref="KeyFile"/>, which must be its own. On Linux SslStream (OpenSSL)
    /// uses such an in-memory key as it is, in the native AOT executable too: no PKCS#12 round trip is needed (that is
    /// Windows' SChannel, which wants a persisted key).
    /// </summary>
    private X509Certificate2 WithPrivateKey(X509Certificate2 certificate)
    {
        var blocks = Pem.Blocks(ReadText(KeyRole, KeyFile));
        var keys = blocks.Where(b => Pem.IsPrivateKey(b.Label)).ToList();
        if (keys.Count == 0)
        {
            throw new TlsFileException(KeyRole, KeyFile, blocks.Count == 0
                ? "is not PEM: it holds no -----BEGIN ...----- block"
                : $"is not a PEM private key: it holds no PRIVATE KEY block (found {string.Join(", ", blocks.Select(b => b.Label).Distinct())})");
        }
        if (keys.Count > 1)
        {
            throw new TlsFileException(KeyRole, KeyFile, $"holds {keys.Count} private keys; it must hold one");
        }
        if (keys[0].Label == "ENCRYPTED PRIVATE KEY")
        {
            throw new TlsFileException(KeyRole, KeyFile, "is encrypted; give the key unencrypted (and the file mode 0600)");
        }
        using var key = Pem.ImportPrivateKey(keys[0])
            ?? throw new TlsFileException(KeyRole, KeyFile, $"its {keys[0].Label} block is neither an RSA nor an ECDSA key, or is malformed");
        var expected = certificate.PublicKey.Oid.Value switch
        {
            Pem.RsaOid => "RSA",
            Pem.EcOid => "ECDSA",
            var other => throw new TlsFileException(CertificateRole, CertificateFile,
                $"holds a {certificate.PublicKey.Oid.FriendlyName ?? other} public key; only RSA and ECDSA are supported"),
        };
        try
        {
            return key switch
            {
                RSA rsa when expected == "RSA" => certificate.CopyWithPrivateKey(rsa),
                ECDsa ecdsa when expected == "ECDSA" => certificate.CopyWithPrivateKey(ecdsa),
                _ => throw new ArgumentException($"an {(key is RSA ? "RSA" : "ECDSA")} key for an {expected} certificate"),
            };
        }
        catch (ArgumentException e)
        {
            throw new TlsFileException(KeyRole, KeyFile,
                $"does not match the certificate in {CertificateFile} ({certificate.Subject}): {e.Message}", e);
        }
    }

    private static string ReadText(string role, string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TlsFileException(role, path, "does not exist", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new TlsFileException(role, path, $"cannot be read: {e.Message}", e);
        }
    }
}
