using System.Security.Cryptography;

namespace Loopvol.Csi.Transport.Tls;

/// <summary>The PEM blocks of a file (RFC 7468), and the private keys among them.</summary>
internal static class Pem
{
    public const string RsaOid = "1.2.840.113549.1.1.1";
    public const string EcOid = "1.2.840.10045.2.1";

    /// <summary>One block: its label (<c>CERTIFICATE</c>, <c>PRIVATE KEY</c>…) and its decoded contents.</summary>
    public readonly record struct Block(string Label, byte[] Der);

    /// <summary>Every well-formed block, in file order; text around and between them is ignored.</summary>
    public static List<Block> Blocks(string text)
    {
        var blocks = new List<Block>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var der = new byte[fields.DecodedDataLength];
            if (Convert.TryFromBase64Chars(rest[fields.Base64Data], der, out var written))
            {
                blocks.Add(new Block(rest[fields.Label].ToString(), der[..written]));
            }
            rest = rest[fields.Location.End..];
        }
        return blocks;
    }

    public static bool IsPrivateKey(string label) =>
        label is "PRIVATE KEY" or "RSA PRIVATE KEY" or "EC PRIVATE KEY" or "ENCRYPTED PRIVATE KEY";

    /// <summary>The key of an unencrypted private key block, or null when it is neither RSA nor ECDSA, or malformed.</summary>
    public static AsymmetricAlgorithm? ImportPrivateKey(Block block) => block.Label switch
    {
        "RSA PRIVATE KEY" => Try<RSA>(RSA.Create(), k => k.ImportRSAPrivateKey(block.Der, out _)),
        "EC PRIVATE KEY" => Try<ECDsa>(ECDsa.Create(), k => k.ImportECPrivateKey(block.Der, out _)),
        _ => Try<RSA>(RSA.Create(), k => k.ImportPkcs8PrivateKey(block.Der, out _))
             ?? (AsymmetricAlgorithm?)Try<ECDsa>(ECDsa.Create(), k => k.ImportPkcs8PrivateKey(block.Der, out _)),
    };

    private static T? Try<T>(T key, Action<T> import)
        where T : AsymmetricAlgorithm
    {
        try
        {
            import(key);
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            return null;
        }
    }
}
