using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Loopvol.Csi.Transport.Tls;

/// <summary>The one judgement of the other side's certificate, for both ends, with the reason of a refusal.</summary>
internal static class PeerCertificate
{
    /// <summary>
    /// Why the other side's certificate is refused, or null when it is accepted. <paramref name="errors"/> are what
    /// <see cref="SslStream"/> found with the chain policy of <see cref="TlsMaterial.ChainPolicy"/> (chain, usage,
    /// validity, and on a client the name). A client also passes the <paramref name="host"/> it dialled, which must
    /// be one of the certificate's subject alternative names (DNS or IP): the subject's common name does not count.
    /// </summary>
    public static string? Refusal(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, string? host)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return "no certificate was presented";
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var problems = (chain?.ChainStatus ?? []).Select(s => s.Status).Distinct().Select(Describe);
            return $"the certificate {certificate.Subject} {string.Join("; ", problems.DefaultIfEmpty("has an invalid chain"))}";
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return $"the certificate {certificate.Subject} is not for {host}";
        }
        if (errors != SslPolicyErrors.None)
        {
            return $"the certificate {certificate.Subject} is refused: {errors}";
        }
        if (host is not null && !HasAlternativeName(certificate, host))
        {
            return $"the certificate {certificate.Subject} names {host} only in its subject, not as a subject alternative name";
        }
        return null;
    }

    private static string Describe(X509ChainStatusFlags status) => status switch
    {
        X509ChainStatusFlags.PartialChain or X509ChainStatusFlags.UntrustedRoot =>
            $"does not chain to a CA of the bundle ({status})",
        X509ChainStatusFlags.NotTimeValid => $"is expired or not yet valid, or its issuer is ({status})",
        X509ChainStatusFlags.NotValidForUsage => $"does not allow this use by its extended key usage ({status})",
        _ => $"has an invalid chain ({status})",
    };

    private static bool HasAlternativeName(X509Certificate certificate, string host)
    {
        var name = host.Trim('[', ']');
        if (certificate is X509Certificate2 full)
        {
            return full.MatchesHostname(name, allowWildcards: true, allowCommonName: false);
        }
        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return loaded.MatchesHostname(name, allowWildcards: true, allowCommonName: false);
    }
}
