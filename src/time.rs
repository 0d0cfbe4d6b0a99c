//! Calendar arithmetic for build dates (UTC), so no clock or time zone leaks in.

/// `SOURCE_DATE_EPOCH` as the caller read it from the environment (the
/// library reads none): seconds since 1970, or `None` when unset or empty.
pub fn source_date_epoch(raw: Option<&str>) -> Result<Option<i64>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("SOURCE_DATE_EPOCH='{v}' is not a number of seconds")),
    }
}

/// 2000-01-01T00:00:00Z: used when neither SOURCE_DATE_EPOCH nor a book date is set.
pub const DEFAULT_EPOCH: i64 = 946_684_800;

/// Days since 1970-01-01 → (year, month, day). Howard Hinnant's civil_from_days.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` → epoch seconds at midnight UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.get(..2)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400)
}

pub fn format_date(epoch: i64) -> String {
    let (y, m, d) = civil_from_days(epoch.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn format_datetime(epoch: i64) -> String {
    let secs = epoch.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_date(epoch),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// (year, month, day, hour, minute, second) in UTC.
pub fn parts(epoch: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (y, m, d) = civil_from_days(epoch.div_euclid(86_400));
    let s = epoch.rem_euclid(86_400) as u32;
    (y, m, d, s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_values() {
        assert_eq!(source_date_epoch(None), Ok(None));
        assert_eq!(source_date_epoch(Some(" ")), Ok(None));
        assert_eq!(
            source_date_epoch(Some("1700000000\n")),
            Ok(Some(1_700_000_000))
        );
        assert!(
            source_date_epoch(Some("yesterday"))
                .unwrap_err()
                .contains("yesterday")
        );
    }

    #[test]
    fn round_trips() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_datetime(DEFAULT_EPOCH), "2000-01-01T00:00:00Z");
        assert_eq!(format_datetime(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_date("2026-11-25"), Some(1_795_564_800));
        assert_eq!(format_date(parse_date("2024-02-29").unwrap()), "2024-02-29");
        assert_eq!(parse_date("2026-13-01"), None);
    }
}
