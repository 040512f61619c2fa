//! `ConnectionInfo::from_url`: never a panic, errors without control characters, user, password
//! and database come out as the URL spells them (percent-decoded), and neither an error nor the
//! redacted form shows the password given in the URL.
#![no_main]

use backstage_backup_core::source::ConnectionInfo;
use backstage_backup_fuzz::check_error;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;

fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let result = ConnectionInfo::from_url(text);
    if let Err(err) = &result {
        check_error(err);
    }

    let Ok(url) = url::Url::parse(text.trim()) else {
        return;
    };
    if let Ok(info) = &result {
        let given = |name: &str| url.query_pairs().any(|(n, _)| n == name);
        let exact = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        if !given("password") {
            let want = url.password().map(exact).filter(|p| !p.is_empty());
            assert!(
                info.password() == want.as_deref(),
                "password {:?} read as {:?}",
                want,
                info.password()
            );
        }
        let user = exact(url.username());
        if !given("user") && !user.is_empty() {
            assert_eq!(info.user, user, "user");
        }
        let database = exact(url.path().trim_start_matches('/'));
        if !given("dbname") && !database.is_empty() {
            assert_eq!(info.database, database, "database");
        }
        if !given("port") {
            assert_eq!(info.port, url.port().unwrap_or(5432), "port");
        }
    }

    // The password as the parser sees it, raw and decoded.
    let Some(raw) = url.password() else {
        return;
    };
    let mut without = url.clone();
    if without.set_password(None).is_err() {
        return;
    }
    let without_text = without.as_str().to_string();
    // What the same URL without a password says: text there is not the password's doing.
    let without_says = match ConnectionInfo::from_url(&without_text) {
        Ok(info) => format!("{info:?} {}", info.redacted()),
        Err(err) => err.message().to_string(),
    };
    for secret in [raw.to_string(), decode(raw)] {
        // A short password or one written elsewhere in the URL (user, query, host) may show up
        // legitimately: only a distinctive one that is nowhere else must never be shown.
        if secret.chars().count() < 4
            || without_text.contains(&secret)
            || decode(&without_text).contains(&secret)
            || without_says.contains(&secret)
            || "postgresql://:***@[]".contains(&secret)
        {
            continue;
        }
        match &result {
            Err(err) => assert!(
                !err.message().contains(&secret),
                "the error shows the password {secret:?}: {err}"
            ),
            Ok(info) => {
                // (`?password=` may override or clear the password: no check of which one won.)
                if !secret.contains(['*', ':', '@', '/', '[', ']']) {
                    for shown in [format!("{info:?}"), info.redacted()] {
                        assert!(
                            !shown.contains(&secret),
                            "the redacted form shows the password {secret:?}: {shown}"
                        );
                    }
                }
            }
        }
    }
});
