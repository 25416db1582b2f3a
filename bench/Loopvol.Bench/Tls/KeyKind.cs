namespace Loopvol.Bench.Tls;

/// <summary>The key of a certificate made here, and how its PEM file spells it.</summary>
public enum KeyKind
{
    /// <summary>RSA 2048, written as PKCS#8 (<c>PRIVATE KEY</c>).</summary>
    Rsa,

    /// <summary>RSA 2048, written as PKCS#1 (<c>RSA PRIVATE KEY</c>).</summary>
    RsaPkcs1,

    /// <summary>ECDSA P-256, written as PKCS#8 (<c>PRIVATE KEY</c>).</summary>
    Ecdsa,

    /// <summary>ECDSA P-256, written as SEC1 (<c>EC PRIVATE KEY</c>).</summary>
    EcdsaSec1,
}
