using System.Security.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace Loopvol.Csi.Transport.Tls;

/// <summary>The server's half of mutual TLS: Kestrel's HTTPS settings for a TCP listener.</summary>
internal static class ServerTls
{
    /// <summary>
    /// Serves HTTP/2 over TLS (ALPN h2) on <paramref name="listen"/>: presents the material's certificate and its
    /// intermediates, requires a client certificate, and accepts one only when its chain ends in the material's
    /// CA bundle (no system roots, no revocation check; see <see cref="TlsMaterial.ChainPolicy"/>) and it allows client
    /// authentication. A refused client fails the handshake, so no handler ever runs for it.
    /// </summary>
    public static void Use(ListenOptions listen, TlsMaterial tls, ILogger logger)
    {
        listen.Protocols = HttpProtocols.Http2;
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = tls.Certificate,
            ServerCertificateChain = tls.Intermediates,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            // Kestrel's own switch would ask for an online check under the system's policy; ours is in ChainPolicy.
            CheckCertificateRevocation = false,
            // SslStream builds and judges the client's chain with this policy (a copy per handshake); the errors it
            // finds reach ClientCertificateValidation below.
            OnAuthenticate = (_, ssl) => ssl.CertificateChainPolicy = tls.ChainPolicy(TlsMaterial.ClientAuthentication),
            // Called only for a presented certificate; Kestrel refuses a missing one itself (RequireCertificate).
            ClientCertificateValidation = (certificate, chain, errors) =>
            {
                if (PeerCertificate.Refusal(certificate, chain, errors, host: null) is { } reason)
                {
                    TransportLog.ClientRefused(logger, reason);
                    return false;
                }
                return true;
            },
        });
    }
}
