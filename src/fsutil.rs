//! File helpers shared by every writer: writes that are atomic and never clobber what is not
//! theirs.
//!
//! [`write_atomic`] and [`write_atomic_with`] first resolve the destination
//! ([`Destination::resolve`]):
//! - a symbolic link is followed to its final target (a dangling link: the target is created;
//!   a loop is an error), so the link survives and its target gets the new content;
//! - a regular file (or a missing one) is replaced atomically: the content goes to a temporary
//!   file in the target's directory (a rename never crosses file systems), is flushed to disk
//!   and renamed over the target, which keeps its permissions (and, for root, its owner);
//! - a character device (`/dev/null`, a terminal) or a named pipe is written directly, never
//!   replaced; a pipe with no reader is an error rather than a hang;
//! - a directory, a socket or a block device is refused with an error.
//!
//! Temporary names say who owns them: `.{name}.{owner}.{pid}.{n}.bumplab-tmp`, where `owner`
//! is the host name and PID namespace. A process killed mid-write (`kill -9`) leaves its
//! temporary file behind; the first write of a later process into the same directory removes
//! the temporary files of dead processes of the same host and namespace (checked through
//! `/proc/<pid>`; where that cannot be known, as off Linux, nothing is removed).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};

/// The suffix of every temporary file the writers create.
pub const TEMP_SUFFIX: &str = "bumplab-tmp";

/// Symbolic links followed at most before the chain is called a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

/// The longest file name most file systems allow, in bytes.
const NAME_MAX: usize = 255;

/// Writes `bytes` to `path` as the module documentation says: atomically for a regular file
/// (a crash or an error midway leaves any existing file intact), through symbolic links to
/// their target, directly for a device or a pipe.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], with the content written by `write` into the open file, so a large
/// output streams to disk instead of being buffered whole in memory. An error from `write`
/// leaves any existing file intact and is reported as a write error on `path`.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<()> {
    match Destination::resolve(path)? {
        Destination::Replace(target) => replace(&target, write),
        Destination::Direct(target) => {
            let mut file = open_direct(&target)?;
            write(&mut file)
                .and_then(|()| file.flush())
                .map_err(|e| Error::io("write", &target, e))
        }
    }
}

/// Where a write to a path goes, once symbolic links are followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A regular file, or no file yet: written to a temporary file and renamed over it.
    Replace(PathBuf),
    /// A character device or a named pipe (or a file reached through a `/proc` file
    /// descriptor link, such as `/dev/stdout`): opened and written in place, never replaced.
    Direct(PathBuf),
}

impl Destination {
    /// Follows the chain of symbolic links from `path` and tells how its final target is
    /// written. A directory, a socket, a block device, or a chain of more than 40 links (a
    /// loop) is an error naming `path`.
    pub fn resolve(path: &Path) -> Result<Destination> {
        if path.file_name().is_none() {
            return Err(Error::invalid(
                "output path",
                format!("'{}' names no file", path.display()),
            ));
        }
        let mut current = path.to_path_buf();
        for _ in 0..=MAX_LINKS {
            let meta = match std::fs::symlink_metadata(&current) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Destination::Replace(current));
                }
                Err(e) => return Err(Error::io("write", path, e)),
            };
            if !meta.file_type().is_symlink() {
                return classify(path, current, &meta, false);
            }
            if current.starts_with("/proc") {
                // `/proc/<pid>/fd/N` (behind `/dev/stdout`) is a link whose text is not a
                // path ("pipe:[123]"): the kernel opens the descriptor's file itself.
                let meta = std::fs::metadata(&current).map_err(|e| Error::io("write", path, e))?;
                return classify(path, current, &meta, true);
            }
            let link = std::fs::read_link(&current).map_err(|e| Error::io("write", path, e))?;
            current = match current.parent() {
                Some(dir) if link.is_relative() => dir.join(link),
                _ => link,
            };
        }
        Err(Error::invalid(
            "output path",
            format!(
                "'{}': more than {MAX_LINKS} symbolic links in a chain (a loop?)",
                path.display()
            ),
        ))
    }
}

/// The destination for the final target `target` of `path`, of type `meta`; `descriptor`:
/// reached through a `/proc` file descriptor link, where even a regular file is written in
/// place (its name is another process's open file, not a place to rename into).
fn classify(
    path: &Path,
    target: PathBuf,
    meta: &std::fs::Metadata,
    descriptor: bool,
) -> Result<Destination> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(if descriptor {
            Destination::Direct(target)
        } else {
            Destination::Replace(target)
        });
    }
    if kind.is_dir() {
        return Err(Error::invalid(
            "output path",
            format!("'{}' is a directory; name a file in it", path.display()),
        ));
    }
    match in_place(kind) {
        Ok(()) => Ok(Destination::Direct(target)),
        Err(what) => Err(Error::invalid(
            "output path",
            format!(
                "'{}' is {what}: only files, character devices and named pipes are written",
                path.display()
            ),
        )),
    }
}

/// Whether a file of type `kind`, neither a regular file nor a directory, is written in
/// place (a character device or a named pipe) or refused (with what it is).
#[cfg(unix)]
fn in_place(kind: std::fs::FileType) -> std::result::Result<(), &'static str> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_char_device() || kind.is_fifo() {
        Ok(())
    } else if kind.is_block_device() {
        Err("a block device")
    } else if kind.is_socket() {
        Err("a socket")
    } else {
        Err("not a regular file")
    }
}

/// Whether a file of type `kind`, neither a regular file nor a directory, is written in
/// place: never, off Unix.
#[cfg(not(unix))]
fn in_place(_kind: std::fs::FileType) -> std::result::Result<(), &'static str> {
    Err("not a regular file")
}

/// Opens a device or a pipe for writing in place: never created, never truncated, appended
/// to (a file behind `/dev/stdout` keeps what the shell already wrote). A named pipe is first
/// opened without blocking, so a pipe with no reader is an error instead of a hang.
fn open_direct(target: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.append(true);
    #[cfg(unix)]
    let _probe = {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let is_fifo = std::fs::metadata(target).is_ok_and(|m| m.file_type().is_fifo());
        if is_fifo {
            // Held open until the blocking open below, which then finds the reader at once.
            let probe = OpenOptions::new()
                .append(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(target)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::ENXIO) => Error::invalid(
                        "output path",
                        format!(
                            "'{}' is a named pipe that nobody reads: start the reader first",
                            target.display()
                        ),
                    ),
                    _ => Error::io("write", target, e),
                })?;
            Some(probe)
        } else {
            None
        }
    };
    options
        .open(target)
        .map_err(|e| Error::io("write", target, e))
}

/// Writes a regular file at `target` through a temporary file renamed over it.
fn replace(target: &Path, write: impl FnOnce(&mut File) -> std::io::Result<()>) -> Result<()> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    clean_stale_once(dir);
    let existing = std::fs::metadata(target).ok();
    let (temp, mut file) = create_temp(dir, target)?;
    let result = (|| {
        if let Some(meta) = &existing {
            keep_attributes(&file, meta)?;
        }
        write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, target)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::io("write", target, e));
    }
    // Make the rename itself durable; a file system that cannot sync a directory has
    // already renamed the file, so this is best effort.
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
    Ok(())
}

/// Gives the new file the permissions (and, where allowed, the owner) of the one it replaces.
fn keep_attributes(file: &File, meta: &std::fs::Metadata) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root may give a file away; anyone else keeps their own file.
        let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
    }
    file.set_permissions(meta.permissions())
}

/// Creates a new, uniquely named temporary file for `target` in `dir`.
fn create_temp(dir: &Path, target: &Path) -> Result<(PathBuf, File)> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let owner = Owner::current();
    let pid = std::process::id();
    for _ in 0..2 {
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let tail = format!(".{}.{pid}.{n}.{TEMP_SUFFIX}", owner.tag);
        let keep = NAME_MAX.saturating_sub(tail.len() + 1);
        let temp = dir.join(format!(".{}{tail}", truncate_at_char(&name, keep)));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            // A dead process with our pid (before a reboot) left this name: it is stale.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = std::fs::remove_file(&temp);
            }
            Err(e) => return Err(Error::io("write", target, e)),
        }
    }
    Err(Error::io(
        "write",
        target,
        std::io::Error::other("cannot create a temporary file beside it"),
    ))
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate_at_char(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Who owns a temporary file: this host and PID namespace, where `/proc/<pid>` can tell
/// whether a process is alive.
struct Owner {
    /// The host name and PID namespace, as a name part free of dots.
    tag: String,
    /// Whether process liveness can be checked (`/proc` of this namespace is readable).
    checkable: bool,
}

impl Owner {
    /// This process's owner tag.
    fn current() -> &'static Owner {
        static OWNER: OnceLock<Owner> = OnceLock::new();
        OWNER.get_or_init(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
            let namespace = std::fs::read_link("/proc/self/ns/pid").ok().map(|link| {
                let text = link.to_string_lossy().into_owned();
                text.chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
            });
            match (host, namespace) {
                (Some(host), Some(ns)) if !ns.is_empty() => {
                    let host: String = host
                        .trim()
                        .chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() || c == '-' {
                                c
                            } else {
                                '_'
                            }
                        })
                        .collect();
                    Owner {
                        tag: format!("{host}-{ns}"),
                        checkable: true,
                    }
                }
                _ => Owner {
                    tag: "unknown".to_string(),
                    checkable: false,
                },
            }
        })
    }
}

/// Removes the stale temporary files in `dir` the first time this process writes there.
fn clean_stale_once(dir: &Path) {
    static CLEANED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let first = CLEANED
        .lock()
        .map(|mut seen| seen.get_or_insert_with(HashSet::new).insert(key))
        .unwrap_or(false);
    if first {
        clean_stale(dir);
    }
}

/// Removes the temporary files in `dir` left by dead processes of this host and namespace.
/// Returns how many were removed.
pub fn clean_stale(dir: &Path) -> usize {
    let owner = Owner::current();
    if !owner.checkable {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| stale_pid(n, &owner.tag)) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if pid != me && !alive && is_file && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The process id in a temporary file name of owner `tag`, or None for any other name.
fn stale_pid(name: &str, tag: &str) -> Option<u32> {
    let mut parts = name.rsplitn(5, '.');
    let (suffix, seq, pid, owner, rest) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let numbered = seq.bytes().all(|b| b.is_ascii_digit()) && !seq.is_empty();
    (suffix == TEMP_SUFFIX && owner == tag && numbered && rest.starts_with('.'))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Test support: simulating a writer killed midway (`kill -9`).
#[cfg(all(test, target_os = "linux"))]
pub(crate) mod killed {
    use std::os::unix::process::ExitStatusExt;
    use std::path::Path;

    /// Set in the child process to the directory it writes into.
    const CHILD: &str = "BUMPLAB_TEST_KILLED_WRITE";

    /// Runs `write(dir)` in a child process (this test binary re-run on the test `test`)
    /// under a 64 KiB file size limit, so the kernel kills it (SIGXFSZ) in the middle of any
    /// larger write, as `kill -9` would, and checks that it died so. In the child itself
    /// (the test calls this first thing), runs `write` and exits.
    pub(crate) fn write_killed_midway(test: &str, dir: &Path, write: impl FnOnce(&Path)) {
        if let Some(child_dir) = std::env::var_os(CHILD) {
            write(Path::new(&child_dir));
            std::process::exit(0);
        }
        let exe = std::env::current_exe().unwrap();
        let status = std::process::Command::new("sh")
            .args([
                "-c",
                "ulimit -c 0; ulimit -f 64; exec \"$0\" --exact \"$1\" --test-threads=1",
            ])
            .arg(exe)
            .arg(test)
            .env(CHILD, dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.signal(), Some(libc::SIGXFSZ), "{status:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(names(dir.path()), ["out.txt"]);
    }

    #[test]
    fn failure_names_the_file_and_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no_such_dir").join("out.txt");
        let err = write_atomic(&missing, b"x").unwrap_err().to_string();
        assert!(err.contains("no_such_dir/out.txt"), "{err}");
        let path = dir.path().join("kept.txt");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |file| {
            file.write_all(b"half")?;
            Err(std::io::Error::other("the writer failed"))
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("kept.txt") && err.contains("the writer failed"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(names(dir.path()), ["kept.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_written_through_to_their_target() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let target = data.join("real.csv");
        std::fs::write(&target, "old").unwrap();
        // link -> ../data/real.csv (relative), link2 -> link (absolute): a chain.
        let link = dir.path().join("link.csv");
        symlink("data/real.csv", &link).unwrap();
        let link2 = dir.path().join("link2.csv");
        symlink(&link, &link2).unwrap();
        write_atomic(&link2, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert!(std::fs::symlink_metadata(&link2).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(names(&data), ["real.csv"]);
        // A dangling link creates its target.
        let dangling = dir.path().join("dangling.csv");
        symlink("data/created.csv", &dangling).unwrap();
        write_atomic(&dangling, b"made").unwrap();
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
        assert_eq!(
            std::fs::read_to_string(data.join("created.csv")).unwrap(),
            "made"
        );
        // A loop is an error that leaves the links alone.
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        symlink(&b, &a).unwrap();
        symlink(&a, &b).unwrap();
        let err = write_atomic(&a, b"x").unwrap_err().to_string();
        assert!(
            err.contains("symbolic links") && err.contains("loop"),
            "{err}"
        );
        assert!(std::fs::symlink_metadata(&a).unwrap().is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn permissions_of_the_replaced_file_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("script.sh");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
        write_atomic(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o750);
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place_and_directories_refused() {
        use std::os::unix::fs::FileTypeExt;
        // Checked before writing: were it replaced, a test run as root would break the machine.
        assert_eq!(
            Destination::resolve(Path::new("/dev/null")).unwrap(),
            Destination::Direct("/dev/null".into())
        );
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        let null = std::fs::symlink_metadata("/dev/null").unwrap();
        assert!(
            null.file_type().is_char_device(),
            "/dev/null is still a device"
        );
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(dir.path(), b"x").unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let link = dir.path().join("to_dir");
        std::os::unix::fs::symlink(&sub, &link).unwrap();
        let err = write_atomic(&link, b"x").unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_behind_a_descriptor_link_is_appended_to_not_replaced() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        std::fs::write(&path, "shell wrote this\n").unwrap();
        let open = OpenOptions::new().append(true).open(&path).unwrap();
        // What `/dev/stdout` leads to when the shell redirected it to a file.
        let link = PathBuf::from(format!("/proc/self/fd/{}", open.as_raw_fd()));
        assert_eq!(
            Destination::resolve(&link).unwrap(),
            Destination::Direct(link.clone())
        );
        write_atomic(&link, b"bumplab wrote this\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "shell wrote this\nbumplab wrote this\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn named_pipes_are_written_in_place_and_a_missing_reader_is_an_error() {
        use std::io::Read;
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = write_atomic(&fifo, b"nobody").unwrap_err().to_string();
        assert!(err.contains("named pipe that nobody reads"), "{err}");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut text = String::new();
                // Opening for reading blocks until the writer opens, then reads to its close.
                File::open(&fifo)
                    .unwrap()
                    .read_to_string(&mut text)
                    .unwrap();
                text
            })
        };
        // The reader may not have opened yet: retry until it has.
        let mut written = write_atomic(&fifo, b"through the pipe");
        for _ in 0..500 {
            if written.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            written = write_atomic(&fifo, b"through the pipe");
        }
        written.unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "the pipe is still a pipe");
        assert_eq!(names(dir.path()), ["pipe"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temporary_files_of_dead_processes_are_cleaned_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let owner = &Owner::current().tag;
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = format!(".ev.parquet.{owner}.{dead}.0.{TEMP_SUFFIX}");
        let live = format!(".ev.parquet.{owner}.1.0.{TEMP_SUFFIX}");
        let other_host = format!(".ev.parquet.elsewhere-1.{dead}.0.{TEMP_SUFFIX}");
        for name in [&stale, &live, &other_host] {
            std::fs::write(dir.path().join(name), "partial").unwrap();
        }
        assert_eq!(stale_pid(&stale, owner), Some(dead));
        assert_eq!(stale_pid("ev.parquet", owner), None);
        write_atomic(&dir.path().join("ev.parquet"), b"done").unwrap();
        let mut want = vec!["ev.parquet".to_string(), live, other_host];
        want.sort();
        assert_eq!(names(dir.path()), want);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_writer_killed_midway_leaves_the_old_file_and_a_temporary_the_next_write_removes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ev.parquet");
        // Not with write_atomic: this process's first write there must come after the child.
        std::fs::write(&path, "old").unwrap();
        killed::write_killed_midway(
            "fsutil::tests::a_writer_killed_midway_leaves_the_old_file_and_a_temporary_the_next_write_removes",
            dir.path(),
            |dir| write_atomic(&dir.join("ev.parquet"), &vec![7u8; 1 << 20]).unwrap(),
        );
        let left = names(dir.path());
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left.iter().any(|n| n.ends_with(TEMP_SUFFIX)), "{left:?}");
        // The first write of this process into the directory removes the dead one's file.
        write_atomic(&dir.path().join("other.csv"), b"x").unwrap();
        assert_eq!(names(dir.path()), ["ev.parquet", "other.csv"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }

    #[test]
    fn long_names_get_a_temporary_name_the_file_system_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let name = "é".repeat(120); // 240 bytes
        let path = dir.path().join(&name);
        write_atomic(&path, b"x").unwrap();
        assert_eq!(names(dir.path()), [name]);
    }
}
