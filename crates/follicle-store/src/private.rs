//! Files and folders only their owner can read: the data folder, the database, photos and
//! backups hold health records, so they are made `0700` (folders) and `0600` (files) on Unix,
//! whatever the process's umask. Elsewhere the platform's defaults apply.

use std::io;
use std::path::Path;

/// Creates a folder and any missing parents, each `0700`. A folder that exists already keeps
/// its mode (the operator may have chosen it).
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates a new, empty file `0600`; an existing one is an error.
pub fn create_new_file(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Makes an existing file `0600` (or a folder `0700`).
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes a new file `0600` with these bytes (its folder must exist).
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = create_new_file(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
