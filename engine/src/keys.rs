//! The key store: one 32-byte key per subject (a practitioner, or a
//! request's own notes), one file each, in a folder outside the log and
//! outside sled (DESIGN.md section 9: a log-structured store keeps deleted
//! values in old segments, so a key there could never really be destroyed).
//! Sealing is XChaCha20-Poly1305 with a random nonce and the subject as
//! associated data. Erasure removes the key file and syncs the folder:
//! every sealed value of that subject is then unreadable for good, while the
//! log, its hash chain and its exports stay whole.
//!
//! It knows nothing of events or rules; the domain sees it as a `Sealer`.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bridges_schemas::vocab::{Sealed, is_subject_token};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::domain::Sealer;

/// Keys of one engine, in `dir` (one file `<subject>.key` each).
#[derive(Debug)]
pub struct KeyStore {
    dir: PathBuf,
    /// Keys read so far; an erased subject is removed (and its file gone).
    cache: Mutex<HashMap<String, Option<[u8; 32]>>>,
}

impl KeyStore {
    /// Opens (creating) the key folder. It should be backed up apart from the log.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<KeyStore> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        }
        Ok(KeyStore { dir, cache: Mutex::new(HashMap::new()) })
    }

    /// The folder the keys live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes sure `subject` has a key (a new random one, durably written).
    pub fn ensure(&self, subject: &str) -> io::Result<()> {
        if self.key(subject)?.is_some() {
            return Ok(());
        }
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let path = self.path(subject)?;
        let tmp = path.with_extension("key.tmp");
        {
            let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(fs::Permissions::from_mode(0o600))?;
            }
            f.write_all(key.as_slice())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()?;
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(key.as_slice());
        self.lock().insert(subject.to_owned(), Some(bytes));
        Ok(())
    }

    /// Destroys `subject`'s key: removes its file and syncs the folder.
    /// True if there was one.
    pub fn erase(&self, subject: &str) -> io::Result<bool> {
        let path = self.path(subject)?;
        let existed = match fs::remove_file(&path) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(e),
        };
        File::open(&self.dir)?.sync_all()?;
        self.lock().insert(subject.to_owned(), None);
        Ok(existed)
    }

    /// Whether `subject` has a key.
    pub fn has(&self, subject: &str) -> bool {
        self.key(subject).ok().flatten().is_some()
    }

    /// Opens a sealed value as text; `None` when its key is gone.
    pub fn open_text(&self, sealed: &Sealed) -> Option<String> {
        self.unseal(sealed).and_then(|b| String::from_utf8(b).ok())
    }

    fn key(&self, subject: &str) -> io::Result<Option<[u8; 32]>> {
        if let Some(k) = self.lock().get(subject) {
            return Ok(*k);
        }
        let key = match fs::read(self.path(subject)?) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut k = [0u8; 32];
                k.copy_from_slice(&bytes);
                Some(k)
            }
            Ok(bytes) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("key file of {subject} has {} bytes, not 32", bytes.len()),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        self.lock().insert(subject.to_owned(), key);
        Ok(key)
    }

    fn path(&self, subject: &str) -> io::Result<PathBuf> {
        if !is_subject_token(subject) && !subject.starts_with("request-") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad key subject {subject:?}"),
            ));
        }
        if subject.contains('/') || subject.contains("..") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad key subject {subject:?}"),
            ));
        }
        Ok(self.dir.join(format!("{subject}.key")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<[u8; 32]>>> {
        // A panic while holding the cache cannot leave it inconsistent (it
        // only caches file contents), so a poisoned lock is still usable.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Copies the key files of the store in `from` into a new folder `to`
/// (for a backup beside a log export, or a restore beside an imported
/// log), whole or not at all: into a temporary folder first, each file
/// synced, then renamed into place. `to` may already hold a previous copy
/// (key files only), which is replaced; anything else there is refused.
/// Gives the number of keys copied. A key erased while it copies is either
/// in the copy or not, as the erasure fell.
pub fn copy_folder(from: &Path, to: &Path) -> io::Result<usize> {
    if let Ok(entries) = fs::read_dir(to) {
        for entry in entries {
            let name = entry?.file_name();
            if !name.to_string_lossy().ends_with(".key") {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} holds {name:?}, which is not a key file", to.display()),
                ));
            }
        }
    }
    let mut tmp = to.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o700))?;
    }
    let mut copied = 0;
    let entries = match fs::read_dir(from) {
        Ok(entries) => entries.collect::<Result<Vec<_>, _>>()?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry.file_name();
        if !name.to_string_lossy().ends_with(".key") {
            continue;
        }
        let bytes = match fs::read(entry.path()) {
            Ok(bytes) => bytes,
            // Erased since the folder was listed.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mut f = OpenOptions::new().write(true).create_new(true).open(tmp.join(&name))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(&bytes)?;
        f.sync_all()?;
        copied += 1;
    }
    File::open(&tmp)?.sync_all()?;
    if to.exists() {
        fs::remove_dir_all(to)?;
    }
    fs::rename(&tmp, to)?;
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)?.sync_all()?;
    }
    Ok(copied)
}

impl Sealer for KeyStore {
    fn seal(&self, subject: &str, plain: &[u8]) -> Option<Sealed> {
        let key = self.key(subject).ok()??;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&key));
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let data = cipher.encrypt(&nonce, Payload { msg: plain, aad: subject.as_bytes() }).ok()?;
        Some(Sealed {
            key: subject.to_owned(),
            nonce: BASE64.encode(nonce.as_slice()),
            data: BASE64.encode(data),
        })
    }

    fn unseal(&self, sealed: &Sealed) -> Option<Vec<u8>> {
        let key = self.key(&sealed.key).ok()??;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&key));
        let nonce = BASE64.decode(&sealed.nonce).ok()?;
        if nonce.len() != 24 {
            return None;
        }
        let data = BASE64.decode(&sealed.data).ok()?;
        cipher
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &data, aad: sealed.key.as_bytes() })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_until_its_key_is_erased() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = KeyStore::open(dir.path().join("keys")).expect("open");
        assert!(keys.seal("sle-1", b"Jane Doe").is_none(), "no key yet, nothing sealed");
        keys.ensure("sle-1").expect("key");
        let sealed = keys.seal("sle-1", b"Jane Doe").expect("sealed");
        assert!(!sealed.data.contains("Jane"));
        assert_eq!(keys.open_text(&sealed).as_deref(), Some("Jane Doe"));
        // A sealed value moved to another subject does not open (associated data).
        let moved = Sealed { key: "sle-2".into(), ..sealed.clone() };
        keys.ensure("sle-2").expect("key");
        assert_eq!(keys.unseal(&moved), None);
        // A fresh store over the same folder reads the key from its file.
        let again = KeyStore::open(dir.path().join("keys")).expect("reopen");
        assert_eq!(again.open_text(&sealed).as_deref(), Some("Jane Doe"));
        assert!(again.erase("sle-1").expect("erase"));
        assert_eq!(again.open_text(&sealed), None);
        assert!(!dir.path().join("keys/sle-1.key").exists());
        let third = KeyStore::open(dir.path().join("keys")).expect("reopen");
        assert_eq!(third.open_text(&sealed), None, "the key is gone from disk too");
    }

    /// Given a store with keys, when its folder is copied (twice over the
    /// same copy), then the copy opens what the store sealed, holds no
    /// erased key, and a folder holding anything else is not replaced.
    #[test]
    fn a_copy_of_the_key_folder_opens_what_the_store_sealed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = KeyStore::open(dir.path().join("keys")).expect("open");
        for s in ["sle-1", "sle-2", "request-req-9"] {
            keys.ensure(s).expect("key");
        }
        let sealed = keys.seal("sle-2", b"Priya Shah").expect("sealed");
        let backup = dir.path().join("export.ndjson-keys");
        assert_eq!(copy_folder(keys.dir(), &backup).expect("copy"), 3);
        keys.erase("sle-1").expect("erase");
        assert_eq!(copy_folder(keys.dir(), &backup).expect("copy again"), 2);
        let copy = KeyStore::open(&backup).expect("open the copy");
        assert_eq!(copy.open_text(&sealed).as_deref(), Some("Priya Shah"));
        assert!(!copy.has("sle-1") && copy.has("request-req-9"));
        let other = dir.path().join("other");
        fs::create_dir_all(&other).expect("dir");
        fs::write(other.join("notes.txt"), "mine").expect("write");
        let refused = copy_folder(keys.dir(), &other).expect_err("not a key folder");
        assert!(refused.to_string().contains("notes.txt"), "{refused}");
        assert!(other.join("notes.txt").exists());
    }
}
