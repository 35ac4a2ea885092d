//! Opening the files bumplab reads: event files, checkpoints, scripts, the REPL's history.
//!
//! Readers accept regular files only, reached directly or through symbolic links. Anything
//! else is refused with an error naming the file: a named pipe (with no writer, reading it
//! blocked forever and Ctrl-C could not stop it), a character device (`/dev/zero` never
//! ends: reading it grew memory until the process aborted), a directory, a socket. A file is
//! opened without blocking (`O_NONBLOCK`, which regular files ignore) and its type is taken
//! from the open file, so a path swapped for a pipe between a check and the open cannot
//! hang the reader either.
//!
//! The length of a regular file is known before it is read: [`read`] and [`read_text`] read
//! at most that many bytes, after [`crate::memory::check`] has said the memory is there;
//! readers that expand what they read (text into numbers) ask [`open_within_memory`].

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// A regular file opened for reading.
#[derive(Debug)]
pub struct Input {
    /// The open file, positioned at its start.
    pub file: File,
    /// Its length in bytes when it was opened.
    pub len: u64,
}

/// Opens `path` for reading: a regular file, or a symbolic link to one. Anything else is an
/// error naming `path` and what it is, returned at once (a named pipe is not waited on).
pub fn open(path: &Path) -> Result<Input> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| Error::io("read", path, e))?;
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() {
        let refused = std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "it is {}; only regular files (or links to them) are read",
                kind(&meta.file_type())
            ),
        );
        return Err(Error::io("read", path, refused));
    }
    Ok(Input {
        len: meta.len(),
        file,
    })
}

/// Like [`open`], first checking that `per_byte` bytes of memory for each byte of the file
/// are available: what a reader that holds the file's content in memory, expanded that many
/// times, needs.
pub fn open_within_memory(path: &Path, per_byte: f64) -> Result<Input> {
    let input = open(path)?;
    crate::memory::check(
        &format!("file '{}'", path.display()),
        input.len as f64 * per_byte,
    )?;
    Ok(input)
}

/// The content of the regular file `path`, read once the memory for it is known to be
/// available, and never more than the length the file had when opened.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    let input = open_within_memory(path, 1.0)?;
    let mut bytes = Vec::new();
    input
        .file
        .take(input.len)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(bytes)
}

/// The content of the regular file `path` as UTF-8 text (see [`read`]).
pub fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read(path)?).map_err(|e| {
        let invalid = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        );
        Error::io("read", path, invalid)
    })
}

/// What a file of type `kind` is, in words.
fn kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_and_links_to_them_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "héllo").unwrap();
        assert_eq!(read_text(&file).unwrap(), "héllo");
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert_eq!(read(&link).unwrap(), "héllo".as_bytes());
            assert_eq!(open(&link).unwrap().len, 6);
        }
        std::fs::write(&file, [0x66, 0xff]).unwrap();
        let err = read_text(&file).unwrap_err().to_string();
        assert!(
            err.contains("not UTF-8 text (invalid byte at offset 1)"),
            "{err}"
        );
        let missing = dir.path().join("missing");
        let err = read(&missing).unwrap_err().to_string();
        assert!(err.starts_with("cannot read '"), "{err}");
    }

    #[test]
    fn anything_else_is_refused_at_once_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("it is a directory; only regular files"),
            "{err}"
        );
        #[cfg(unix)]
        {
            let err = read_text(Path::new("/dev/zero")).unwrap_err().to_string();
            assert_eq!(
                err,
                "cannot read '/dev/zero': it is a character device; only regular files (or \
                 links to them) are read"
            );
            // A named pipe with no writer: opening it for reading used to wait forever.
            let fifo = dir.path().join("zf");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            assert!(made.unwrap().success());
            let err = read(&fifo).unwrap_err().to_string();
            assert!(
                err.contains("zf': it is a named pipe; only regular"),
                "{err}"
            );
            let link = dir.path().join("to-fifo");
            std::os::unix::fs::symlink(&fifo, &link).unwrap();
            assert!(open(&link).is_err());
        }
    }

    #[test]
    fn a_file_larger_than_the_memory_available_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.csv");
        std::fs::write(&file, "a\n1\n").unwrap();
        let err = open_within_memory(&file, 1e30).unwrap_err().to_string();
        assert!(err.contains("big.csv"), "{err}");
        assert!(err.contains("of memory, but only"), "{err}");
        assert_eq!(open_within_memory(&file, 4.0).unwrap().len, 4);
    }
}
