//! Store URLs: a plain path or `file://…` for a local folder, `s3://bucket/prefix?…` for S3.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::naming::printable;

pub const DEFAULT_STORE: &str = "./backups";

/// Where backups live, parsed and validated; holds no secrets (credentials come from the
/// standard AWS chain, never from the URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Local(PathBuf),
    S3(S3Location),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct S3Location {
    pub bucket: String,
    /// Key prefix without leading or trailing slashes; may be empty.
    pub prefix: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub path_style: bool,
    pub sse: Option<ServerSideEncryption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSideEncryption {
    Aes256,
    Kms { key_id: Option<String> },
}

const S3_PARAMS: &str = "region, endpoint, path_style, sse, kms_key_id";

impl StoreLocation {
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::invalid(
                "the store is empty: give a folder (./backups) or s3://bucket/prefix",
            ));
        }
        if let Some(rest) = text.strip_prefix("file://") {
            if rest.is_empty() {
                return Err(Error::invalid(
                    "file:// needs a path, e.g. file:///var/backups/backstage",
                ));
            }
            if rest.chars().any(char::is_control) {
                return Err(Error::invalid("the store path contains control characters"));
            }
            return Ok(StoreLocation::Local(PathBuf::from(rest)));
        }
        if text.starts_with("s3://") {
            return parse_s3(text).map(StoreLocation::S3);
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(Error::invalid(format!(
                "unsupported store scheme '{}://': use a folder path, file://PATH or s3://bucket/prefix",
                printable(scheme)
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(Error::invalid("the store path contains control characters"));
        }
        Ok(StoreLocation::Local(PathBuf::from(text)))
    }

    /// A description safe for logs and messages.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Local(path) => path.display().to_string(),
            StoreLocation::S3(s3) => {
                let mut out = format!("s3://{}", s3.bucket);
                if !s3.prefix.is_empty() {
                    out.push('/');
                    out.push_str(&s3.prefix);
                }
                if let Some(endpoint) = &s3.endpoint {
                    out.push_str(&format!(" (endpoint {endpoint})"));
                }
                out
            }
        }
    }
}

fn parse_s3(text: &str) -> Result<S3Location> {
    // The URL parser resolves dot segments silently; refuse them before it sees them.
    let raw_path = text["s3://".len()..].split('?').next().unwrap_or("");
    if raw_path
        .split('/')
        .skip(1)
        .any(|seg| seg == ".." || seg == ".")
    {
        return Err(Error::invalid(format!(
            "the S3 prefix in '{}' has '.' or '..' segments",
            printable(raw_path)
        )));
    }
    let url = url::Url::parse(text)
        .map_err(|e| Error::invalid(format!("store URL is not a valid s3:// URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "the s3:// URL carries credentials: remove them and use AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an IAM role instead",
        ));
    }
    let bucket = url.host_str().unwrap_or_default().to_string();
    validate_bucket(&bucket)?;
    if url.port().is_some() {
        return Err(Error::invalid(
            "an s3:// URL has no port: put a custom server in ?endpoint=http://host:port",
        ));
    }
    let prefix = url.path().trim_matches('/').to_string();
    if prefix.split('/').any(|seg| seg == ".." || seg == ".") || prefix.contains("//") {
        return Err(Error::invalid(format!(
            "the S3 prefix '{}' has empty, '.' or '..' segments",
            printable(&prefix)
        )));
    }
    // Decoding can make separators (`%2F`) and so new empty, '.' or '..' segments: check again.
    let prefix = percent_decode(&prefix)?;
    if !prefix.is_empty() && prefix.split('/').any(|seg| matches!(seg, "" | "." | "..")) {
        return Err(Error::invalid(format!(
            "the S3 prefix '{}' has empty, '.' or '..' segments",
            printable(&prefix)
        )));
    }
    let mut loc = S3Location {
        bucket,
        prefix,
        ..Default::default()
    };
    let mut kms_key_id = None;
    let mut sse = None;
    for (name, value) in url.query_pairs() {
        let value = value.to_string();
        if value.chars().any(char::is_control) {
            return Err(Error::invalid(format!(
                "the s3:// URL parameter '{}' contains control characters",
                printable(&name)
            )));
        }
        match name.as_ref() {
            "region" => loc.region = Some(non_empty(&name, value)?),
            "endpoint" => {
                let endpoint = non_empty(&name, value)?;
                let parsed = url::Url::parse(&endpoint).map_err(|e| {
                    Error::invalid(format!(
                        "endpoint '{}' is not a URL: {e}",
                        printable(&endpoint)
                    ))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(Error::invalid(format!(
                        "endpoint '{}' must be an http:// or https:// URL",
                        printable(&endpoint)
                    )));
                }
                if !parsed.username().is_empty() || parsed.password().is_some() {
                    return Err(Error::invalid(
                        "the endpoint URL must not carry credentials",
                    ));
                }
                loc.endpoint = Some(endpoint.trim_end_matches('/').to_string());
            }
            "path_style" => {
                loc.path_style = match value.as_str() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    other => {
                        return Err(Error::invalid(format!(
                            "path_style must be true or false, not '{}'",
                            printable(other)
                        )))
                    }
                }
            }
            "sse" => sse = Some(value),
            "kms_key_id" => kms_key_id = Some(non_empty(&name, value)?),
            other => {
                return Err(Error::invalid(format!(
                    "unknown s3:// URL parameter '{}': known ones are {S3_PARAMS}",
                    printable(other)
                )))
            }
        }
    }
    loc.sse = match (sse.as_deref(), kms_key_id) {
        (None, None) => None,
        (Some("AES256") | Some("aes256"), None) => Some(ServerSideEncryption::Aes256),
        (Some("aws:kms"), key_id) => Some(ServerSideEncryption::Kms { key_id }),
        (None, Some(key_id)) => Some(ServerSideEncryption::Kms {
            key_id: Some(key_id),
        }),
        (Some("AES256") | Some("aes256"), Some(_)) => {
            return Err(Error::invalid(
                "kms_key_id goes with sse=aws:kms, not sse=AES256",
            ))
        }
        (Some(other), _) => {
            return Err(Error::invalid(format!(
                "sse must be AES256 or aws:kms, not '{}'",
                printable(other)
            )))
        }
    };
    Ok(loc)
}

fn non_empty(name: &str, value: String) -> Result<String> {
    if value.trim().is_empty() {
        Err(Error::invalid(format!(
            "the s3:// URL parameter {name} is empty"
        )))
    } else {
        Ok(value)
    }
}

fn percent_decode(text: &str) -> Result<String> {
    let bytes: Vec<u8> =
        // As a form value: keep '+' and '&' literal, so only %XX escapes are decoded.
        url::form_urlencoded::parse(
            format!("x={}", text.replace('+', "%2B").replace('&', "%26")).as_bytes(),
        )
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())
            .unwrap_or_default();
    let decoded =
        String::from_utf8(bytes).map_err(|_| Error::invalid("the S3 prefix is not UTF-8"))?;
    if decoded.chars().any(char::is_control) {
        return Err(Error::invalid("the S3 prefix contains control characters"));
    }
    Ok(decoded)
}

fn validate_bucket(bucket: &str) -> Result<()> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && bucket.as_bytes()[0].is_ascii_alphanumeric()
        && bucket.as_bytes()[bucket.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{}' is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, dashes)",
            printable(bucket)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_forms() {
        assert_eq!(
            StoreLocation::parse("./backups").unwrap(),
            StoreLocation::Local("./backups".into())
        );
        assert_eq!(
            StoreLocation::parse("file:///var/b").unwrap(),
            StoreLocation::Local("/var/b".into())
        );
    }

    #[test]
    fn s3_with_every_parameter() {
        let loc = StoreLocation::parse(
            "s3://my-bucket/backstage/prod/?region=eu-west-1&endpoint=http://127.0.0.1:9000&path_style=true&sse=aws:kms&kms_key_id=alias/backups",
        )
        .unwrap();
        let StoreLocation::S3(s3) = loc else { panic!() };
        assert_eq!(s3.bucket, "my-bucket");
        assert_eq!(s3.prefix, "backstage/prod");
        assert_eq!(s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s3.path_style);
        assert_eq!(
            s3.sse,
            Some(ServerSideEncryption::Kms {
                key_id: Some("alias/backups".into())
            })
        );
    }

    #[test]
    fn bad_urls_get_clear_errors() {
        for (url, says) in [
            ("gs://bucket", "unsupported store scheme"),
            ("s3://AKIA:secret@bucket/x", "carries credentials"),
            ("s3://Bad_Bucket/x", "not a valid S3 bucket name"),
            ("s3://bucket/x?colour=red", "unknown s3:// URL parameter"),
            ("s3://bucket/x?sse=rot13", "sse must be AES256 or aws:kms"),
            ("s3://bucket/../x", "'..' segments"),
            ("s3://bucket/x?endpoint=ftp://h", "http:// or https://"),
            ("s3://bucket:9000/x", "has no port"),
            ("", "store is empty"),
            ("s3://", "bucket name"),
        ] {
            let err = StoreLocation::parse(url).unwrap_err();
            assert!(err.message().contains(says), "{url}: {err}");
            assert!(!err.message().contains("secret"), "{url}: {err}");
        }
    }
}
