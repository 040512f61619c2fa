//! Store URLs: a plain path or a `file:` URL (RFC 8089) for a local folder, `s3://bucket/prefix?…`
//! for S3. Pure, so both engines read store URLs with this one parser.

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

/// Serialised camelCase (`pathStyle`): the WebAssembly engine's glue makes its S3 client from it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Location {
    pub bucket: String,
    /// Key prefix without leading or trailing slashes; may be empty.
    pub prefix: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub path_style: bool,
    pub sse: Option<ServerSideEncryption>,
}

/// Serialised `{kind: 'AES256'}` or `{kind: 'aws:kms', keyId}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
pub enum ServerSideEncryption {
    #[serde(rename = "AES256")]
    Aes256,
    #[serde(rename = "aws:kms", rename_all = "camelCase")]
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
        // `get`: the fifth byte may fall inside a multi-byte character.
        if text
            .get(..5)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:"))
        {
            return parse_file_url(text).map(StoreLocation::Local);
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

    /// As `parse`, with S3 settings given beside the URL (`("region", …)`, the URL parameters'
    /// names) read as if they were in its query: one grammar for both ways of saying them.
    pub fn parse_with_s3_options(text: &str, options: Vec<(&'static str, String)>) -> Result<Self> {
        if options.is_empty() {
            return Self::parse(text);
        }
        match Self::parse(text)? {
            StoreLocation::S3(_) => parse_s3_with(text.trim(), options).map(StoreLocation::S3),
            StoreLocation::Local(_) => Err(Error::invalid(
                "S3 settings (region, endpoint, forcePathStyle, sse, kmsKeyId) go with an \
                 s3://bucket/prefix URL; a folder store has none",
            )),
        }
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

/// Says which field is wrong and never what it holds: the text may be a secret key.
const S3_URL_CREDENTIALS: &str = "the s3:// URL carries credentials (key:password@ before the \
    bucket): remove them and use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an \
    IAM role instead";
const ENDPOINT_CREDENTIALS: &str = "the endpoint URL carries credentials (key:password@ before \
    the host): remove them and give credentials the AWS way (AWS_ACCESS_KEY_ID and \
    AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an IAM role)";

/// Whether a `scheme://authority/…` text has userinfo (`…@`) in its authority. Checked before
/// anything else reads the text, so no other message can echo a secret given there.
fn has_userinfo(text: &str) -> bool {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    authority.contains('@') || authority.contains("%40")
}

/// A `file:` URL as RFC 8089 reads it: `file:///abs`, `file://localhost/abs` or `file:/abs`,
/// with `%XX` decoded. Other hosts and relative paths are refused.
fn parse_file_url(text: &str) -> Result<PathBuf> {
    if text.chars().any(char::is_control) {
        return Err(Error::invalid("the store path contains control characters"));
    }
    let rest = &text[5..];
    let path = match rest.strip_prefix("//") {
        Some(after) => {
            let (host, path) = match after.find('/') {
                Some(i) => after.split_at(i),
                None => (after, ""),
            };
            if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                return Err(Error::invalid(if path.is_empty() {
                    "a file: URL names an absolute path: file:///var/backups/backstage (three \
                     slashes), or give a relative folder without file:"
                } else {
                    "a file: URL with a host other than localhost names a remote machine, \
                     which is not supported: use file:///path (three slashes) for this machine"
                }));
            }
            path
        }
        None => rest,
    };
    if !path.starts_with('/') {
        return Err(Error::invalid(
            "a file: URL names an absolute path: file:///var/backups/backstage (three \
             slashes), or give a relative folder without file:",
        ));
    }
    if path.contains(['?', '#']) {
        return Err(Error::invalid(
            "a file: URL has no query or fragment: write '?' as %3F and '#' as %23",
        ));
    }
    let mut bytes = Vec::with_capacity(path.len());
    let raw = path.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let byte = raw
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| {
                    Error::invalid("the file: URL has a '%' that is not followed by two hex digits")
                })?;
            bytes.push(byte);
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    if bytes.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(Error::invalid("the store path contains control characters"));
    }
    let decoded = String::from_utf8(bytes)
        .map_err(|_| Error::invalid("the file: URL's path is not UTF-8 once %XX is decoded"))?;
    Ok(PathBuf::from(decoded))
}

fn parse_s3(text: &str) -> Result<S3Location> {
    parse_s3_with(text, Vec::new())
}

/// An s3:// URL, with `extra` parameters after those of its query.
fn parse_s3_with(text: &str, extra: Vec<(&'static str, String)>) -> Result<S3Location> {
    if has_userinfo(text) {
        return Err(Error::invalid(S3_URL_CREDENTIALS));
    }
    // The URL parser resolves dot segments silently; refuse them before it sees them.
    let raw_path = text["s3://".len()..].split('?').next().unwrap_or("");
    let segments = raw_path.split('/').skip(1);
    if segments.clone().any(|seg| seg == ".." || seg == ".") {
        let prefix: Vec<&str> = segments.collect();
        return Err(Error::invalid(format!(
            "the S3 prefix '{}' has '.' or '..' segments",
            printable(&prefix.join("/"))
        )));
    }
    let url = url::Url::parse(text)
        .map_err(|e| Error::invalid(format!("store URL is not a valid s3:// URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(S3_URL_CREDENTIALS));
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
    let pairs = url
        .query_pairs()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .chain(
            extra
                .into_iter()
                .map(|(name, value)| (name.to_string(), value)),
        );
    for (name, value) in pairs {
        if value.chars().any(char::is_control) {
            return Err(Error::invalid(format!(
                "the s3:// URL parameter '{}' contains control characters",
                printable(&name)
            )));
        }
        match name.as_str() {
            "region" => loc.region = Some(non_empty(&name, value)?),
            "endpoint" => {
                let endpoint = non_empty(&name, value)?;
                if has_userinfo(&endpoint) {
                    return Err(Error::invalid(ENDPOINT_CREDENTIALS));
                }
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
                    return Err(Error::invalid(ENDPOINT_CREDENTIALS));
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
        for (url, path) in [
            ("file:///var/b", "/var/b"),
            ("file://localhost/var/b", "/var/b"),
            ("FILE://LocalHost/var/b", "/var/b"),
            ("file:/var/b", "/var/b"),
            ("file:///var/back%20ups/%C3%A9t%C3%A9", "/var/back ups/été"),
            ("file:///var/a%2Fb", "/var/a/b"),
        ] {
            assert_eq!(
                StoreLocation::parse(url).unwrap(),
                StoreLocation::Local(path.into()),
                "{url}"
            );
        }
    }

    #[test]
    fn file_urls_other_than_rfc_8089_local_ones_are_refused() {
        for (url, says) in [
            ("file://backups", "absolute path"),
            ("file:backups", "absolute path"),
            ("file://", "absolute path"),
            ("file://server/share", "remote machine"),
            ("file:///var/b%zz", "two hex digits"),
            ("file:///var/b%", "two hex digits"),
            ("file:///var/b%00x", "control characters"),
            ("file:///var/b%1b[2J", "control characters"),
            ("file:///var/b%ff", "not UTF-8"),
            ("file:///var/b?x=1", "no query"),
            ("file:///var/b#top", "no query"),
        ] {
            let err = StoreLocation::parse(url).unwrap_err();
            assert!(err.message().contains(says), "{url}: {err}");
        }
    }

    #[test]
    fn credentials_in_a_url_are_never_echoed_whatever_else_is_wrong() {
        let secret = "wJalrXUtnFEMIbPxRfiCYzEXAMPLEKEY";
        for url in [
            format!("s3://AKIAEXAMPLE:{secret}@bucket/x"),
            format!("s3://AKIAEXAMPLE:{secret}@bucket/../p"),
            format!("s3://AKIAEXAMPLE:{secret}@bucket/./p?colour=red"),
            format!("s3://AKIAEXAMPLE:{secret}@Bad_Bucket:99/p"),
            format!("s3://{secret}@bucket"),
            format!("s3://AKIAEXAMPLE:{secret}%40x@bucket/p"),
            format!("s3://bucket/p?endpoint=http://AKIAEXAMPLE:{secret}@h:9000/"),
            format!("s3://bucket/p?endpoint=ftp://AKIAEXAMPLE:{secret}@h"),
            format!("s3://bucket/p?endpoint=AKIAEXAMPLE:{secret}@h"),
            format!("s3://bucket/p?endpoint=http://u:{secret}@[::1"),
        ] {
            let err = StoreLocation::parse(&url).unwrap_err();
            assert!(err.message().contains("credentials"), "{url}: {err}");
            assert!(!err.message().contains(secret), "{url}: {err}");
            assert!(!err.message().contains("AKIAEXAMPLE"), "{url}: {err}");
        }
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
