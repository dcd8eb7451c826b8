//! Business calendars: counting deadlines in an authority's business hours
//! and time zone.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan as _};

use crate::CoreError;

#[derive(Clone, Debug)]
pub struct Calendar {
    tz: TimeZone,
    days: [bool; 7],
    open: Time,
    close: Time,
}

const DAY_NAMES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

fn day_index(name: &str) -> Option<usize> {
    DAY_NAMES
        .iter()
        .position(|(n, _)| *n == name.trim().to_ascii_lowercase())
}

impl Calendar {
    /// Parses `Europe/Moscow`, `mon-fri` (or `mon,wed,fri`), `09:00-18:00`.
    pub fn parse(time_zone: &str, days: &str, hours: &str) -> Result<Calendar, CoreError> {
        let tz = TimeZone::get(time_zone).map_err(|_| {
            CoreError::invalid(format!("time zone {time_zone:?} is not an IANA time zone"))
        })?;
        let mut set = [false; 7];
        for part in days.split(',') {
            let bad = || {
                CoreError::invalid(format!(
                    "business days {days:?}: use e.g. \"mon-fri\" or \"mon,tue,wed\""
                ))
            };
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day_index(a).ok_or_else(bad)?, day_index(b).ok_or_else(bad)?);
                    if a > b {
                        return Err(bad());
                    }
                    set[a..=b].iter_mut().for_each(|d| *d = true);
                }
                None => set[day_index(part).ok_or_else(bad)?] = true,
            }
        }
        let bad_hours = || {
            CoreError::invalid(format!(
                "business hours {hours:?}: use e.g. \"09:00-18:00\""
            ))
        };
        let (open, close) = hours.split_once('-').ok_or_else(bad_hours)?;
        let open = Time::strptime("%H:%M", open.trim()).map_err(|_| bad_hours())?;
        let close = Time::strptime("%H:%M", close.trim()).map_err(|_| bad_hours())?;
        if open >= close {
            return Err(bad_hours());
        }
        Ok(Calendar {
            tz,
            days: set,
            open,
            close,
        })
    }

    pub fn utc_office() -> Calendar {
        Calendar {
            tz: TimeZone::UTC,
            days: [true, true, true, true, true, false, false],
            open: Time::constant(9, 0, 0, 0),
            close: Time::constant(18, 0, 0, 0),
        }
    }

    /// Whether `at` falls on a business day within business hours.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = at.to_zoned(self.tz.clone());
        let day = local.weekday().to_monday_zero_offset() as usize;
        let time = local.time();
        self.days.get(day).copied().unwrap_or(false) && time >= self.open && time < self.close
    }

    /// Business minutes in one business day.
    pub fn day_minutes(&self) -> i64 {
        let span = self.close.since(self.open).unwrap_or_default();
        span.get_hours() as i64 * 60 + span.get_minutes()
    }

    /// The instant `minutes` business minutes after `start`.
    pub fn add_business_minutes(&self, start: Timestamp, minutes: i64) -> Timestamp {
        let mut remaining = minutes.max(0);
        let mut cursor = start.to_zoned(self.tz.clone());
        // A year of calendar days is more than any deadline needs; the bound
        // only guards against a calendar without business days.
        for _ in 0..3700 {
            let date = cursor.date();
            let weekday = date.weekday().to_monday_zero_offset() as usize;
            if self.days[weekday] {
                let open = date.to_datetime(self.open).to_zoned(self.tz.clone());
                let close = date.to_datetime(self.close).to_zoned(self.tz.clone());
                if let (Ok(open), Ok(close)) = (open, close) {
                    let begin = if cursor > open { cursor.clone() } else { open };
                    if begin < close {
                        let available =
                            (close.timestamp().as_second() - begin.timestamp().as_second()) / 60;
                        if remaining <= available {
                            return begin
                                .timestamp()
                                .checked_add(remaining.minutes())
                                .unwrap_or(begin.timestamp());
                        }
                        remaining -= available;
                    }
                }
            }
            let next = date
                .tomorrow()
                .ok()
                .and_then(|d| d.to_zoned(self.tz.clone()).ok());
            match next {
                Some(n) => cursor = n,
                None => break,
            }
        }
        start
    }

    /// `days` business days after `start` (each a full business day's hours).
    pub fn add_business_days(&self, start: Timestamp, days: u32) -> Timestamp {
        self.add_business_minutes(start, i64::from(days) * self.day_minutes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn business_hours_skip_nights_and_weekends() {
        let cal = Calendar::parse("Europe/Moscow", "mon-fri", "09:00-18:00").unwrap();
        // Friday 2026-11-20 17:00 Moscow (14:00 UTC) + 2 business hours = Monday 10:00 Moscow.
        let due = cal.add_business_minutes(ts("2026-11-20T14:00:00Z"), 120);
        assert_eq!(due, ts("2026-11-23T07:00:00Z"));
        // Two business days from Monday 10:00 end on Wednesday 10:00.
        let due = cal.add_business_days(ts("2026-11-23T07:00:00Z"), 2);
        assert_eq!(due, ts("2026-11-25T07:00:00Z"));
        // Received on Saturday night: the clock starts on Monday at 09:00.
        let due = cal.add_business_minutes(ts("2026-11-21T20:00:00Z"), 60);
        assert_eq!(due, ts("2026-11-23T07:00:00Z"));
    }

    #[test]
    fn calendars_are_validated() {
        assert!(Calendar::parse("Mars/Olympus", "mon-fri", "09:00-18:00").is_err());
        assert!(Calendar::parse("UTC", "fri-mon", "09:00-18:00").is_err());
        assert!(Calendar::parse("UTC", "mon-fri", "18:00-09:00").is_err());
        assert!(Calendar::parse("UTC", "mon,wed", "8:00-17:00").is_ok());
        assert_eq!(Calendar::utc_office().day_minutes(), 540);
    }
}
