//! Signed backups: the manifest (which holds the data's SHA-256) carries an Ed25519 signature
//! over all its other fields, so a store that anyone else can write to cannot hand a restore a
//! backup the key's holder did not make. Keys are the PEM files OpenSSL writes
//! (`openssl genpkey -algorithm ed25519`: PKCS#8 private key; `openssl pkey -pubout`: SPKI
//! public key) or `backstage-backup keygen`'s. A private key signs and checks; a public key checks.
//!
//! What is signed: a fixed context line, then the manifest without its `signature`, as compact
//! JSON with every object's keys sorted. Both engines sign and check through this module.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::listing::BackupEntry;
use crate::manifest::Manifest;

pub const ALGORITHM: &str = "ed25519";
/// Domain separation: these bytes sign a manifest and nothing else.
const CONTEXT: &[u8] = b"backstage-backup manifest signature v1\n";
/// A PEM key file is well under 1 KiB; anything far larger is not one.
pub const MAX_KEY_BYTES: usize = 16 * 1024;

/// The `signature` member of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct ManifestSignature {
    pub algorithm: String,
    /// First 8 bytes of the SHA-256 of the public key, in hex: which key signed, for messages.
    pub key_id: String,
    /// The 64-byte Ed25519 signature, in hex.
    pub value: String,
}

/// A configured key: a private key (signs and checks) or a public key (checks only).
#[derive(Clone)]
pub struct Key {
    signing: Option<SigningKey>,
    verifying: VerifyingKey,
}

impl std::fmt::Debug for Key {
    // Never the private key, not even in a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("key_id", &self.key_id())
            .field("private", &self.can_sign())
            .finish()
    }
}

impl Key {
    /// Reads a PEM key; `source` names where it came from (a file name, never the key) for errors.
    pub fn from_pem(text: &str, source: &str) -> Result<Key> {
        let source = crate::naming::printable(source);
        let text = text.trim();
        let fix = "use an Ed25519 key in PEM form: `backstage-backup keygen --out FILE` or \
                   `openssl genpkey -algorithm ed25519 -out FILE` (and `openssl pkey -in FILE \
                   -pubout` for the public half)";
        if text.contains("-----BEGIN PRIVATE KEY-----") {
            let signing = SigningKey::from_pkcs8_pem(text).map_err(|_| {
                Error::invalid(format!(
                    "the signing key {source} is not an Ed25519 private key; {fix}"
                ))
            })?;
            return Ok(Key {
                verifying: signing.verifying_key(),
                signing: Some(signing),
            });
        }
        if text.contains("-----BEGIN PUBLIC KEY-----") {
            let verifying = VerifyingKey::from_public_key_pem(text).map_err(|_| {
                Error::invalid(format!(
                    "the signing key {source} is not an Ed25519 public key; {fix}"
                ))
            })?;
            return Ok(Key {
                signing: None,
                verifying,
            });
        }
        Err(Error::invalid(format!(
            "the signing key {source} holds no PEM key (no BEGIN PRIVATE KEY or BEGIN PUBLIC KEY \
             line); {fix}"
        )))
    }

    /// A new key pair from 32 random bytes: (private PEM, public PEM).
    pub fn generate(seed: [u8; 32]) -> Result<(String, String)> {
        let signing = SigningKey::from_bytes(&seed);
        let private = signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::internal(format!("encoding the private key: {e}")))?;
        let public = signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::internal(format!("encoding the public key: {e}")))?;
        Ok((private.to_string(), public))
    }

    pub fn can_sign(&self) -> bool {
        self.signing.is_some()
    }

    pub fn key_id(&self) -> String {
        key_id(&self.verifying)
    }

    /// The public half, as PEM: what restore hosts need.
    pub fn public_pem(&self) -> Result<String> {
        self.verifying
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::internal(format!("encoding the public key: {e}")))
    }

    /// Refuses a public key where a signature must be made.
    pub fn require_private(&self) -> Result<&SigningKey> {
        self.signing.as_ref().ok_or_else(|| {
            Error::invalid(format!(
                "the signing key (id {}) is a public key: it can check backups but not sign \
                 them; give the backup the private key it came from",
                self.key_id()
            ))
        })
    }

    /// Signs `manifest` in place (replacing any signature it had).
    pub fn sign(&self, manifest: &mut Manifest) -> Result<()> {
        let signing = self.require_private()?;
        manifest.signature = None;
        let signature = signing.sign(&signed_bytes(manifest)?);
        manifest.signature = Some(ManifestSignature {
            algorithm: ALGORITHM.to_string(),
            key_id: self.key_id(),
            value: hex::encode(signature.to_bytes()),
        });
        Ok(())
    }

    /// Whether `manifest`'s signature was made by this key over exactly these fields.
    pub fn check(&self, manifest: &Manifest) -> SignatureState {
        let Some(signature) = &manifest.signature else {
            return SignatureState::Unsigned;
        };
        let key_id = crate::naming::printable(&signature.key_id);
        if signature.algorithm != ALGORITHM {
            return SignatureState::Invalid(format!(
                "it is signed with '{}', not {ALGORITHM}",
                crate::naming::printable(&signature.algorithm)
            ));
        }
        let Some(bytes) = hex::decode(&signature.value)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return SignatureState::Invalid("its signature is not 64 bytes of hex".into());
        };
        let mut unsigned = manifest.clone();
        unsigned.signature = None;
        let Ok(message) = signed_bytes(&unsigned) else {
            return SignatureState::Invalid("its fields cannot be put in signed form".into());
        };
        match self
            .verifying
            .verify(&message, &Signature::from_bytes(&bytes))
        {
            Ok(()) => SignatureState::Valid(self.key_id()),
            Err(_) if key_id != self.key_id() => SignatureState::Invalid(format!(
                "it says it was signed by key {key_id}, and the configured key is {}",
                self.key_id()
            )),
            Err(_) => SignatureState::Invalid(
                "its signature does not match its contents: the manifest was changed after it \
                 was signed"
                    .into(),
            ),
        }
    }
}

/// Reads a PEM key file (capped, regular files only).
#[cfg(feature = "runtime")]
pub fn read_key(path: &std::path::Path) -> Result<Key> {
    let shown = crate::naming::printable(&path.display().to_string());
    let text =
        crate::source::app_config::read_text_capped(path, MAX_KEY_BYTES as u64).map_err(|e| {
            Error::invalid(format!(
                "cannot read the signing key {shown}: {e}; give the path of an Ed25519 PEM key \
                 file (`backstage-backup keygen --out FILE` makes one)"
            ))
        })?;
    Key::from_pem(&text, &shown)
}

/// A key from a setting (an environment variable, a config value): PEM text itself, or the path
/// of a PEM file. `name` names the setting in errors; the value is never echoed.
#[cfg(feature = "runtime")]
pub fn key_from_setting(value: &str, name: &str) -> Result<Key> {
    if value.trim_start().starts_with("-----BEGIN") {
        Key::from_pem(value, name)
    } else {
        read_key(std::path::Path::new(value.trim()))
    }
}

fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// The bytes a signature covers: the context line and the canonical JSON of `manifest`.
fn signed_bytes(manifest: &Manifest) -> Result<Vec<u8>> {
    let value = serde_json::to_value(manifest)
        .map_err(|e| Error::internal(format!("manifest to JSON: {e}")))?;
    let mut out = CONTEXT.to_vec();
    write_canonical(&value, &mut out);
    Ok(out)
}

/// Compact JSON with object keys in byte order, whatever order the map keeps them in.
fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(&Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(&map[key], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

/// What a backup's signature says, judged against a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureState {
    /// No signature (a manifest written without a key, or a runbook file with no manifest).
    Unsigned,
    /// Signed, and no key was configured to check it with.
    Unchecked(String),
    /// Signed by the configured key (its id).
    Valid(String),
    /// Signed, but not validly by the configured key: why.
    Invalid(String),
}

/// A backup's signature as `list` reports it, without the detail `SignatureState` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum SignatureStatus {
    Unsigned,
    /// Signed, and no key was configured to check it with.
    Signed,
    Valid,
    Invalid,
}

impl SignatureState {
    pub fn status(&self) -> SignatureStatus {
        match self {
            SignatureState::Unsigned => SignatureStatus::Unsigned,
            SignatureState::Unchecked(_) => SignatureStatus::Signed,
            SignatureState::Valid(_) => SignatureStatus::Valid,
            SignatureState::Invalid(_) => SignatureStatus::Invalid,
        }
    }

    /// `unsigned`, `signed` (not checked), `valid` or `invalid`: for `list --json` and the engines.
    pub fn as_str(&self) -> &'static str {
        match self {
            SignatureState::Unsigned => "unsigned",
            SignatureState::Unchecked(_) => "signed",
            SignatureState::Valid(_) => "valid",
            SignatureState::Invalid(_) => "invalid",
        }
    }
}

/// Which backups may be verified, restored and drilled: with a key, only those it signed (and
/// unsigned ones when `allow_unsigned`); without one, all of them, as before signing existed.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub key: Option<Key>,
    pub allow_unsigned: bool,
}

impl Trust {
    pub fn new(key: Option<Key>, allow_unsigned: bool) -> Trust {
        Trust {
            key,
            allow_unsigned,
        }
    }

    /// Reads the key from PEM text when there is one.
    pub fn from_pem(pem: Option<&str>, source: &str, allow_unsigned: bool) -> Result<Trust> {
        let key = pem.map(|text| Key::from_pem(text, source)).transpose()?;
        Ok(Trust::new(key, allow_unsigned))
    }

    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// The state of `entry`'s signature, including a manifest written for another backup (copied
    /// or renamed in the store: a signature proves what was signed, not where it now lies).
    pub fn state(&self, entry: &BackupEntry) -> SignatureState {
        let Some(manifest) = &entry.manifest else {
            return SignatureState::Unsigned;
        };
        let state = match (&self.key, &manifest.signature) {
            (_, None) => SignatureState::Unsigned,
            (None, Some(signature)) => {
                SignatureState::Unchecked(crate::naming::printable(&signature.key_id))
            }
            (Some(key), Some(_)) => key.check(manifest),
        };
        if let SignatureState::Valid(_) = state {
            if manifest.id != entry.id() || manifest.name != entry.data_key() {
                return SignatureState::Invalid(format!(
                    "its manifest was signed for {}, not for {}: it was copied or renamed in the store",
                    crate::naming::printable(&manifest.id),
                    entry.id()
                ));
            }
        }
        state
    }

    /// Whether `entry` may be used as a good backup under this trust (no error, for lists).
    pub fn accepts(&self, entry: &BackupEntry) -> bool {
        self.admit(entry).is_ok()
    }

    /// Refuses, with the cause and the fix, a backup this trust does not accept; else says what
    /// its signature is.
    pub fn admit(&self, entry: &BackupEntry) -> Result<SignatureState> {
        let state = self.state(entry);
        match (&state, &self.key) {
            (SignatureState::Invalid(why), _) => Err(Error::integrity(format!(
                "{} is refused: {why}; nothing was read from it. Choose another backup \
                 (`backstage-backup list` marks each one's signature), or configure the key it \
                 was signed with",
                entry.id()
            ))),
            (SignatureState::Unsigned, Some(key)) if !self.allow_unsigned => {
                Err(Error::integrity(format!(
                    "{} is not signed, and signing key {} is configured: anyone who can write \
                     to the store could have made it. If you know where it came from (a runbook \
                     file, a backup from before signing was set up), pass --allow-unsigned",
                    entry.id(),
                    key.key_id()
                )))
            }
            _ => Ok(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{BackupEntry, BackupStatus};
    use crate::naming::BackupName;

    const SEED: [u8; 32] = [7; 32];

    fn keys() -> (Key, Key) {
        let (private, public) = Key::generate(SEED).unwrap();
        (
            Key::from_pem(&private, "private.pem").unwrap(),
            Key::from_pem(&public, "public.pem").unwrap(),
        )
    }

    fn manifest() -> Manifest {
        let mut value: serde_json::Value =
            serde_json::from_slice(&crate::manifest::tests::sample().to_json()).unwrap();
        value["futureField"] = serde_json::json!({"b": 1, "a": [1.5, "x"]});
        Manifest::from_json(value.to_string().as_bytes()).unwrap()
    }

    fn entry(manifest: Option<Manifest>) -> BackupEntry {
        BackupEntry {
            name: BackupName::parse_id("backstage-catalog-20261125_020000").unwrap(),
            status: if manifest.is_some() {
                BackupStatus::Complete
            } else {
                BackupStatus::Legacy
            },
            bytes: Some(5),
            manifest,
            has_sidecar: true,
            verified: None,
            drilled: None,
            problem: None,
        }
    }

    #[test]
    fn a_signature_survives_the_store_and_a_public_key_checks_it() {
        let (private, public) = keys();
        assert!(private.can_sign() && !public.can_sign());
        assert_eq!(private.key_id(), public.key_id());
        let mut signed = manifest();
        private.sign(&mut signed).unwrap();
        // Written, read back (field order and indentation may differ), checked.
        let read = Manifest::from_json(&signed.to_json()).unwrap();
        assert_eq!(public.check(&read), SignatureState::Valid(public.key_id()));
        let trust = Trust::new(Some(public), false);
        assert!(trust.admit(&entry(Some(read))).is_ok());
    }

    #[test]
    fn any_changed_field_breaks_the_signature() {
        let (private, public) = keys();
        let mut signed = manifest();
        private.sign(&mut signed).unwrap();
        let text: serde_json::Value = serde_json::from_slice(&signed.to_json()).unwrap();
        let edits: [(&str, serde_json::Value); 6] = [
            ("/compressed/sha256", "c".repeat(64).into()),
            ("/trigger/kind", "safety".into()),
            ("/labels/backstage", "1.46.0".into()),
            ("/created_at", "2099-01-01T00:00:00Z".into()),
            ("/futureField/b", 2.into()),
            ("/entities/component", 4.into()),
        ];
        for (path, new) in edits {
            let mut changed = text.clone();
            *changed.pointer_mut(path).unwrap() = new;
            let read = Manifest::from_json(changed.to_string().as_bytes()).unwrap();
            assert!(
                matches!(public.check(&read), SignatureState::Invalid(_)),
                "{path}"
            );
            let err = Trust::new(Some(public.clone()), true)
                .admit(&entry(Some(read)))
                .unwrap_err();
            assert!(
                err.message().contains("changed after it was signed"),
                "{err}"
            );
        }
    }

    #[test]
    fn another_key_and_garbage_signatures_are_refused_with_the_reason() {
        let (private, _) = keys();
        let (_, other_public) = Key::generate([9; 32])
            .map(|(a, b)| {
                (
                    Key::from_pem(&a, "a").unwrap(),
                    Key::from_pem(&b, "b").unwrap(),
                )
            })
            .unwrap();
        let mut signed = manifest();
        private.sign(&mut signed).unwrap();
        let err = Trust::new(Some(other_public.clone()), false)
            .admit(&entry(Some(signed.clone())))
            .unwrap_err();
        assert!(err.message().contains(&private.key_id()), "{err}");
        assert!(err.message().contains(&other_public.key_id()), "{err}");
        for bad in ["zz", "", &"00".repeat(64)] {
            let mut forged = signed.clone();
            forged.signature.as_mut().unwrap().value = bad.to_string();
            assert!(matches!(private.check(&forged), SignatureState::Invalid(_)));
        }
    }

    #[test]
    fn unsigned_backups_need_allow_unsigned_only_when_a_key_is_configured() {
        let (_, public) = keys();
        for unsigned in [entry(Some(manifest())), entry(None)] {
            assert!(Trust::default().admit(&unsigned).is_ok());
            let err = Trust::new(Some(public.clone()), false)
                .admit(&unsigned)
                .unwrap_err();
            assert!(err.message().contains("--allow-unsigned"), "{err}");
            assert!(Trust::new(Some(public.clone()), true)
                .admit(&unsigned)
                .is_ok());
        }
    }

    #[test]
    fn a_signed_manifest_moved_to_another_name_is_refused() {
        let (private, public) = keys();
        let mut signed = manifest();
        private.sign(&mut signed).unwrap();
        let mut moved = entry(Some(signed));
        moved.name = BackupName::parse_id("backstage-catalog-20991231_000000").unwrap();
        let err = Trust::new(Some(public), false).admit(&moved).unwrap_err();
        assert!(err.message().contains("copied or renamed"), "{err}");
    }

    #[test]
    fn planted_backups_never_take_a_signed_backups_place_in_retention() {
        use crate::retention::{plan_listing, RetentionPolicy};
        let (private, public) = keys();
        let at = |id: &str| {
            let name = BackupName::parse_id(id).unwrap();
            let mut m = manifest();
            m.id = name.id();
            m.name = name.key(crate::naming::Part::Data);
            m.created_at = name.taken_at;
            let mut e = entry(Some(m));
            e.name = name;
            e
        };
        let mut real = at("backstage-catalog-20261125_020000");
        private.sign(real.manifest.as_mut().unwrap()).unwrap();
        let entries = vec![
            at("backstage-catalog-20261127_020000"),
            at("backstage-catalog-20261126_020000"),
            real,
        ];
        let policy = RetentionPolicy {
            keep_last: Some(1),
            ..Default::default()
        };
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let deleted = |trust: &Trust| -> Vec<String> {
            plan_listing(&entries, &policy, now, trust)
                .unwrap()
                .delete
                .iter()
                .map(|e| e.id())
                .collect()
        };
        // Without a key the two newer (planted) backups push the real one out.
        assert!(deleted(&Trust::default()).contains(&"backstage-catalog-20261125_020000".into()));
        // With one, they are counted among themselves: the real backup stays.
        assert_eq!(
            deleted(&Trust::new(Some(public), false)),
            ["backstage-catalog-20261126_020000"]
        );
    }

    #[test]
    fn keys_are_read_from_openssl_pem_and_bad_files_are_named_not_echoed() {
        // `openssl genpkey -algorithm ed25519` output (RFC 8410's example key).
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        assert!(Key::from_pem(openssl, "k.pem").unwrap().can_sign());
        for bad in [
            "secret-value-123",
            "-----BEGIN PRIVATE KEY-----\nsecret-value-123\n-----END PRIVATE KEY-----\n",
        ] {
            let err = Key::from_pem(bad, "k.pem").unwrap_err();
            assert!(err.message().contains("k.pem"), "{err}");
            assert!(!err.message().contains("secret-value"), "{err}");
        }
        let (private, _) = keys();
        assert!(!format!("{private:?}").contains("PRIVATE"));
    }
}
