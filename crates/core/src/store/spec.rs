//! A store as the engines' callers give it: a folder or URL (`./backups`,
//! `s3://bucket/prefix?region=…`), or the Backstage plugin's `backup.store` object
//! (`{url, region?, endpoint?, forcePathStyle?, sse?, kmsKeyId?, credentials?}`) passed as
//! configured. Read here, once, for both engines: the plugin composes no URL for the engine to
//! parse back.

use serde::Deserialize;
use serde_json::Value;

use super::S3Credentials;
use crate::error::{Error, Result};
use crate::location::StoreLocation;
use crate::naming::printable;

/// Where the store is, and the S3 credentials to use instead of the AWS chain, if given.
#[derive(Debug, Clone)]
pub struct StoreSpec {
    pub location: StoreLocation,
    pub credentials: Option<S3Credentials>,
}

const STORE_SHAPE: &str = "the store is a folder, an s3://bucket/prefix URL, or {url, region?, \
    endpoint?, forcePathStyle?, sse?, kmsKeyId?, credentials?}";

/// What S3 credentials must look like; the one wording of a wrong shape (it never echoes a value).
pub const CREDENTIALS_SHAPE: &str =
    "s3Credentials must be {accessKeyId, secretAccessKey, sessionToken?}, each a non-empty string";

/// The store as an object (the Backstage plugin's `backup.store`); the S3 settings are the
/// s3:// URL's parameters, said as fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
pub struct StoreObject {
    /// A folder, file://PATH or s3://bucket/prefix (parameters allowed).
    url: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    force_path_style: Option<bool>,
    #[serde(default)]
    sse: Option<String>,
    #[serde(default)]
    kms_key_id: Option<String>,
    /// S3 credentials instead of the standard AWS chain. Never logged or echoed in errors.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<S3CredentialsObject>"))]
    credentials: Option<Value>,
}

/// S3 credentials as the engines take them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
pub struct S3CredentialsObject {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    session_token: Option<String>,
}

impl S3Credentials {
    /// `{accessKeyId, secretAccessKey, sessionToken?}`; a wrong shape is named, a value never
    /// echoed (it may be the secret).
    pub fn from_json(value: &Value) -> Result<S3Credentials> {
        let fields: S3CredentialsObject =
            serde_json::from_value(value.clone()).map_err(|_| Error::invalid(CREDENTIALS_SHAPE))?;
        let given = |text: &str| !text.is_empty();
        if !given(&fields.access_key_id)
            || !given(&fields.secret_access_key)
            || fields.session_token.as_deref().is_some_and(|t| !given(t))
        {
            return Err(Error::invalid(CREDENTIALS_SHAPE));
        }
        Ok(S3Credentials {
            access_key_id: fields.access_key_id,
            secret_access_key: fields.secret_access_key,
            session_token: fields.session_token,
        })
    }
}

/// A JSON null stands for "not given", as JS's `undefined` does.
fn given(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

impl StoreSpec {
    /// `store` as the caller gave it; `credentials`: the engine's `s3Credentials` option.
    pub fn from_json(store: &Value, credentials: Option<&Value>) -> Result<StoreSpec> {
        let (location, in_store) = match store {
            Value::String(text) => (StoreLocation::parse(text)?, None),
            Value::Object(_) => {
                let fields: StoreObject = serde_json::from_value(store.clone()).map_err(|e| {
                    Error::invalid(format!("{STORE_SHAPE}: {}", printable(&e.to_string())))
                })?;
                let mut options = Vec::new();
                let mut add = |name: &'static str, value: Option<String>| {
                    if let Some(value) = value {
                        options.push((name, value));
                    }
                };
                add("region", fields.region);
                add("endpoint", fields.endpoint);
                add("path_style", fields.force_path_style.map(|b| b.to_string()));
                add("sse", fields.sse);
                add("kms_key_id", fields.kms_key_id);
                let location = StoreLocation::parse_with_s3_options(&fields.url, options)?;
                (location, fields.credentials.filter(|c| !c.is_null()))
            }
            _ => return Err(Error::invalid(STORE_SHAPE)),
        };
        let credentials = match (in_store, given(credentials)) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "S3 credentials are given twice, in the store's credentials and as \
                     s3Credentials: give them once",
                ))
            }
            (Some(c), None) => Some(S3Credentials::from_json(&c)?),
            (None, Some(c)) => Some(S3Credentials::from_json(c)?),
            (None, None) => None,
        };
        if credentials.is_some() && matches!(location, StoreLocation::Local(_)) {
            return Err(Error::invalid(
                "S3 credentials are for an s3:// store; this store is a folder",
            ));
        }
        Ok(StoreSpec {
            location,
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::location::{S3Location, ServerSideEncryption};
    use serde_json::json;

    fn s3(spec: &StoreSpec) -> &S3Location {
        match &spec.location {
            StoreLocation::S3(s3) => s3,
            other => panic!("not S3: {other:?}"),
        }
    }

    #[test]
    fn the_plugins_store_object_reads_as_the_url_would() {
        let object = StoreSpec::from_json(
            &json!({"url": "s3://bucket/prefix", "region": "eu-west-1", "forcePathStyle": true,
                    "sse": "aws:kms", "kmsKeyId": "key-1",
                    "credentials": {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "secret"}}),
            None,
        )
        .unwrap();
        let url = StoreSpec::from_json(
            &json!(
                "s3://bucket/prefix?region=eu-west-1&path_style=true&sse=aws:kms&kms_key_id=key-1"
            ),
            None,
        )
        .unwrap();
        assert_eq!(object.location, url.location);
        assert_eq!(
            s3(&object).sse,
            Some(ServerSideEncryption::Kms {
                key_id: Some("key-1".into())
            })
        );
        assert_eq!(object.credentials.unwrap().access_key_id, "AKIAEXAMPLE");
        assert!(url.credentials.is_none());
    }

    #[test]
    fn a_folder_is_a_string_or_an_object_without_s3_settings() {
        for store in [json!("./backups"), json!({"url": "./backups"})] {
            let spec = StoreSpec::from_json(&store, None).unwrap();
            assert_eq!(spec.location, StoreLocation::Local("./backups".into()));
        }
        let err =
            StoreSpec::from_json(&json!({"url": "./backups", "region": "x"}), None).unwrap_err();
        assert!(
            err.message().contains("go with an s3://bucket/prefix URL"),
            "{err}"
        );
    }

    #[test]
    fn wrong_stores_and_credentials_are_named_never_echoed() {
        let secret = "s3cr3t-value";
        let cases = [
            (json!(5), None),
            (json!({"url": "s3://bucket/p", "regoin": "x"}), None),
            (
                json!({"url": "s3://bucket/p", "credentials": {"accessKeyId": "a"}}),
                None,
            ),
            (
                json!({"url": "s3://bucket/p", "credentials": {"accessKeyId": "a", "secretAccessKey": secret, "extra": 1}}),
                None,
            ),
            (
                json!("s3://bucket/p"),
                Some(json!({"accessKeyId": "a", "secretAccessKey": 7})),
            ),
            (
                json!("s3://bucket/p"),
                Some(json!({"accessKeyId": "", "secretAccessKey": secret})),
            ),
            (
                json!("./backups"),
                Some(json!({"accessKeyId": "a", "secretAccessKey": secret})),
            ),
            (
                json!({"url": "s3://bucket/p", "credentials": {"accessKeyId": "a", "secretAccessKey": secret}}),
                Some(json!({"accessKeyId": "a", "secretAccessKey": secret})),
            ),
        ];
        for (store, credentials) in cases {
            let err = StoreSpec::from_json(&store, credentials.as_ref()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{store}: {err}");
            assert!(!err.message().contains(secret), "{err}");
        }
        let unknown = StoreSpec::from_json(&json!({"url": "s3://bucket/p", "regoin": "x"}), None)
            .unwrap_err();
        assert!(unknown.message().contains("regoin"), "{unknown}");
    }

    #[test]
    fn null_credentials_are_none() {
        let spec = StoreSpec::from_json(
            &json!({"url": "s3://bucket/p", "credentials": null}),
            Some(&Value::Null),
        )
        .unwrap();
        assert!(spec.credentials.is_none());
    }
}
