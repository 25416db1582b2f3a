using System.Text;
using Loopvol.Core.Errors;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Pool;

/// <summary>
/// Each image carries its own journal record in the extended attribute <c>user.loopvol.record</c> (the versioned
/// JSON of <see cref="PortableRecord"/>), written on the file before it is renamed into place, so an image in the
/// pool always says what it is and who asked for it, and the journal can be made again from the pool alone.
/// </summary>
public static class ImageRecords
{
    public const string AttributeName = "user.loopvol.record";

    /// <summary>
    /// The largest record an image carries. ext4 keeps all of a file's extended attributes in one 4 KiB block, so
    /// a record stays well below that; what a request could make larger is refused before anything is made.
    /// </summary>
    public const int MaxBytes = 3 * 1024;

    /// <summary>The record as stored; one larger than <see cref="MaxBytes"/> is <see cref="InvalidArgumentException"/>.</summary>
    public static byte[] Encode(PortableRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var bytes = Encoding.UTF8.GetBytes(record.ToJson());
        return bytes.Length <= MaxBytes
            ? bytes
            : throw new InvalidArgumentException(
                $"the request '{record.RequestName}' is too large to record with its image: its name, parameters and " +
                $"capabilities take {bytes.Length} bytes, at most {MaxBytes} fit");
    }

    /// <summary>Writes the record on an open image (before it is synced and renamed into place).</summary>
    public static void Write(SafeFileHandle image, string subject, PortableRecord record) =>
        ExtendedAttributes.Set(image, AttributeName, Encode(record), subject);

    /// <summary>Writes the record on the image at <paramref name="path"/>, replacing any it had.</summary>
    public static void Write(string path, PortableRecord record) => ExtendedAttributes.Set(path, AttributeName, Encode(record));

    /// <summary>
    /// The record the image at <paramref name="path"/> carries; null when it carries none. A record that cannot
    /// be read is a <see cref="FormatException"/>.
    /// </summary>
    public static PortableRecord? Read(string path) =>
        ExtendedAttributes.Get(path, AttributeName) is { } bytes ? PortableRecord.Parse(Encoding.UTF8.GetString(bytes)) : null;

    /// <summary>
    /// Checks that the file system of <paramref name="directory"/> keeps user extended attributes, on a scratch
    /// file; throws <see cref="IOException"/> saying so when it does not.
    /// </summary>
    public static void EnsureSupported(string directory)
    {
        var probe = Path.Combine(directory, $"xattr-probe-{Guid.NewGuid():N}");
        try
        {
            SafeFileHandle file;
            try
            {
                file = File.OpenHandle(probe, FileMode.CreateNew, FileAccess.ReadWrite);
            }
            catch (IOException)
            {
                // A full file system has no room for the scratch file: ask without writing. A file system without
                // user attributes refuses to read one too; one with them answers that there is none.
                ExtendedAttributes.Get(directory, AttributeName);
                return;
            }
            using (file)
            {
                ExtendedAttributes.Set(file, AttributeName, "{}"u8, probe);
            }
        }
        catch (CommandFailedException e) when (e.ExitCode == Errno.EOPNOTSUPP)
        {
            throw new IOException(
                $"the file system of the pool {directory} does not keep user extended attributes ({AttributeName}), " +
                "in which each image carries its record; put the pool on ext4, xfs, btrfs or tmpfs", e);
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
