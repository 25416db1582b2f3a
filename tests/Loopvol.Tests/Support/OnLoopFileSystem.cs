namespace Loopvol.Tests.Support;

/// <summary>A fixture whose tests share one real file system on a loop device, unmounted and checked for leaks after.</summary>
public abstract class OnLoopFileSystem(string fsType)
{
    private LoopFileSystem? _fs;

    protected string FsType => fsType;

    protected string MountPoint => _fs!.MountPoint;

    [OneTimeSetUp]
    public async Task MountAsync() => _fs = await LoopFileSystem.CreateAsync(fsType);

    [OneTimeTearDown]
    public void Unmount()
    {
        _fs?.Dispose();
        HostLeaks.AssertNone();
    }
}
